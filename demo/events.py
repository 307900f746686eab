"""Where in a long clip each top class is heard: the package's events, as the table the page shows.

A line chart shows scores over time; a visitor with a long recording wants a list instead:
"Bark from 12.0 s to 18.5 s". The spans come from `panns_core.inference.events` (the one implementation,
shared with `panns tag`'s archives): overlapping windows are cut into cells scored by the lowest covering
window, so onsets and offsets are right to within one hop; time no window covers separates events.
"""

from __future__ import annotations

import pandas as pd

from panns_core.inference.events import EventSettings, result_events

EVENT_TABLE_COLUMNS = ["class", "start_s", "end_s", "peak_score", "mean_score"]


def events_table(result, mids: list[str], threshold: float) -> pd.DataFrame:
    """Events of the classes `mids` in a `TaggingResult` (frames when the model gives them, else windows),
    one row each, by class in `mids` order then time; times rounded to 0.01 s and scores to 0.001 for the
    page and the CSV."""
    rank = {mid: i for i, mid in enumerate(mids)}
    found = [e for e in result_events(result, EventSettings(threshold=float(threshold))) if e.mid in rank]
    found.sort(key=lambda e: (rank[e.mid], e.start))
    rows = [(e.display_name, e.start, e.end, e.peak_score, e.mean_score) for e in found]
    table = pd.DataFrame(rows, columns=EVENT_TABLE_COLUMNS)
    table = table.astype({"start_s": float, "end_s": float, "peak_score": float, "mean_score": float})
    return table.round({"start_s": 2, "end_s": 2, "peak_score": 3, "mean_score": 3})
