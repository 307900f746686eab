"""Stage 5, `python -m train evaluate`: score any checkpoint on a packed evaluation set.

Ours or an official general PANNs checkpoint (`--checkpoint`: a released name such as `Cnn14`, a
.pth path, owner/repo or hf://owner/repo/file): the model's outputs are viewed on the pack's classes,
so a general model and an animal-only model are scored on the same clips and the same classes.
Writes a results run of kind "evaluate".
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from panns_core.device import pick_device
from panns_core.errors import ConfigError
from panns_core.evaluation import reporting
from panns_core.evaluation.scoring import evaluate
from panns_core.labels.sets import get_label_set
from panns_core.training.config import PRECISIONS
from panns_core.training.dataset import PackedDataset
from panns_core.weights.checkpoints import load_checkpoint
from train.dataclass_cli import add_arguments as _add_config_arguments
from train.dataclass_cli import from_namespace


@dataclass
class EvaluateConfig:
    checkpoint: str = field(
        metadata={"help": "the weights: a released name (e.g. Cnn14), a .pth path, owner/repo or hf://owner/repo/file"}
    )
    eval: str = field(metadata={"help": "packed evaluation file (HDF5)"})
    arch: str | None = field(default=None, metadata={"help": "architecture, if the checkpoint does not say"})
    head_labels: str | None = field(
        default=None,
        metadata={"help": "CSV/JSON naming the outputs of a checkpoint whose head matches no known label set"},
    )
    run_id: str | None = field(default=None, metadata={"help": "results folder name (default: from the checkpoint)"})
    results: str = field(default="results", metadata={"help": "results root the dashboard reads"})
    batch_size: int = field(default=32, metadata={"help": "clips per batch"})
    device: str = field(default="auto", metadata={"help": "auto, cpu, cuda or cuda:N"})
    precision: str = field(
        default="fp32",
        metadata={
            "help": "bf16: mixed precision on GPU, faster, but the figures written as measured are then not "
            "fp32; fp32: full precision. CPU always runs fp32",
            "choices": PRECISIONS,
        },
    )
    num_workers: int = field(default=2, metadata={"help": "data-loader worker processes"})
    notes: str = field(default="", metadata={"help": "free text kept with the results"})


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _add_config_arguments(parser, EvaluateConfig)


def evaluate_checkpoint(cfg: EvaluateConfig) -> dict:
    if cfg.precision not in PRECISIONS:
        raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {cfg.precision!r}")
    device = pick_device(cfg.device)
    use_amp = cfg.precision != "fp32" and device.type == "cuda"  # reduced precision only on a GPU
    loaded = load_checkpoint(cfg.checkpoint, arch=cfg.arch, head_labels=cfg.head_labels)
    model = loaded.model.to(device)
    data = PackedDataset(cfg.eval)
    data_labels = get_label_set(data.info.label_set)
    head_labels = loaded.head_labels
    try:
        scores = evaluate(
            model,
            data,
            head_labels,
            data_labels,
            batch_size=cfg.batch_size,
            device=device,
            amp=use_amp,
            num_workers=cfg.num_workers,
        )
    finally:
        data.close()
    iteration = loaded.iteration
    released = loaded.weights.name if loaded.weights is not None else None
    path = Path(cfg.checkpoint)
    # A run's checkpoint is always checkpoint.pth: its folder names it; any other file names itself.
    stem = released or (path.parent.name if path.name == "checkpoint.pth" else path.stem)
    run_id = cfg.run_id or f"eval-{loaded.arch}-{stem}-on-{data_labels.name}-{datetime.now():%Y%m%d-%H%M%S}"
    general = head_labels.name != data_labels.name
    path = reporting.write(
        cfg.results,
        run_id=run_id,
        kind="evaluate",
        model=loaded.arch,
        trained_on=head_labels.name,
        labels=data_labels,
        data={"eval": cfg.eval, "eval_clips": len(data)},
        checkpoint=released or str(loaded.path),
        iterations=iteration,
        settings=asdict(cfg),
        scores=scores,
        classwise=reporting.classwise_rows(scores, data_labels, iteration),
        curve=[reporting.curve_row(scores, iteration, None)] if iteration is not None else [],
        hardware_text=reporting.hardware(device, 1, use_amp),
        notes=cfg.notes,
        display_name=f"{loaded.arch} ({head_labels.name} model"
        + (f", viewed on {data_labels.name})" if general else ")"),
        eval_pack=data,
    )
    return {"run_id": run_id, "results": path, "scores": scores, "labels": data_labels}


def run(args: argparse.Namespace) -> dict:
    summary = evaluate_checkpoint(from_namespace(EvaluateConfig, args))
    s, labels = summary["scores"], summary["labels"]
    print(
        f"mAP {s.mAP:.4f}  mean AUC {s.mean_auc:.4f}  d' {s.d_prime:.3f}  over {len(s.scored)} of {len(labels)} classes"
    )
    if s.left_out:
        print("left out (no positive clip): " + ", ".join(labels.names[k] for k in s.left_out))
    print(f"results -> {summary['results']}")
    return summary
