"""The journal and the parts without a model: a crash between writing a part and recording it, changed files."""

import pyarrow as pa
import pytest

from panns_core.archive.job import Outcome, PartBuffer
from panns_core.archive.journal import DONE, FAILED, FileKey, Journal, plan
from panns_core.archive.outputs import read_table, remove_orphans


def outcome(path, size=10, mtime=1, score=0.5):
    key = FileKey(path, size, mtime)
    rows = pa.table({"file": [path, path], "start": [0.0, 1.0], "end": [1.0, 2.0], "/m/a": [score, score]})
    return Outcome(key, DONE, audio_seconds=2.0, tables={"windows": [rows]})


def current(journal):
    return {path: rec[4] for path, rec in journal.records().items()}


def test_a_part_written_but_not_recorded_is_removed_and_its_files_done_again(tmp_path, monkeypatch):
    journal = Journal(tmp_path / "journal.sqlite")
    buffer = PartBuffer(tmp_path, journal, max_files=2)
    buffer.add(outcome("a.wav"))
    buffer.add(outcome("b.wav"))  # part 1, recorded

    def crash(part, entries):
        raise KeyboardInterrupt("killed between the rename and the journal's transaction")

    monkeypatch.setattr(journal, "commit_part", crash)
    buffer.add(outcome("c.wav"))
    with pytest.raises(KeyboardInterrupt):
        buffer.add(outcome("d.wav"))
    journal.close()
    assert len(list((tmp_path / "windows").glob("part-*.parquet"))) == 2  # part 2 is on disk, unrecorded

    journal = Journal(tmp_path / "journal.sqlite")
    assert remove_orphans(tmp_path, journal.parts()) == 1
    keys = [FileKey(p, 10, 1) for p in ("a.wav", "b.wav", "c.wav", "d.wav")]
    to_do, done, _ = plan(journal.records(), keys, retry_failed=False)
    assert [k.path for k in to_do] == ["c.wav", "d.wav"] and [k.path for k in done] == ["a.wav", "b.wav"]
    buffer = PartBuffer(tmp_path, journal, max_files=2)
    buffer.add(outcome("c.wav"))
    buffer.add(outcome("d.wav"))
    windows = read_table(tmp_path, "windows", current(journal))
    assert list(windows["file"]) == ["a.wav", "a.wav", "b.wav", "b.wav", "c.wav", "c.wav", "d.wav", "d.wav"]


def test_changed_files_are_tagged_again_and_read_once_failures_only_on_request(tmp_path):
    journal = Journal(tmp_path / "journal.sqlite")
    buffer = PartBuffer(tmp_path, journal, max_files=1)
    buffer.add(outcome("a.wav", score=0.1))
    buffer.add(Outcome(FileKey("bad.wav", 3, 1), FAILED, "bad.wav is empty"))
    changed = FileKey("a.wav", 11, 2)  # a new size and mtime: the old rows are stale
    to_do, done, failed = plan(journal.records(), [changed, FileKey("bad.wav", 3, 1)], retry_failed=False)
    assert (to_do, done, [k.path for k in failed]) == ([changed], [], ["bad.wav"])
    assert plan(journal.records(), [FileKey("bad.wav", 3, 1)], retry_failed=True)[0] == [FileKey("bad.wav", 3, 1)]
    buffer.add(outcome("a.wav", size=11, mtime=2, score=0.9))
    windows = read_table(tmp_path, "windows", current(journal))
    assert list(windows["/m/a"]) == pytest.approx([0.9, 0.9])  # the stale part's rows are not read
    assert journal.records()["a.wav"][:3] == (11, 2, DONE)
