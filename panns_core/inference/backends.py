"""Who runs the model for the Tagger: PyTorch, or ONNX Runtime (the faster path on CPU).

A backend takes one batch of equal-length windows, (batch, samples) float32 at the model's rate,
and returns the model's outputs as float32 numpy arrays under the model's own names
(`clipwise_output`, `embedding` and, for Cnn14_DecisionLevelMax, `framewise_output`). Windowing,
label views and result building stay in the Tagger, so a TaggingResult is the same object
whichever backend ran.

Selection ("auto"): ONNX Runtime on CPU in fp32 when it is installed and the model exports and
loads; PyTorch on CUDA/MPS (ONNX Runtime's GPU providers are not used) and for bf16. Under
"auto" a failing ONNX Runtime falls back to PyTorch with one warning line; under "onnx" it is a
BackendError.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Protocol

import numpy as np
import torch

from panns_core.errors import BackendError, PannsError

BACKENDS = ("auto", "torch", "onnx")
log = logging.getLogger(__name__)


class Backend(Protocol):
    name: str

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """(batch, samples) float32 -> the model's outputs as float32 arrays."""


class TorchBackend:
    """The model itself, on its device, optionally under bf16 autocast."""

    name = "torch"

    def __init__(self, model: torch.nn.Module, device: torch.device, precision: str = "fp32"):
        self.model, self.device, self.precision = model, device, precision

    def _autocast(self):
        if self.precision == "bf16":
            return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)
        return nullcontext()

    @torch.no_grad()
    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        x = torch.from_numpy(np.ascontiguousarray(batch, np.float32)).to(self.device)  # (batch, samples)
        with self._autocast():
            out = self.model(x)
        return {name: value.float().cpu().numpy() for name, value in out.items()}


def onnx_unsuitable(device: torch.device, precision: str) -> str | None:
    """Why ONNX Runtime is not used for this device/precision, or None when it can be."""
    if device.type != "cpu":
        return f"runs on CPU only, and the device is {device.type!r} (PyTorch stays the path on GPUs)"
    if precision != "fp32":
        return f"runs fp32 only, and {precision} was asked for"
    return None


def select_backend(
    choice, model: torch.nn.Module, device: torch.device, precision: str = "fp32", threads: int | None = None
) -> Backend:
    """The backend named by `choice` ('auto', 'torch', 'onnx'), or `choice` itself if it already is one."""
    if not isinstance(choice, str):
        if not callable(getattr(choice, "run", None)):
            raise PannsError(f"backend must be one of {', '.join(BACKENDS)} or a backend object, got {choice!r}")
        return choice  # another Tagger's backend: the same weights, no second export or session
    if choice not in BACKENDS:
        raise PannsError(f"backend must be one of {', '.join(BACKENDS)}, got {choice!r}")
    if choice == "torch":
        return TorchBackend(model, device, precision)
    reason = onnx_unsuitable(device, precision)
    if choice == "onnx":
        if reason:
            raise BackendError(f"backend='onnx' {reason}; use backend='torch' or 'auto'")
        from panns_core.inference.onnx_runtime import OnnxBackend

        return OnnxBackend.for_model(model, threads=threads)
    if reason:
        return TorchBackend(model, device, precision)
    try:
        from panns_core.inference.onnx_runtime import OnnxBackend

        return OnnxBackend.for_model(model, threads=threads)
    except BackendError as e:
        log.warning(
            "ONNX Runtime cannot run %s (%s); using PyTorch instead",
            getattr(model, "arch_name", type(model).__name__),
            e,
        )
        return TorchBackend(model, device, precision)
