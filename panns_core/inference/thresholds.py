"""Per-class thresholds: one decision threshold per class, read from a CSV that `panns calibrate` writes.

The file has one row per class with at least `mid` and `threshold` (`display_name` and any other columns,
such as the precision and recall reached, are kept for people and ignored here). Classes the file does not
name fall back to the one global threshold, so a file may cover only the classes someone calibrated.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np

from panns_core.errors import ConfigError
from panns_core.labels.sets import LabelSet

COLUMNS = ("mid", "display_name", "threshold")


def read_thresholds(path) -> dict:
    """{mid: threshold} from a thresholds CSV; a bad file or value is a ConfigError naming the file and line."""
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = {"mid", "threshold"} - set(reader.fieldnames or ())
            if missing:
                raise ConfigError(
                    f"{path}: a thresholds file needs the columns mid and threshold; missing {sorted(missing)}"
                )
            out = {}
            for line, row in enumerate(reader, start=2):
                try:
                    value = float(row["threshold"])
                except (TypeError, ValueError):
                    raise ConfigError(f"{path}, line {line}: threshold {row['threshold']!r} is not a number") from None
                if not math.isfinite(value) or not 0.0 <= value <= 1.0:
                    raise ConfigError(f"{path}, line {line}: threshold {value} is not between 0 and 1")
                out[row["mid"]] = value
    except OSError as e:
        raise ConfigError(f"cannot read thresholds file {path}: {e.strerror or e}") from None
    return out


def threshold_vector(labels: LabelSet, default: float, per_class: Optional[Mapping[str, float]] = None) -> np.ndarray:
    """(classes,) thresholds in `labels`' order: the class's own where given, else `default`."""
    per_class = per_class or {}
    return np.array([per_class.get(mid, default) for mid in labels.mids], dtype=np.float64)


def write_thresholds(path, rows: Sequence[Mapping], extra: Sequence[str] = ()) -> Path:
    """Write rows with `mid`, `display_name`, `threshold` and the `extra` columns, in the given order."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=[*COLUMNS, *extra], extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def above_thresholds(result, thresholds) -> np.ndarray:
    """(classes,) booleans: which of a TaggingResult's clip scores reach their class's own threshold.

    `thresholds` is a (classes,) vector in `result.labels`' order (see threshold_vector), a {mid: threshold}
    mapping (classes it does not name never pass), or a thresholds file's path.
    """
    if isinstance(thresholds, (str, Path)):
        thresholds = read_thresholds(thresholds)
    if isinstance(thresholds, Mapping):
        thresholds = threshold_vector(result.labels, math.inf, thresholds)
    vector = np.asarray(thresholds, dtype=np.float64)
    if vector.shape != result.scores.shape:
        raise ConfigError(f"{len(vector)} thresholds for {len(result.scores)} classes")
    return result.scores >= vector


def passing_labels(result, thresholds) -> list:
    """(display_name, mid, score, threshold) of each class at or above its own threshold, best score first."""
    if isinstance(thresholds, (str, Path)):
        thresholds = read_thresholds(thresholds)
    if isinstance(thresholds, Mapping):
        thresholds = threshold_vector(result.labels, math.inf, thresholds)
    vector = np.asarray(thresholds, dtype=np.float64)
    passed = np.flatnonzero(above_thresholds(result, vector))
    passed = passed[np.argsort(-result.scores[passed], kind="stable")]
    return [(result.labels.names[i], result.labels.mids[i], float(result.scores[i]), float(vector[i])) for i in passed]
