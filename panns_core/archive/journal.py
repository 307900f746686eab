"""The job's journal (SQLite): which file is done or failed, in which part, as of which size and mtime.

The journal is the single truth about what the output holds. A part's Parquet files are written first
(atomically, each by rename); only then does one transaction record the part and its files. A part on disk
that the journal does not know was cut short by a crash: `orphan_parts` names it so it can be deleted, and
its files are simply tagged again. So a kill -9 at any moment neither loses nor duplicates rows.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional

DONE, FAILED = "done", "failed"


@dataclass(frozen=True)
class FileKey:
    """A file as the journal knows it: changed size or mtime means it must be tagged again."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path) -> FileKey:
        st = os.stat(path)
        return cls(str(path), st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class Entry:
    key: FileKey
    status: str  # DONE or FAILED
    reason: str = ""
    audio_seconds: float = 0.0


class Journal:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=60)
        self.db.execute("PRAGMA journal_mode=WAL")  # readers (progress, tests) never block the job
        self.db.execute("PRAGMA synchronous=FULL")  # a committed part survives a power cut
        self.db.executescript(
            """
            CREATE TABLE IF NOT EXISTS parts(id INTEGER PRIMARY KEY, files INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS files(
                path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
                status TEXT NOT NULL, reason TEXT NOT NULL, part INTEGER NOT NULL, audio_seconds REAL NOT NULL
            );
            """
        )
        self.db.commit()

    def close(self) -> None:
        self.db.close()

    def parts(self) -> set:
        return {row[0] for row in self.db.execute("SELECT id FROM parts")}

    def next_part(self) -> int:
        (last,) = self.db.execute("SELECT COALESCE(MAX(id), 0) FROM parts").fetchone()
        return last + 1

    def records(self) -> Dict[str, tuple]:
        """{path: (size, mtime_ns, status, reason, part)} of every file recorded."""
        rows = self.db.execute("SELECT path, size, mtime_ns, status, reason, part FROM files")
        return {r[0]: r[1:] for r in rows}

    def commit_part(self, part: int, entries: Iterable[Entry]) -> None:
        """Record a part whose Parquet files are already in place, and its files, in one transaction."""
        entries = list(entries)
        with self.db:
            self.db.execute("INSERT INTO parts(id, files) VALUES (?, ?)", (part, len(entries)))
            self.db.executemany(
                "INSERT OR REPLACE INTO files(path, size, mtime_ns, status, reason, part, audio_seconds) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(e.key.path, e.key.size, e.key.mtime_ns, e.status, e.reason, part, e.audio_seconds) for e in entries],
            )


def plan(records: Dict[str, tuple], keys: List[FileKey], retry_failed: bool) -> tuple:
    """Split `keys` into (to_do, done, failed_before): a file is finished when the journal has it with the
    same size and mtime, done, or failed (unless retrying failures)."""
    to_do, done, failed = [], [], []
    for key in keys:
        rec: Optional[tuple] = records.get(key.path)
        if rec is None or (rec[0], rec[1]) != (key.size, key.mtime_ns):
            to_do.append(key)
        elif rec[2] == DONE:
            done.append(key)
        elif retry_failed:
            to_do.append(key)
        else:
            failed.append(key)
    return to_do, done, failed
