"""Option types and the options every command shares, so `--checkpoint` and `--arch` read the same everywhere."""

from __future__ import annotations

import argparse

CHECKPOINT_HELP = "the weights: a released name (default: Cnn14), a .pth path, owner/repo or hf://owner/repo/file"


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def add_checkpoint_options(parser: argparse.ArgumentParser, default: str | None = "Cnn14") -> None:
    """`--checkpoint` (the weights) and `--arch` (the architecture, for a bare file)."""
    parser.add_argument("--checkpoint", default=default, required=default is None, help=CHECKPOINT_HELP)
    parser.add_argument("--arch", default=None, help="architecture of a bare checkpoint file")
