"""The package's own exception types, and the one exit-code convention of every command line.

Front ends (CLI, demo, dashboard) catch `PannsError` and show its message; anything else is a bug
and shows its traceback. Each subclass also derives from the built-in type a caller would naturally
expect. Library code never raises SystemExit: only a command line's `main` turns errors into exit codes.
"""

from __future__ import annotations

import sys
from typing import Callable

# Exit codes shared by `python -m panns_core`, `python -m train` and the apps' command lines.
EXIT_OK = 0  # everything asked for was done
EXIT_INPUTS_FAILED = 1  # the command ran, but some inputs failed (each one named in the output)
EXIT_USAGE = 2  # bad options, files or settings: a PannsError, told in one line (argparse uses 2 too)


class PannsError(Exception):
    """Base class of every error this package raises on purpose."""


class AudioError(PannsError, ValueError):
    """The input is not usable audio: missing, not audio, corrupt, empty, NaN/Inf, bad sample rate, too long."""


class CheckpointError(PannsError, ValueError):
    """A checkpoint file cannot be used: truncated, wrong architecture, missing or unexpected weights."""


class ConfigError(PannsError, ValueError):
    """Settings that cannot work: an unknown architecture, label set or device, values out of range."""


class WeightsUnavailableError(PannsError, FileNotFoundError):
    """Pretrained weights are not in the cache and cannot be fetched (offline, or a failed download)."""


class DownloadError(WeightsUnavailableError):
    """A download failed or its size/checksum did not match; the partial file is kept for resuming."""


class BackendError(PannsError, RuntimeError):
    """The inference backend asked for cannot run: ONNX Runtime missing or failing, or asked for off CPU / in bf16."""


def run_command(command: Callable[[], int | None]) -> int:
    """Run a command line's body under the convention above and return its exit code.

    A PannsError is the user's to fix: one line `error: ...` on stderr, exit code 2. Any other
    exception propagates with its traceback, because it is a bug to report, not a message to read.
    """
    try:
        code = command()
    except PannsError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK if code is None else int(code)
