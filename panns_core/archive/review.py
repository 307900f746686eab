"""Review formats, all written from the events table so that every format tells the same story.

Raven selection tables (Cornell's Raven Pro / Lite): tab-separated text with the standard columns
Selection, View, Channel, Begin Time (s), End Time (s), Low Freq (Hz), High Freq (Hz), then ours (Class,
Mid, Peak Score, Mean Score). One table per recording, and one combined table for the whole run where files
play one after the other in sorted order: Begin Time is on that joined timeline, Begin Path and Begin File
name the recording (its path, its name) and File Offset (s) is the time within it.
Audacity label tracks: one `start<TAB>end<TAB>label` line per event.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Dict

RAVEN_COLUMNS = (
    "Selection",
    "View",
    "Channel",
    "Begin Time (s)",
    "End Time (s)",
    "Low Freq (Hz)",
    "High Freq (Hz)",
)
OUR_COLUMNS = ("Class", "Mid", "Peak Score", "Mean Score")
COMBINED_COLUMNS = (*RAVEN_COLUMNS, "Begin Path", "Begin File", "File Offset (s)", *OUR_COLUMNS)
VIEW = "Spectrogram 1"
FORMATS = ("parquet", "csv", "raven", "audacity")


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)


def review_name(file: str, root: str) -> str:
    """A flat, unique name for one recording's review file: its path below `root`, with / as __."""
    rel = os.path.relpath(file, root) if root else file
    return rel.replace(os.sep, "__").replace("/", "__")


def _seconds(x: float) -> str:
    return f"{x:.6f}"


def raven_rows(events, high_freq: float):
    for n, e in enumerate(events.itertuples(index=False), 1):
        yield n, e, [str(n), VIEW, "1", _seconds(e.start), _seconds(e.end), "0", f"{high_freq:g}"]


def _ours(e) -> list:
    return [e.display_name, e.mid, f"{e.peak_score:.6f}", f"{e.mean_score:.6f}"]


def write_raven(events, path: Path, high_freq: float) -> None:
    """One recording's events as a Raven selection table."""
    lines = ["\t".join(RAVEN_COLUMNS + OUR_COLUMNS)]
    for _, e, cols in raven_rows(events, high_freq):
        lines.append("\t".join(cols + _ours(e)))
    _write_text(path, "\n".join(lines) + "\n")


def write_raven_combined(events, durations: Dict[str, float], path: Path, high_freq: float) -> None:
    """All recordings' events in one table; files follow each other in sorted order on one timeline."""
    offset, starts = 0.0, {}
    for file in sorted(durations):
        starts[file] = offset
        offset += durations[file]
    lines = ["\t".join(COMBINED_COLUMNS)]
    for n, e in enumerate(events.sort_values(["file", "start"], kind="stable").itertuples(index=False), 1):
        base = starts[e.file]
        cols = [str(n), VIEW, "1", _seconds(base + e.start), _seconds(base + e.end), "0", f"{high_freq:g}"]
        lines.append("\t".join([*cols, e.file, os.path.basename(e.file), _seconds(e.start), *_ours(e)]))
    _write_text(path, "\n".join(lines) + "\n")


def write_audacity(events, path: Path) -> None:
    """One recording's events as an Audacity label track (File > Import > Labels)."""
    lines = [f"{_seconds(e.start)}\t{_seconds(e.end)}\t{e.display_name}" for e in events.itertuples(index=False)]
    _write_text(path, "".join(line + "\n" for line in lines))


def write_csv(frame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    frame.to_csv(tmp, index=False, quoting=csv.QUOTE_MINIMAL)
    os.replace(tmp, path)


def write_review(folder: Path, tables: dict, formats, root: str, high_freq: float) -> list:
    """Write the requested formats beside the Parquet parts; returns the paths written.

    `tables`: the read-back DataFrames (windows, files, events, failures); `root`: the common folder of the
    recordings, for per-recording file names."""
    import pandas as pd

    written = []
    events = tables["events"]
    if events.empty:
        events = pd.DataFrame(columns=["file", "mid", "display_name", "start", "end", "peak_score", "mean_score"])
    files = tables["files"]
    durations = dict(zip(files["file"], files["duration"])) if not files.empty else {}
    if "csv" in formats:
        for name, frame in tables.items():
            path = folder / f"{name}.csv"
            write_csv(frame.drop(columns=["part"], errors="ignore"), path)
            written.append(path)
    by_file = {f: g for f, g in events.groupby("file", sort=True)} if not events.empty else {}
    if "raven" in formats:
        for file in durations:
            path = folder / "raven" / f"{review_name(file, root)}.selections.txt"
            write_raven(by_file.get(file, events.iloc[:0]), path, high_freq)
            written.append(path)
        path = folder / "raven" / "combined.selections.txt"
        write_raven_combined(events, durations, path, high_freq)
        written.append(path)
    if "audacity" in formats:
        for file in durations:
            path = folder / "audacity" / f"{review_name(file, root)}.txt"
            write_audacity(by_file.get(file, events.iloc[:0]), path)
            written.append(path)
    return written
