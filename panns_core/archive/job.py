"""The per-file loop of a tagging job: tag, turn into rows, write a part every so often, record it.

A file that cannot be tagged (unreadable, corrupt, empty, a 0-Hz header, not audio, truncated, too long,
or any other error) becomes a row in `failures` with its reason; the job goes on with the next file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional

import pyarrow as pa

from panns_core.archive.integrity import shortfall
from panns_core.archive.journal import DONE, FAILED, Entry, FileKey, Journal
from panns_core.archive.outputs import write_part
from panns_core.archive.rows import TABLES, event_table, failure_table, file_table, window_table
from panns_core.errors import PannsError
from panns_core.inference.events import EventSettings, result_events


@dataclass
class Outcome:
    """One file's rows (table name -> pieces) and how it went."""

    key: FileKey
    status: str
    reason: str = ""
    audio_seconds: float = 0.0
    tables: Dict[str, List[pa.Table]] = field(default_factory=dict)

    def entry(self) -> Entry:
        return Entry(self.key, self.status, self.reason, self.audio_seconds)


def failed(key: FileKey, reason: str) -> Outcome:
    return Outcome(key, FAILED, reason, tables={"failures": [failure_table(key.path, key.size, reason)]})


def tag_file(tagger, key: FileKey, events: EventSettings, event_source: str = "auto") -> Outcome:
    """Tag one file into its rows; any error becomes a failure row naming the reason."""
    try:
        result = tagger.predict_file(key.path)
        cut = shortfall(key.path, result.duration)
        if cut:
            return failed(key, cut)
        found = result_events(result, events, event_source, file=key.path)
    except PannsError as e:
        return failed(key, str(e))
    except Exception as e:  # a decoder's surprise on one file must not stop thousands
        return failed(key, f"{Path(key.path).name}: {type(e).__name__}: {e}")
    return Outcome(
        key,
        DONE,
        audio_seconds=float(result.duration),
        tables={
            "windows": [window_table(key.path, result)],
            "files": [file_table(key.path, key.size, result, found)],
            "events": [event_table(found)],
        },
    )


class PartBuffer:
    """Outcomes waiting to be written as one part: flushed every `max_files` files or `max_seconds`."""

    def __init__(self, folder: Path, journal: Journal, max_files: int = 64, max_seconds: float = 60.0):
        self.folder, self.journal = folder, journal
        self.max_files, self.max_seconds = max_files, max_seconds
        self.outcomes: List[Outcome] = []
        self.since = time.monotonic()

    def add(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        if len(self.outcomes) >= self.max_files or time.monotonic() - self.since >= self.max_seconds:
            self.flush()

    def flush(self) -> None:
        if not self.outcomes:
            return
        part = self.journal.next_part()
        tables = {name: [t for o in self.outcomes for t in o.tables.get(name, [])] for name in TABLES}
        write_part(self.folder, part, tables)  # first the rows, atomically ...
        self.journal.commit_part(part, [o.entry() for o in self.outcomes])  # ... then the record of them
        self.outcomes.clear()
        self.since = time.monotonic()


def run_files(
    tagger,
    keys: Iterable[FileKey],
    buffer: PartBuffer,
    events: EventSettings,
    event_source: str = "auto",
    on_file: Optional[Callable[[Outcome], None]] = None,
) -> int:
    """Tag every file into parts; returns how many failed."""
    failures = 0
    for key in keys:
        outcome = tag_file(tagger, key, events, event_source)
        failures += outcome.status == FAILED
        buffer.add(outcome)
        if on_file:
            on_file(outcome)
    buffer.flush()
    return failures
