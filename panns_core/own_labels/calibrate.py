"""Per-class thresholds from labelled clips: the lowest score that reaches a target precision (or the
highest that keeps a target recall), with a bootstrap interval that says how sure that threshold is.

A clip is a positive for the classes its row lists and a negative for every other class calibrated
(labels are taken as written: a clip labelled only "Dog" is a negative for "Cat" and for "Animal").
A class with too few positives, or whose target no threshold reaches, is listed with the reason and
gets no threshold: a guessed threshold would look as trustworthy as a measured one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

import numpy as np

from panns_core.errors import ConfigError

BOOTSTRAP_ROUNDS = 200


@dataclass
class Target:
    """Either a precision or a recall to reach (one number in (0, 1])."""

    precision: Optional[float] = None
    recall: Optional[float] = None

    def __post_init__(self):
        given = [v for v in (self.precision, self.recall) if v is not None]
        if len(given) != 1:
            raise ConfigError("give one target: a precision or a recall")
        if not 0.0 < given[0] <= 1.0:
            raise ConfigError(f"a target must lie in (0, 1], got {given[0]}")

    def text(self) -> str:
        return f"precision {self.precision:g}" if self.precision is not None else f"recall {self.recall:g}"


def operating_points(scores: np.ndarray, truth: np.ndarray):
    """(thresholds, precision, recall) at each distinct score, highest threshold first ('score >= t' is positive)."""
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], truth[order].astype(float)
    tp, fp = np.cumsum(t), np.cumsum(1.0 - t)
    last = np.r_[np.flatnonzero(np.diff(s) != 0), len(s) - 1]  # last index of each run of equal scores
    tp, fp = tp[last], fp[last]
    return s[last], tp / (tp + fp), tp / max(t.sum(), 1.0)


def pick_threshold(scores: np.ndarray, truth: np.ndarray, target: Target) -> Optional[float]:
    """The threshold meeting the target with the most recall (precision) left; None when none meets it."""
    thresholds, precision, recall = operating_points(scores, truth)
    if target.precision is not None:
        ok = np.flatnonzero(precision >= target.precision)
        if len(ok) == 0:
            return None
        # the most recall; of equal recalls the highest threshold (lower ones only add negatives)
        best = ok[recall[ok] == recall[ok].max()]
        return float(thresholds[best[0]])
    ok = np.flatnonzero(recall >= target.recall)
    return None if len(ok) == 0 else float(thresholds[ok[0]])  # highest such threshold: most precision


def measure(scores: np.ndarray, truth: np.ndarray, threshold: float) -> dict:
    """precision, recall and F1 of 'score >= threshold' against the truth."""
    said = scores >= threshold
    tp = float(np.sum(said & truth))
    precision = tp / max(float(np.sum(said)), 1.0)
    recall = tp / max(float(np.sum(truth)), 1.0)
    f1 = 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1}


def bootstrap_interval(scores, truth, target: Target, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0):
    """5th and 95th percentiles of the threshold over clips drawn with replacement (NaN when too few rounds work)."""
    rng = np.random.default_rng(seed)
    found = []
    for _ in range(rounds):
        pick = rng.integers(0, len(scores), len(scores))
        if truth[pick].any() and not truth[pick].all():
            t = pick_threshold(scores[pick], truth[pick], target)
            if t is not None:
                found.append(t)
    if len(found) < rounds // 4:
        return float("nan"), float("nan")
    return float(np.percentile(found, 5)), float(np.percentile(found, 95))


@dataclass
class Calibration:
    rows: List[dict] = field(default_factory=list)  # one per calibrated class (the thresholds file's rows)
    skipped: List[dict] = field(default_factory=list)  # {mid, display_name, positives, reason}
    curves: dict = field(default_factory=dict)  # mid -> (thresholds, precision, recall), for the pictures


def calibrate(scores, truth, mids, names, target: Target, min_positives: int = 5, seed: int = 0) -> Calibration:
    """Thresholds for each column of scores (clips, classes) given truth (clips, classes) booleans."""
    out = Calibration()
    for j, (mid, name) in enumerate(zip(mids, names)):
        s, y = np.asarray(scores[:, j], float), np.asarray(truth[:, j], bool)
        positives = int(y.sum())
        if positives < min_positives:
            out.skipped.append(
                {"mid": mid, "display_name": name, "positives": positives, "reason": f"fewer than {min_positives}"}
            )
            continue
        if positives == len(y):
            out.skipped.append({"mid": mid, "display_name": name, "positives": positives, "reason": "no negatives"})
            continue
        out.curves[mid] = operating_points(s, y)
        threshold = pick_threshold(s, y, target)
        if threshold is None:
            out.skipped.append(
                {
                    "mid": mid,
                    "display_name": name,
                    "positives": positives,
                    "reason": f"no threshold reaches {target.text()}",
                }
            )
            continue
        low, high = bootstrap_interval(s, y, target, seed=seed)
        out.rows.append(
            {
                "mid": mid,
                "display_name": name,
                "threshold": threshold,  # exact: a rounded-up threshold would drop the clip it sits on
                **{k: round(v, 4) for k, v in measure(s, y, threshold).items()},
                "positives": positives,
                "threshold_low": low,
                "threshold_high": high,
            }
        )
    return out


EXTRA_COLUMNS = ("precision", "recall", "f1", "positives", "threshold_low", "threshold_high")
