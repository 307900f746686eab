"""Parquet parts, written atomically, and the tables read back as the journal says they are.

Layout of a job's folder (one per settings digest):
    journal.sqlite, settings.json
    windows/part-000001.parquet   per-window scores (file, part, start, end, one column per class)
    files/part-000001.parquet     per-file summary (file, part, size, duration, windows, events, top class, scores)
    events/part-000001.parquet    sound events (file, part, mid, display_name, start, end, peak_score, mean_score)
    failures/part-000001.parquet  files that could not be tagged (file, part, size, reason)
A part is written to a temporary name and renamed into place, so a reader never sees half a file.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, Iterable, List

import pyarrow as pa
import pyarrow.parquet as pq

from panns_core.archive.rows import TABLES

PART = re.compile(r"^part-(\d+)\.parquet$")


def part_name(part: int) -> str:
    return f"part-{part:06d}.parquet"


def write_atomic(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp)
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())  # the data is on disk before the rename makes it visible
    os.replace(tmp, path)


def write_part(folder: Path, part: int, tables: Dict[str, List[pa.Table]]) -> None:
    """Each table's rows of one part as folder/<table>/part-NNNNNN.parquet (tables without rows: no file)."""
    for name, pieces in tables.items():
        if not pieces:
            continue
        table = pa.concat_tables(pieces)
        table = table.add_column(1, "part", pa.array([part] * len(table), pa.int64()))
        (folder / name).mkdir(parents=True, exist_ok=True)
        write_atomic(table, folder / name / part_name(part))


def part_files(folder: Path) -> Iterable[tuple]:
    """(part number, path) of every part file on disk, all tables."""
    for name in TABLES:
        for path in sorted((folder / name).glob("part-*.parquet")):
            m = PART.match(path.name)
            if m:
                yield int(m.group(1)), path


def remove_orphans(folder: Path, committed: set) -> int:
    """Delete temporary files and parts the journal does not know (a crash between writing and recording)."""
    removed = 0
    for name in TABLES:
        for tmp in (folder / name).glob("*.tmp"):
            tmp.unlink()
    for part, path in part_files(folder):
        if part not in committed:
            path.unlink()
            removed += 1
    return removed


def read_table(folder, name: str, current: Dict[str, int]):
    """One table as a pandas DataFrame, keeping only rows from each file's current part (`current`:
    {file: part}, from the journal), so a file tagged again after it changed appears once. Sorted by file."""
    import pandas as pd

    folder = Path(folder)
    paths = sorted((folder / name).glob("part-*.parquet"))
    if not paths:
        return pd.DataFrame()
    frame = pa.concat_tables([pq.read_table(p) for p in paths], promote_options="default").to_pandas()
    keep = frame["part"].to_numpy() == frame["file"].map(current).to_numpy()
    frame = frame[keep]
    order = [c for c in ("file", "start", "mid") if c in frame.columns]
    return frame.sort_values(order, kind="stable").reset_index(drop=True)
