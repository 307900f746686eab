"""Where in a long clip each class is heard: spans of windows scoring at or above the threshold.

A line chart shows scores over time; a visitor with a one-hour recording wants a list instead:
"Bark from 12.0 s to 18.5 s". Consecutive (or overlapping) windows above the threshold merge
into one segment, so a bark heard across five windows is one row, not five.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEGMENT_COLUMNS = ["class", "start_s", "end_s", "peak_score"]


def find_segments(starts, ends, scores, names, threshold: float) -> pd.DataFrame:
    """starts, ends (windows,) seconds; scores (windows, classes); names (classes,) ->
    one row per segment (class, start_s, end_s, peak_score), by class in `names` order, then time.

    Windows are taken in time order; a window above the threshold that begins at or before the end
    of the current segment extends it, one that begins later opens a new segment."""
    starts, ends = np.asarray(starts, float), np.asarray(ends, float)
    scores = np.asarray(scores, float).reshape(len(starts), len(names))
    order = np.argsort(starts, kind="stable")
    rows = []
    for c, name in enumerate(names):
        current = None  # [start, end, peak]
        for w in order:
            if scores[w, c] < threshold:
                continue
            if current is not None and starts[w] <= current[1]:
                current[1] = max(current[1], ends[w])
                current[2] = max(current[2], scores[w, c])
                continue
            if current is not None:
                rows.append((name, *current))
            current = [starts[w], ends[w], scores[w, c]]
        if current is not None:
            rows.append((name, *current))
    table = pd.DataFrame(rows, columns=SEGMENT_COLUMNS)
    return table.astype({"start_s": float, "end_s": float, "peak_score": float})


def result_segments(result, mids: list[str], threshold: float) -> pd.DataFrame:
    """Segments of the classes `mids` in a `TaggingResult`: from its frames when the model gives
    frame scores, else from its windows (each window's span clipped to the clip's end)."""
    cols = [result.labels.index_of(mid) for mid in mids]
    names = [result.labels.names[c] for c in cols]
    if result.framewise is not None:
        frames = np.asarray(result.framewise)[:, cols]
        step = float(result.frame_seconds)
        starts = np.arange(len(frames)) * step
        return find_segments(starts, np.minimum(starts + step, result.duration), frames, names, threshold)
    starts = np.asarray(result.window_starts, float)
    ends = np.minimum(starts + result.window_seconds, result.duration)
    return find_segments(starts, ends, np.asarray(result.timeline)[:, cols], names, threshold)


def rounded(table: pd.DataFrame) -> pd.DataFrame:
    """For the page and the CSV: times to 0.01 s, scores to 0.001."""
    return table.round({"start_s": 2, "end_s": 2, "peak_score": 3})
