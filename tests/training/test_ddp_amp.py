"""Data-parallel training on CPU (gloo) and the GradScaler path of the real training loop.

DDP: two processes, each training on its half of every batch, must end with the weights of one process
training on whole batches (same seed, same total batch), to within float32 reduction noise.
AMP: the loop's loss-scaling lines (scale, step, update, save and resume the scaler) run on CPU with a
CPU GradScaler put in place of the CUDA one; the lines that only run on a GPU are tested below under
`skipif(not cuda)` and listed in NOTES-tests.md.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import train_worker

from panns_core.training.config import FitConfig
from panns_core.training.loop import fit
from panns_core.weights.checkpoints import read_checkpoint
from train.pack import pack

WORKER = Path(train_worker.__file__)
TOLERANCE = 1e-5  # float32: the all-reduce sums in another order than one process does
CLASSES = ["/m/05tny_", "/m/01yrx", "/m/07qf0zm", "/m/015p6"]  # Bark, Cat, Howl, Bird


@pytest.fixture(scope="module")
def packed(tmp_path_factory) -> Path:
    """8 one-second synthetic clips, two per class, each class its own tone: a real packed HDF5."""
    folder = tmp_path_factory.mktemp("ddp")
    items = []
    t = np.arange(32000) / 32000
    for i in range(8):
        wave = 0.3 * np.sin(2 * np.pi * (300 + 700 * (i % 4)) * t) + 0.02 * np.random.RandomState(i).randn(32000)
        path = folder / f"clip{i}.wav"
        sf.write(path, wave.astype(np.float32), 32000)
        items.append((f"clip{i}", path, [CLASSES[i % 4]]))
    assert pack(items, folder / "train.h5")["packed"] == 8
    return folder / "train.h5"


def config(train: Path, runs: Path, **over) -> dict:
    values = dict(
        train=str(train),
        arch=train_worker.DETERMINISTIC,
        run_id="run",
        runs_dir=str(runs),
        results="",
        max_iterations=4,
        eval_every=1000,
        batch_size=4,
        mixup_alpha=0.0,
        num_workers=0,
        device="cpu",
        log_every=1000,
        lr=1e-2,
        balanced=False,
        seed=3,
    )
    values.update(over)
    return values


def final(runs: Path) -> dict:
    return read_checkpoint(runs / "run" / "checkpoint.pth")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_ranks(cfg: dict, tmp_path: Path, world_size: int = 2) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    port = str(free_port())
    procs = []
    for rank in range(world_size):
        env = dict(
            os.environ,
            WORLD_SIZE=str(world_size),
            RANK=str(rank),
            LOCAL_RANK=str(rank),
            MASTER_ADDR="127.0.0.1",
            MASTER_PORT=port,
            OMP_NUM_THREADS="1",
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, str(WORKER), str(path)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    outputs = [p.communicate(timeout=600)[0] for p in procs]
    for p, out in zip(procs, outputs):
        assert p.returncode == 0, out


def max_diff(a: dict, b: dict) -> float:
    return max(float((a[k].float() - b[k].float()).abs().max()) for k in a)


@pytest.mark.slow
def test_two_gloo_processes_train_like_one_with_the_same_total_batch(packed, tmp_path):
    fit(FitConfig(**config(packed, tmp_path / "single")))
    one = final(tmp_path / "single")
    run_ranks(config(packed, tmp_path / "ddp"), tmp_path)
    two = final(tmp_path / "ddp")
    assert one["iteration"] == two["iteration"] == 4
    assert set(one["model"]) == set(two["model"])
    assert max_diff(one["model"], two["model"]) < TOLERANCE
    for key, state in one["optimizer"]["state"].items():  # Adam's moments too
        for name, tensor in state.items():
            torch.testing.assert_close(tensor, two["optimizer"]["state"][key][name], atol=TOLERANCE, rtol=1e-4)
    # the comparison can fail: training moved the weights far more than the tolerance, and a run on half the
    # batch (what one rank would do if the gradients were not averaged) ends elsewhere
    fit(FitConfig(**config(packed, tmp_path / "init", max_iterations=0)))
    assert max_diff(final(tmp_path / "init")["model"], one["model"]) > 1000 * TOLERANCE
    fit(FitConfig(**config(packed, tmp_path / "half", batch_size=2)))
    assert max_diff(final(tmp_path / "half")["model"], one["model"]) > 100 * TOLERANCE
    assert two["config"]["fit"]["batch_size"] == 4


REAL_SCALER = torch.amp.GradScaler  # kept: the tests put their own in its place


class CpuScaler(REAL_SCALER):
    """The CUDA scaler the loop asks for, made on CPU and always enabled (the CPU has no fp16 autocast need)."""

    made = []

    def __init__(self, device="cuda", enabled=True, **kw):
        super().__init__("cpu", init_scale=2.0**12, growth_interval=3, enabled=True)
        type(self).made.append(self)


def test_grad_scaler_path_trains_like_fp32_and_resumes_its_state(packed, tmp_path, monkeypatch):
    fit(FitConfig(**config(packed, tmp_path / "plain", max_iterations=4)))
    monkeypatch.setattr(torch.amp, "GradScaler", CpuScaler)
    CpuScaler.made = []
    fit(FitConfig(**config(packed, tmp_path / "scaled", max_iterations=2, eval_every=2)))
    saved = final(tmp_path / "scaled")
    assert saved["scaler"]["scale"] == 2.0**12 and saved["scaler"]["_growth_tracker"] == 2  # 2 clean steps
    fit(FitConfig(**config(packed, tmp_path / "scaled", max_iterations=4, eval_every=2, resume=True)))
    saved = final(tmp_path / "scaled")
    # resumed with the saved tracker (2), two more clean steps: the scale grew once after the 3rd, tracker reset
    assert saved["scaler"]["scale"] == 2.0**13 and saved["scaler"]["_growth_tracker"] == 1
    # power-of-two scaling is exact in float32: the weights are the plain run's
    assert max_diff(saved["model"], final(tmp_path / "plain")["model"]) < 1e-6
    assert len(CpuScaler.made) == 2


def test_a_step_whose_gradients_overflow_is_skipped(packed, tmp_path, monkeypatch):
    """A loss scaled to infinity gives inf gradients: the scaler skips the step and halves the scale."""

    class Overflowing(CpuScaler):
        def __init__(self, *args, **kw):
            REAL_SCALER.__init__(self, "cpu", init_scale=float("inf"), growth_interval=1000)

    monkeypatch.setattr(torch.amp, "GradScaler", Overflowing)
    fit(FitConfig(**config(packed, tmp_path / "inf", max_iterations=2, eval_every=1000)))
    monkeypatch.undo()
    fit(FitConfig(**config(packed, tmp_path / "init", max_iterations=0)))
    saved, init = final(tmp_path / "inf"), final(tmp_path / "init")
    assert all(torch.isfinite(v).all() for v in saved["model"].values())
    assert max_diff(saved["model"], init["model"]) == 0  # no step was taken with inf/nan gradients


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_amp_trains_close_to_fp32(packed, tmp_path):
    """The GPU-only lines: autocast (bf16 or fp16), the enabled scaler, cuda device selection."""
    fit(FitConfig(**config(packed, tmp_path / "fp32", device="cuda", precision="fp32")))
    fit(FitConfig(**config(packed, tmp_path / "amp", device="cuda", precision="bf16")))
    fit(FitConfig(**config(packed, tmp_path / "init", device="cuda", max_iterations=0)))
    fp32, amp, init = (final(tmp_path / n) for n in ("fp32", "amp", "init"))
    assert amp["config"]["fit"]["precision"] == "bf16"
    if torch.cuda.is_bf16_supported():
        assert amp["scaler"] == {}  # bf16 needs no loss scaling
    else:
        assert amp["scaler"]["scale"] > 0
    for key in fp32["model"]:
        if fp32["model"][key].is_floating_point() and "extractor" not in key:
            moved32 = (fp32["model"][key] - init["model"][key]).flatten().float()
            moved16 = (amp["model"][key] - init["model"][key]).flatten().float()
            if moved32.norm() > 0:
                cos = torch.nn.functional.cosine_similarity(moved32, moved16, dim=0)
                assert cos > 0.95, (key, float(cos))
