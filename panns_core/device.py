"""Choosing the device and the precision, once for every front end (Tagger, training, evaluation)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Optional

import torch

from panns_core.errors import ConfigError


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()


def pick_device(name: str = "auto", local_rank: Optional[int] = None) -> torch.device:
    """'auto': CUDA, then Apple MPS, then CPU. Under torchrun, `local_rank` picks this process's GPU.

    An explicit device that this machine lacks is a ConfigError, not an assertion deep in torch.
    """
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if _mps_available() else "cpu"
    if name == "cuda" and local_rank is not None:
        name = f"cuda:{local_rank}"
    try:
        device = torch.device(name)
    except RuntimeError as e:
        raise ConfigError(f"unknown device {name!r}: {e}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} asked for, but this PyTorch sees no CUDA GPU; use 'auto' or 'cpu'")
    if device.type == "mps" and not _mps_available():
        raise ConfigError(f"device {name!r} asked for, but Apple MPS is not available; use 'auto' or 'cpu'")
    return device


def autocast(device: torch.device, enabled: bool = True, dtype: Optional[torch.dtype] = None):
    """The one mixed-precision switch. With `dtype`, that type on any device (the Tagger's bf16);
    without, the GPU's best half type (bf16 where supported, else fp16) and nothing on CPU (training)."""
    if not enabled:
        return nullcontext()
    if dtype is None:
        if device.type != "cuda":
            return nullcontext()
        dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast(device_type=device.type, dtype=dtype)
