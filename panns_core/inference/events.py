"""Sound events: spans of time where a class scores above its threshold ("a dog barked from 02:13:05 to 02:13:09").

Pure numpy, no I/O. Works on any grid of scored spans: a TaggingResult's windows (which may overlap, with a
hop shorter than the window) or Cnn14_DecisionLevelMax's frames. Overlapping windows are first cut into
elementary cells (between consecutive window starts and ends); a cell scores the *minimum* over the windows
covering it, because a window scores high as soon as any part of the sound falls inside it: only a cell whose
every covering window is high holds the sound itself. Onsets and offsets are then right to within one hop
(one frame for frame scores) instead of one whole window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import List, Optional, Sequence, Union

import numpy as np

from panns_core.errors import ConfigError
from panns_core.labels.ontology import make_consistent
from panns_core.labels.sets import LabelSet

EVENT_COLUMNS = ("file", "mid", "display_name", "start", "end", "peak_score", "mean_score")


@dataclass(frozen=True)
class Event:
    """One class above its threshold from `start` to `end` seconds of `file`."""

    file: str
    mid: str
    display_name: str
    start: float
    end: float
    peak_score: float
    mean_score: float

    def to_row(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class EventSettings:
    """`threshold`: one number or a (classes,) vector (see thresholds.threshold_vector); `merge_gap`: events
    of a class closer than this many seconds become one; `min_duration`: shorter events are dropped;
    `consistent`: raise parents to their best child first, so a Bark event implies a Dog event covering it."""

    threshold: Union[float, Sequence[float]] = 0.5
    merge_gap: float = 0.0
    min_duration: float = 0.0
    consistent: bool = False

    def __post_init__(self):
        if self.merge_gap < 0 or self.min_duration < 0:
            raise ConfigError(
                f"merge gap and minimum duration must be 0 or more seconds, got {self.merge_gap} and "
                f"{self.min_duration}"
            )


def elementary_cells(starts, ends, scores) -> tuple:
    """Cut possibly overlapping scored spans into disjoint cells scored by the minimum over covering spans.

    starts, ends: (spans,) seconds, both non-decreasing; scores: (spans, classes).
    Returns cell_starts (cells,), cell_ends (cells,), cell_scores (cells, classes); cells no span covers
    are left out.
    """
    starts, ends = np.asarray(starts, float), np.asarray(ends, float)
    scores = np.asarray(scores, float)
    edges = np.unique(np.concatenate([starts, ends]))
    lefts, rights = edges[:-1], edges[1:]
    mids = (lefts + rights) / 2
    first = np.searchsorted(ends, mids, side="right")  # spans ending at or before the middle do not cover it
    stop = np.searchsorted(starts, mids, side="right")  # spans starting after the middle do not cover it
    covered = stop > first
    lefts, rights, first, stop = lefts[covered], rights[covered], first[covered], stop[covered]
    out = np.full((len(lefts), scores.shape[1]), np.inf)
    for offset in range(int((stop - first).max(initial=0))):
        index = first + offset
        valid = index < stop
        np.minimum(out, np.where(valid[:, None], scores[np.minimum(index, len(scores) - 1)], np.inf), out=out)
    return lefts, rights, out


def _runs(active: np.ndarray, joined: np.ndarray) -> List[tuple]:
    """(first, last) index pairs of the runs of True in a 1-D boolean array; `joined[i]` says cell i + 1 begins
    where cell i ends, so a stretch of time no span covers (a hop longer than the window) ends a run."""
    linked = np.zeros(len(active), bool)  # linked[i]: cell i continues the run of cell i - 1
    linked[1:] = active[1:] & active[:-1] & joined
    firsts = np.flatnonzero(active & ~linked)
    lasts = np.flatnonzero(active & ~np.append(linked[1:], False))
    return list(zip(firsts, lasts))


def find_events(
    starts,
    ends,
    scores,
    labels: LabelSet,
    settings: EventSettings = EventSettings(),
    file: str = "",
) -> List[Event]:
    """Events of every class over scored spans (see elementary_cells), sorted by start then class order.

    Spans may come in any order; time that no span covers separates events (then `merge_gap` decides)."""
    scores = np.asarray(scores, float)
    if scores.ndim != 2 or scores.shape[1] != len(labels) or len(starts) != len(scores):
        raise ConfigError(f"scores of shape {scores.shape} do not match {len(starts)} spans x {len(labels)} classes")
    if len(scores) == 0:
        return []
    if settings.consistent:
        scores = make_consistent(scores, labels.mids)
    thresholds = np.broadcast_to(np.asarray(settings.threshold, float), (len(labels),))
    order = np.argsort(np.asarray(starts, float), kind="stable")  # elementary_cells needs spans in time order
    starts, ends, scores = np.asarray(starts, float)[order], np.asarray(ends, float)[order], scores[order]
    lefts, rights, cells = elementary_cells(starts, ends, scores)
    widths = rights - lefts
    joined = lefts[1:] - rights[:-1] <= 1e-6  # a sliver from float steps (frame n * step) is no gap
    found = []
    for c in np.flatnonzero((cells >= thresholds).any(axis=0)):
        merged = []
        for first, last in _runs(cells[:, c] >= thresholds[c], joined):
            if merged and lefts[first] - rights[merged[-1][1]] <= settings.merge_gap:
                merged[-1][1] = last
            else:
                merged.append([first, last])
        for first, last in merged:
            start, end = float(lefts[first]), float(rights[last])
            if end - start < settings.min_duration:
                continue
            span = slice(first, last + 1)
            above = cells[span, c] >= thresholds[c]  # the mean is over the time the class was above threshold
            weights = widths[span] * above
            found.append(
                Event(
                    file=file,
                    mid=labels.mids[c],
                    display_name=labels.names[c],
                    start=round(start, 6),
                    end=round(end, 6),
                    peak_score=float(cells[span, c].max()),
                    mean_score=float(np.average(cells[span, c], weights=weights)),
                )
            )
    order = {mid: i for i, mid in enumerate(labels.mids)}
    return sorted(found, key=lambda e: (e.start, order[e.mid]))


def result_events(
    result, settings: EventSettings = EventSettings(), source: str = "auto", file: Optional[str] = None
) -> List[Event]:
    """Events of a TaggingResult: from its frame scores (`source='frames'`, Cnn14_DecisionLevelMax), or its
    window timeline (`'windows'`); 'auto' takes frames when the model gives them."""
    if source not in ("auto", "frames", "windows"):
        raise ConfigError(f"event source must be 'auto', 'frames' or 'windows', got {source!r}")
    file = file if file is not None else (result.source or "")
    use_frames = result.framewise is not None and source in ("auto", "frames")
    if source == "frames" and result.framewise is None:
        raise ConfigError(f"{result.model} gives no frame scores: use the window timeline for events")
    if use_frames:
        n = len(result.framewise)
        starts = np.arange(n) * result.frame_seconds
        ends = np.minimum(starts + result.frame_seconds, result.duration)
        keep = ends > starts
        return find_events(starts[keep], ends[keep], result.framewise[keep], result.labels, settings, file)
    starts = np.asarray(result.window_starts, float)
    ends = np.minimum(starts + result.window_seconds, result.duration)
    return find_events(starts, ends, result.timeline, result.labels, settings, file)
