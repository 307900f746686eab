"""The labelled-clips manifest that `panns calibrate` and `panns probe fit` read.

A CSV with the columns of `train pack --manifest` (`path`, relative to the CSV's folder, and `labels`),
plus optional `start`/`end` seconds (a span of a longer file) and `group` (clips that must stay in one
cross-validation fold; default: the file). Several labels are separated by `;`, not `,` as in
`train pack`, because AudioSet names hold commas ("Chicken, rooster"). Labels are AudioSet mids,
AudioSet display names or your own words. Every problem of the whole file is collected and told at
once, each with its line number, so one fix-and-rerun is enough; the file itself is never changed.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from panns_core.errors import ConfigError
from panns_core.labels.sets import LabelSet

PATH_COLUMN, LABELS_COLUMN = "path", "labels"
LABEL_SEPARATOR = ";"
MAX_LISTED = 30  # problems listed in one error; the rest are counted


@dataclass(frozen=True)
class Clip:
    """One manifest row: a file (or a span of it) and its labels as written."""

    line: int  # line number in the CSV (the header is line 1)
    path: Path  # absolute
    written: str  # the path as written in the manifest
    labels: Tuple[str, ...]
    start: Optional[float] = None
    end: Optional[float] = None
    group: str = ""

    @property
    def key(self) -> str:
        """What names this clip in reports and the manifest digest: the path as written, and its span."""
        span = "" if self.start is None and self.end is None else f"@{self.start or 0:g}-{self.end or '':}"
        return self.written + span


@dataclass(frozen=True)
class Manifest:
    path: Path
    clips: Tuple[Clip, ...]

    def __len__(self) -> int:
        return len(self.clips)

    @property
    def classes(self) -> List[str]:
        """Every label used, in order of first use."""
        return list(dict.fromkeys(label for clip in self.clips for label in clip.labels))

    def positives(self) -> Counter:
        return Counter(label for clip in self.clips for label in clip.labels)

    def digest(self) -> str:
        """'sha256:...' of the clips and their labels (order-independent): names the set a figure was measured on."""
        rows = sorted(f"{c.key}\t{';'.join(sorted(c.labels))}" for c in self.clips)
        return "sha256:" + hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()[:16]


def _seconds(text: str, what: str, problems: list, line: int) -> Optional[float]:
    if text is None or not text.strip():
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(f"line {line}: {what} {text!r} is not a number of seconds")
        return None
    if not math.isfinite(value) or value < 0:
        problems.append(f"line {line}: {what} {text!r} must be a non-negative number of seconds")
        return None
    return value


def read_manifest(path) -> Manifest:
    """Read and check a manifest: columns, files, times and labels; every problem in one ConfigError."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            columns = [c.strip() for c in reader.fieldnames or ()]
            missing = [c for c in (PATH_COLUMN, LABELS_COLUMN) if c not in columns]
            if missing:
                raise ConfigError(f"{path}: a manifest needs the columns path and labels; missing {', '.join(missing)}")
            rows = [{(k or "").strip(): v for k, v in row.items()} for row in reader]
    except OSError as e:
        raise ConfigError(f"cannot read manifest {path}: {e.strerror or e}") from None
    except (UnicodeDecodeError, csv.Error) as e:
        raise ConfigError(f"{path} is not a readable CSV: {e}") from None
    clips, problems = [], []
    for line, row in enumerate(rows, start=2):
        written = (row.get(PATH_COLUMN) or "").strip()
        labels = tuple(dict.fromkeys(x.strip() for x in (row.get(LABELS_COLUMN) or "").split(LABEL_SEPARATOR)))
        labels = tuple(x for x in labels if x)
        start = _seconds(row.get("start"), "start", problems, line)
        end = _seconds(row.get("end"), "end", problems, line)
        if not written:
            problems.append(f"line {line}: no path")
            continue
        file = (path.parent / written).resolve()
        if not file.is_file():
            problems.append(f"line {line}: {written}: no such file (paths are relative to {path.parent})")
        if not labels:
            problems.append(f"line {line}: {written}: no labels")
        if start is not None and end is not None and end <= start:
            problems.append(f"line {line}: {written}: end {end:g} s is not after start {start:g} s")
        group = (row.get("group") or "").strip() or str(file)
        clips.append(Clip(line, file, written, labels, start, end, group))
    if not clips and not problems:
        problems.append("no clips: the manifest has a header but no rows")
    raise_problems(path, problems)
    return Manifest(path, tuple(clips))


def raise_problems(path, problems: Sequence[str]) -> None:
    """One ConfigError listing every problem (the first MAX_LISTED, then a count)."""
    if not problems:
        return
    listed = list(problems[:MAX_LISTED])
    if len(problems) > MAX_LISTED:
        listed.append(f"... and {len(problems) - MAX_LISTED} more")
    raise ConfigError(f"{path}: {len(problems)} problem(s):\n  " + "\n  ".join(listed))


def resolve_labels(manifest: Manifest, labels: LabelSet) -> Dict[str, str]:
    """{label as written: mid} for a label set's classes, by mid or display name (any case);
    every unknown label is a problem naming its lines."""
    by_name = {n.casefold(): m for m, n in zip(labels.mids, labels.names)}
    known = set(labels.mids)
    out, unknown = {}, {}
    for clip in manifest.clips:
        for label in clip.labels:
            mid = label if label in known else by_name.get(label.casefold())
            if mid is None:
                unknown.setdefault(label, []).append(clip.line)
            else:
                out[label] = mid
    raise_problems(
        manifest.path,
        [
            f"line {', '.join(map(str, lines[:5]))}{' ...' if len(lines) > 5 else ''}: {label!r} is not a class "
            f"of the {labels.name!r} label set (give an AudioSet mid or display name)"
            for label, lines in unknown.items()
        ],
    )
    return out


def check_positives(manifest: Manifest, minimum: int, classes: Optional[Sequence[str]] = None) -> None:
    """Each class (default: every label used) needs `minimum` positive clips, from at least two groups,
    and some clips without it: a ConfigError listing every class short of that."""
    counts = manifest.positives()
    problems = []
    for label in classes or manifest.classes:
        groups = {c.group for c in manifest.clips if label in c.labels}
        lines = [c.line for c in manifest.clips if label in c.labels][:5]
        if counts[label] < minimum:
            problems.append(f"{label!r}: {counts[label]} positive clip(s) (lines {lines}), at least {minimum} needed")
        elif len(groups) < 2:
            problems.append(f"{label!r}: every positive clip comes from one recording; cross-validation needs two")
        elif counts[label] == len(manifest):
            problems.append(f"{label!r}: every clip has it, so there is nothing to tell it from")
    raise_problems(manifest.path, problems)
