"""The settings of a training run, in one dataclass: CLI options, saved config and checkpoint all come from it.

Defaults are PANNs' (Kong et al. 2020): batch 32, Adam at 1e-3, balanced sampling, mixup with
alpha 1.0 (SpecAugment is part of every model's training-mode forward pass).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from panns_core.errors import ConfigError

PRECISIONS = ("fp32", "bf16")  # the Tagger's words (`Tagger(precision=)`, `panns tag --precision`)


def _help(text: str, choices: tuple | None = None, **kw):
    return field(metadata={"help": text, "choices": choices}, **kw)


@dataclass
class FitConfig:
    train: str = _help("packed training file (HDF5, from `python -m train pack`)")
    eval: str | None = _help("packed evaluation file; without one the run is not evaluated", default=None)
    arch: str = _help("registered model architecture", default="Cnn14")
    init_from: str | None = _help(
        "start from this general checkpoint (a released name, .pth path, owner/repo or "
        "hf://owner/repo/file), its head cut to the trained label set: fine-tuning",
        default=None,
    )
    run_id: str | None = _help("name of the run (default: <arch>-<date>-<time>); needed with --resume", default=None)
    runs_dir: str = _help("checkpoints and config go to RUNS_DIR/RUN_ID", default="runs")
    results: str | None = _help("results root the dashboard reads (an empty string writes none)", default="results")
    max_iterations: int = _help("stop after this many optimiser steps", default=10000)
    eval_every: int = _help("evaluate and checkpoint every this many iterations", default=2000)
    batch_size: int = _help("clips per optimiser step, over all GPUs (after mixup)", default=32)
    lr: float = _help("Adam learning rate", default=1e-3)
    balanced: bool = _help("balanced sampler: visit classes in turn (else shuffle all clips)", default=True)
    mixup_alpha: float = _help("mixup Beta(alpha, alpha); 0 turns mixup off", default=1.0)
    data_fraction: float = _help("train on this seeded fraction of the training clips", default=1.0)
    seed: int = _help("seeds sampling, mixup, dropout and SpecAugment", default=0)
    num_workers: int = _help("data-loader worker processes", default=4)
    device: str = _help("auto, cpu, cuda or cuda:N", default="auto")
    precision: str = _help(
        "bf16: mixed precision on GPU (bf16 autocast, fp16 with loss scaling where the GPU has no bf16); "
        "fp32: full precision. CPU always trains in fp32",
        choices=PRECISIONS,
        default="bf16",
    )
    eval_batch_size: int = _help("clips per evaluation batch", default=32)
    log_every: int = _help("print the training loss every this many iterations", default=10)
    resume: bool = _help("continue RUNS_DIR/RUN_ID from its last checkpoint", default=False)
    notes: str = _help("free text kept with the results", default="")

    def __post_init__(self):
        if self.batch_size < 1 or self.max_iterations < 0 or self.eval_every < 1:
            raise ConfigError("batch_size and eval_every must be positive, max_iterations non-negative")
        if not 0.0 < self.data_fraction <= 1.0:
            raise ConfigError(f"data_fraction must be in (0, 1], got {self.data_fraction}")
        if self.precision not in PRECISIONS:
            raise ConfigError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.mixup_alpha < 0:
            raise ConfigError(f"mixup_alpha must be >= 0, got {self.mixup_alpha}")
        from panns_core.models.registry import list_models

        if self.arch not in list_models():
            raise ConfigError(f"unknown architecture {self.arch!r}; registered: {', '.join(list_models())}")
        if self.resume and not self.run_id:
            raise ConfigError("--resume needs the --run-id of the run to continue")

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    # Settings that must not change when a run is resumed: they decide which batches come next.
    SAME_ON_RESUME = ("train", "arch", "batch_size", "lr", "balanced", "mixup_alpha", "data_fraction", "seed")

    def resume_conflicts(self, saved: dict) -> list:
        return [
            f"{k}: saved {saved.get(k)!r}, now {getattr(self, k)!r}"
            for k in self.SAME_ON_RESUME
            if saved.get(k) != getattr(self, k)
        ]
