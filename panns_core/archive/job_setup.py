"""From parsed `tag --out` options to what a job runs with: Tagger options, event settings, file keys.

Shared by the local job (command.py) and the Ray engine (ray_engine.py), which must read the options alike.
"""

from __future__ import annotations

import sys

from panns_core.archive.job import failed
from panns_core.archive.journal import FileKey
from panns_core.inference.events import EventSettings
from panns_core.inference.thresholds import read_thresholds, threshold_vector


def tagger_options(args) -> dict:
    """Tagger.from_pretrained's arguments from `panns tag`'s options: one place, so the plain CSV run, the
    local job and the Ray engine build the same Tagger."""
    return dict(
        checkpoint=args.checkpoint,
        arch=args.arch,
        device=args.device,
        label_set=args.label_set,
        head_labels=args.head_labels,
        window_seconds=args.window,
        hop_seconds=args.hop,
        consistent=args.consistent,
        precision=args.precision,
        backend=args.backend,
        max_seconds=args.max_seconds,
        head=args.head,
        progress=not args.quiet,
    )


def event_settings(args, labels) -> EventSettings:
    per_class = read_thresholds(args.thresholds) if args.thresholds else None
    vector = threshold_vector(labels, args.threshold, per_class)
    return EventSettings(
        threshold=tuple(vector), merge_gap=args.merge_gap, min_duration=args.min_duration, consistent=args.consistent
    )


def release_unused(tagger) -> None:
    """With ONNX Runtime running the model, the PyTorch weights are dead weight for a job: free them."""
    if tagger.backend_name == "onnx":
        tagger.model.to("meta")


def file_keys(files):
    """(keys, outcomes of files that cannot even be looked at)."""
    keys, gone = [], []
    for path in files:
        try:
            keys.append(FileKey.of(path))
        except OSError as e:
            gone.append(failed(FileKey(str(path), -1, 0), f"{path}: {e.strerror or e}"))
    return keys, gone


def say(args, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)
