"""One file's results as columnar tables: per-window scores, a per-file summary row, its events, a failure.

Both engines (single process, Ray) build their rows here, so their outputs are the same row for row.
Scores are wide (one float32 column per class, named by its mid): an hour of audio is 360 rows, not 360 x
classes, and Parquet compresses a column of one class's scores well.
"""

from __future__ import annotations

from typing import List

import numpy as np
import pyarrow as pa

from panns_core.inference.events import EVENT_COLUMNS, Event

TABLES = ("windows", "files", "events", "failures")


def window_table(file: str, result) -> pa.Table:
    starts = np.asarray(result.window_starts, float)
    columns = {
        "file": pa.array([file] * len(starts), pa.string()),
        "start": pa.array(np.round(starts, 6)),
        "end": pa.array(np.round(np.minimum(starts + result.window_seconds, result.duration), 6)),
    }
    timeline = np.asarray(result.timeline, np.float32)
    for i, mid in enumerate(result.labels.mids):
        columns[mid] = pa.array(timeline[:, i])
    return pa.table(columns)


def file_table(file: str, size: int, result, events: List[Event]) -> pa.Table:
    best = int(np.argmax(result.scores))
    columns = {
        "file": pa.array([file], pa.string()),
        "size": pa.array([size], pa.int64()),
        "duration": pa.array([round(float(result.duration), 6)]),
        "windows": pa.array([len(result.window_starts)], pa.int64()),
        "events": pa.array([len(events)], pa.int64()),
        "top_mid": pa.array([result.labels.mids[best]], pa.string()),
        "top_name": pa.array([result.labels.names[best]], pa.string()),
        "top_score": pa.array([float(result.scores[best])]),
    }
    scores = np.asarray(result.scores, np.float32)
    for i, mid in enumerate(result.labels.mids):
        columns[mid] = pa.array(scores[i : i + 1])
    return pa.table(columns)


EVENT_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("mid", pa.string()),
        ("display_name", pa.string()),
        ("start", pa.float64()),
        ("end", pa.float64()),
        ("peak_score", pa.float64()),
        ("mean_score", pa.float64()),
    ]
)
assert tuple(EVENT_SCHEMA.names) == EVENT_COLUMNS

FAILURE_SCHEMA = pa.schema([("file", pa.string()), ("size", pa.int64()), ("reason", pa.string())])


def event_table(events: List[Event]) -> pa.Table:
    return pa.Table.from_pylist([e.to_row() for e in events], schema=EVENT_SCHEMA)


def failure_table(file: str, size: int, reason: str) -> pa.Table:
    return pa.Table.from_pylist([{"file": file, "size": size, "reason": reason}], schema=FAILURE_SCHEMA)
