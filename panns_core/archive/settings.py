"""What a job's results depend on, and its digest: results made with other settings never share a folder.

The digest covers the checkpoint file's bytes, the architecture, the head labels and the label set, the
windowing, precision and length limit, an attached probe head, and the event settings (thresholds, merge gap,
minimum duration).
How the work runs (backend, device, threads, engine) is left out: it does not change what is written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Optional, Tuple

import numpy as np

SCHEMA = 1  # bump when the tables' layout changes


def file_sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def head_digest(head) -> str:
    """sha256 of a probe head's weights and class names: another head, another set of results."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(head.weight, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(head.bias, dtype=np.float64).tobytes())
    h.update("\n".join(head.names).encode())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class JobSettings:
    checkpoint_sha256: str
    arch: str
    head_mids: Tuple[str, ...]
    label_mids: Tuple[str, ...]
    window_seconds: float
    hop_seconds: float
    consistent: bool
    precision: str
    max_seconds: Optional[float]
    thresholds: Tuple[float, ...]
    merge_gap: float
    min_duration: float
    event_source: str = "auto"
    probe_head: Optional[str] = None  # digest of an attached probe head's weights (`tag --head`)
    schema: int = SCHEMA

    def digest(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def describe(self) -> dict:
        """The settings as people read them (settings.json beside the results)."""
        d = asdict(self)
        d["head_mids"] = f"{len(self.head_mids)} classes"
        d["label_mids"] = f"{len(self.label_mids)} classes"
        d["thresholds"] = sorted(set(self.thresholds))
        d["digest"] = self.digest()
        return d


def settings_for(tagger, thresholds, merge_gap: float, min_duration: float, event_source: str = "auto") -> JobSettings:
    """The settings of a job run by `tagger` (a Tagger loaded from a checkpoint file)."""
    if tagger.info is None:
        raise ValueError("a job needs a Tagger made from a checkpoint (Tagger.from_pretrained)")
    return JobSettings(
        checkpoint_sha256=file_sha256(tagger.info.path),
        arch=tagger.arch,
        head_mids=tuple(tagger.head_labels.mids),
        label_mids=tuple(tagger.labels.mids),
        window_seconds=tagger.window / tagger.sample_rate,
        hop_seconds=tagger.hop / tagger.sample_rate,
        consistent=bool(tagger.consistent),
        precision=tagger.precision,
        max_seconds=tagger.max_seconds,
        thresholds=tuple(float(t) for t in thresholds),
        merge_gap=float(merge_gap),
        min_duration=float(min_duration),
        event_source=event_source,
        probe_head=head_digest(tagger.head) if getattr(tagger, "head", None) is not None else None,
    )


def write_settings(folder: Path, settings: JobSettings) -> None:
    path = folder / "settings.json"
    if not path.exists():
        path.write_text(json.dumps(settings.describe(), indent=2) + "\n")
