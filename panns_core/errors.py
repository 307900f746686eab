"""The package's own exception types.

Front ends (CLI, demo, dashboard) catch `PannsError` and show its message; anything else is a bug.
Each subclass also derives from the built-in type a caller would naturally expect.
"""


class PannsError(Exception):
    """Base class of every error this package raises on purpose."""


class AudioError(PannsError, ValueError):
    """The input is not usable audio: missing, not audio, corrupt, empty, NaN/Inf, bad sample rate, too long."""


class CheckpointError(PannsError, ValueError):
    """A checkpoint file cannot be used: truncated, wrong architecture, missing or unexpected weights."""


class WeightsUnavailableError(PannsError, FileNotFoundError):
    """Pretrained weights are not in the cache and cannot be fetched (offline, or a failed download)."""


class DownloadError(WeightsUnavailableError):
    """A download failed or its size/checksum did not match; the partial file is kept for resuming."""


class BackendError(PannsError, RuntimeError):
    """The inference backend asked for cannot run: ONNX Runtime missing or failing, or asked for off CPU / in bf16."""
