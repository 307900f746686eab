"""The training loop: one readable function from packed data to checkpoints and a results folder.

In the spirit of nanoGPT's train.py, everything happens in order in `fit`, top to bottom:
set up (torchrun's DDP if launched by it), data, model and optimiser, resume, then a loop of
"evaluate and checkpoint every N iterations; take a batch; step". Iterations, not epochs: with
balanced sampling there is no natural epoch, and PANNs reports everything per iteration.

Exact resumption: a checkpoint holds model, optimiser, sampler state, iteration, the curve so far
and the config. Everything else random is derived from (seed, rank, iteration) at each step
(mixup weights, and torch's generator that drives dropout and SpecAugment), so a run killed and
resumed sees the same batches and the same augmentation as one that never stopped.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, Subset

from panns_core.device import autocast, pick_device
from panns_core.errors import CheckpointError, ConfigError
from panns_core.evaluation import reporting
from panns_core.evaluation.scoring import evaluate
from panns_core.labels.sets import LabelSet, get_label_set
from panns_core.models.registry import create_model
from panns_core.training.config import FitConfig
from panns_core.training.dataset import PackedDataset
from panns_core.training.mixup import mix, mixup_lambdas
from panns_core.training.sampler import BalancedSampler, ShuffleSampler
from panns_core.weights.checkpoints import check_state_dict, load_checkpoint, read_checkpoint, save_checkpoint

CHECKPOINT = "checkpoint.pth"


def step_rng(seed: int, rank: int, iteration: int) -> np.random.Generator:
    return np.random.default_rng([seed, rank, iteration])


class RunExistsError(ConfigError, FileExistsError):
    """The run folder already holds a checkpoint and --resume was not given."""


def start_from_general(model, source: str, labels: LabelSet) -> None:
    """Fine-tuning: copy a checkpoint's weights, its head cut to the trained classes (their trained rows)."""
    loaded = load_checkpoint(source)
    general = loaded.model
    if loaded.arch != model.arch_name:
        raise CheckpointError(f"{source} holds a {loaded.arch} model; this run trains {model.arch_name}")
    try:
        general.reset_head(labels, current=loaded.head_labels)
    except ConfigError as e:
        raise CheckpointError(
            f"cannot start a {labels.name} model ({len(labels)} classes) from {source}: {e}"
        ) from None
    check_state_dict(model, general.state_dict(), source)
    model.load_state_dict(general.state_dict())


def fit(cfg: FitConfig) -> dict:
    # ---- processes and device: one process per GPU under torchrun, else just this one ----
    ddp = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if ddp:
        dist.init_process_group("nccl" if torch.cuda.is_available() and cfg.device != "cpu" else "gloo")
        rank, world_size, local_rank = dist.get_rank(), dist.get_world_size(), int(os.environ["LOCAL_RANK"])
    else:
        rank, world_size, local_rank = 0, 1, 0
    master = rank == 0
    device = pick_device(cfg.device, local_rank)  # an indexed cuda:N: set_device and DDP need one
    if device.type == "cuda":
        torch.cuda.set_device(device)
    use_amp = cfg.precision != "fp32" and device.type == "cuda"  # reduced precision only on a GPU
    run_id = cfg.run_id or f"{cfg.arch}-{datetime.now():%Y%m%d-%H%M%S}"
    run_dir = Path(cfg.runs_dir) / run_id
    checkpoint_path = run_dir / CHECKPOINT
    if not cfg.resume and checkpoint_path.exists():
        raise RunExistsError(f"{run_dir} already holds a run: pass --resume to continue it, or another --run-id")

    # ---- data: the sampler decides every batch; workers only read clips ----
    train_set = PackedDataset(cfg.train)
    labels = get_label_set(train_set.info.label_set)
    clips = np.arange(len(train_set))
    if cfg.data_fraction < 1.0:
        keep = max(1, round(len(clips) * cfg.data_fraction))
        clips = np.sort(np.random.default_rng(cfg.seed).permutation(len(clips))[:keep])
    targets = train_set.targets[clips]
    clips_per_step = cfg.batch_size * (2 if cfg.mixup_alpha > 0 else 1)  # mixup turns 2B clips into B
    if clips_per_step % world_size or (cfg.mixup_alpha > 0 and (clips_per_step // world_size) % 2):
        raise ConfigError(f"batch size {cfg.batch_size} does not split into mixup pairs over {world_size} processes")
    if cfg.balanced:
        sampler = BalancedSampler(targets, clips_per_step, cfg.seed, rank, world_size)
        if master and sampler.missing_classes:
            print(
                f"{len(sampler.missing_classes)} classes have no training clip and are never sampled: "
                + ", ".join(labels.names[k] for k in sampler.missing_classes[:10])
            )
    else:
        sampler = ShuffleSampler(len(clips), clips_per_step, cfg.seed, rank, world_size)
    loader = DataLoader(
        Subset(train_set, clips.tolist()),
        batch_sampler=sampler,
        num_workers=cfg.num_workers,
        pin_memory=device.type == "cuda",
        persistent_workers=cfg.num_workers > 0,
    )
    eval_set = PackedDataset(cfg.eval) if cfg.eval and master else None
    eval_labels = get_label_set(eval_set.info.label_set) if eval_set else labels
    train_counts = dict(zip(labels.mids, targets.sum(axis=0).tolist()))

    # ---- model and optimiser (PANNs: Adam, amsgrad, no weight decay) ----
    torch.manual_seed(cfg.seed)  # the same initial weights on every rank and in every repeat
    model = create_model(cfg.arch, classes_num=len(labels))
    if cfg.init_from and not cfg.resume:
        start_from_general(model, cfg.init_from, labels)
    model.to(device)
    optimizer = torch.optim.Adam(
        model.parameters(), lr=cfg.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=True
    )
    bf16 = use_amp and torch.cuda.is_bf16_supported()
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and not bf16)  # bf16 needs no loss scaling

    # ---- resume: everything that decides what comes next ----
    iteration, history = 0, {"curve": [], "classwise": []}
    if cfg.resume:
        saved = read_checkpoint(checkpoint_path, map_location=device)
        saved_cfg = saved.get("config", {}).get("fit", {})
        conflicts = cfg.resume_conflicts(saved_cfg)
        if conflicts:
            raise ConfigError(f"cannot resume {run_dir} with other settings: " + "; ".join(conflicts))
        check_state_dict(model, saved["model"], str(checkpoint_path))
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        sampler.load_state_dict(saved["sampler"])
        if saved.get("scaler"):  # a run saved without loss scaling (CPU, bf16) resumes with a fresh scaler
            scaler.load_state_dict(saved["scaler"])
        iteration, history = saved["iteration"], saved["history"]
        if master:
            print(f"resumed {run_dir} at iteration {iteration}")
    evaluated_at = history["curve"][-1]["iteration"] if history["curve"] else None
    if master:
        run_dir.mkdir(parents=True, exist_ok=True)
        (run_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2) + "\n")
    net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None) if ddp else model
    settings = {
        "batch_size": cfg.batch_size,
        "balanced": cfg.balanced,
        "mixup": cfg.mixup_alpha > 0,
        "mixup_alpha": cfg.mixup_alpha,
        "spec_augment": True,
        "data_fraction": cfg.data_fraction,
        "lr": cfg.lr,
        "optimizer": "Adam (amsgrad)",
        "seed": cfg.seed,
        "init_from": cfg.init_from,
        "processes": world_size,
        "precision": ("bf16" if bf16 else "fp16") if use_amp else "fp32",  # what ran, not what was asked
    }
    hardware = reporting.hardware(device, world_size, use_amp)

    # ---- the loop ----
    model.train()
    batches = iter(loader)
    losses, tick = [], time.time()
    last_scores = None
    while True:
        if (
            master
            and (iteration % cfg.eval_every == 0 or iteration == cfg.max_iterations)
            and iteration != evaluated_at
        ):
            loss = float(np.mean(losses)) if losses else None
            losses = []
            if eval_set is not None:
                # Scored in fp32 even when training uses AMP: these figures go to results/ as measured.
                last_scores = evaluate(
                    model, eval_set, labels, eval_labels, batch_size=cfg.eval_batch_size, device=device, amp=False
                )
                history["curve"].append(reporting.curve_row(last_scores, iteration, loss))
                history["classwise"] += reporting.classwise_rows(
                    last_scores, eval_labels, iteration, [train_counts.get(m, 0) for m in eval_labels.mids]
                )
                print(
                    f"iter {iteration}: eval mAP {last_scores.mAP:.4f}, mean AUC {last_scores.mean_auc:.4f}"
                    + (f", train loss {loss:.4f}" if loss is not None else "")
                )
            save_checkpoint(
                checkpoint_path,
                model,
                label_set=labels.name,
                config={"fit": cfg.to_dict()},
                optimizer=optimizer.state_dict(),
                sampler=sampler.state_after(iteration),
                scaler=scaler.state_dict(),
                iteration=iteration,
                history=history,
            )
            if cfg.results and eval_set is not None:
                reporting.write(
                    cfg.results,
                    run_id=run_id,
                    kind="fit",
                    model=cfg.arch,
                    trained_on=labels.name,
                    labels=eval_labels,
                    data={"train": cfg.train, "train_clips": len(clips), "eval": cfg.eval, "eval_clips": len(eval_set)},
                    checkpoint=str(checkpoint_path),
                    iterations=iteration,
                    settings=settings,
                    scores=last_scores,
                    classwise=history["classwise"],
                    curve=history["curve"],
                    hardware_text=hardware,
                    notes=cfg.notes,
                    display_name=f"{cfg.arch} trained on {labels.name} clips",
                    eval_pack=eval_set,
                )
            evaluated_at = iteration
            tick = time.time()  # the step timing below leaves evaluation out
        if ddp:
            dist.barrier()  # the others wait while rank 0 evaluates and saves
        if iteration >= cfg.max_iterations:
            break

        batch = next(batches)
        x = batch["waveform"].to(device, non_blocking=True)  # (clips, samples)
        y = batch["target"].to(device, non_blocking=True)  # (clips, classes)
        rng = step_rng(cfg.seed, rank, iteration)
        torch.manual_seed(int(rng.integers(2**62)))  # dropout and SpecAugment masks
        lam = mixup_lambdas(len(x), cfg.mixup_alpha, rng).to(device) if cfg.mixup_alpha > 0 else None
        with autocast(device, use_amp):
            out = net(x, mixup_lambda=lam)["clipwise_output"]  # (batch, classes)
        if lam is not None:
            y = mix(y, lam)
        loss = F.binary_cross_entropy(out.float(), y)  # outside autocast: BCE is unsafe in half precision
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
        iteration += 1
        losses.append(loss.item())
        if master and iteration % cfg.log_every == 0:
            elapsed, tick = time.time() - tick, time.time()
            print(f"iter {iteration}: loss {loss.item():.4f} ({elapsed / cfg.log_every:.2f} s/iter)")

    for dataset in (train_set, eval_set):
        if dataset is not None:
            dataset.close()
    if ddp:
        dist.destroy_process_group()
    results_dir = Path(cfg.results) / run_id if cfg.results and eval_set is not None else None
    return {
        "run_id": run_id,
        "iteration": iteration,
        "checkpoint": checkpoint_path,
        "results": results_dir,
        "curve": history["curve"],
    }
