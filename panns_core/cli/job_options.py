"""`panns tag --out DIR` options: tagging as a resumable job (see panns_core.archive)."""

from __future__ import annotations

import argparse

from panns_core.cli.options import positive_float, positive_int


def fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, got {text}")
    return value


def formats(text: str) -> tuple:
    from panns_core.archive.review import FORMATS

    chosen = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    return tuple(dict.fromkeys(("parquet", *chosen)))


def add_job_options(t) -> None:
    g = t.add_argument_group("job mode (--out): resumable tagging of large archives, with events")
    g.add_argument(
        "--out",
        default=None,
        help="output folder: Parquet tables, a journal that lets a rerun skip finished files, review files",
    )
    g.add_argument("--retry-failed", action="store_true", help="tag the files that failed before again")
    g.add_argument("--threshold", type=fraction, default=0.5, help="events: score a class must reach (default 0.5)")
    g.add_argument("--thresholds", default=None, help="events: a thresholds file (CSV mid,threshold) per class")
    g.add_argument("--merge-gap", type=seconds, default=0.0, help="events: join events of a class this close (s)")
    g.add_argument("--min-duration", type=seconds, default=0.0, help="events: drop shorter events (s)")
    g.add_argument(
        "--formats",
        type=formats,
        default=("parquet",),
        help="comma-separated: parquet (always), csv, raven, audacity",
    )
    g.add_argument("--max-seconds", type=positive_float, default=None, help="refuse longer files (a failure)")
    g.add_argument("--part-files", type=positive_int, default=64, help="files per Parquet part (default 64)")
    g.add_argument(
        "--engine", choices=["local", "ray"], default="local", help="local: this process; ray: a Ray cluster"
    )
    g.add_argument("--address", default=None, help="Ray cluster address (default: start a local one)")
    g.add_argument("--workers", type=positive_int, default=None, help="Ray: number of Tagger actors")
