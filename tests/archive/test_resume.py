"""A job killed with SIGKILL at any moment, then run again, gives exactly the rows of an uninterrupted run."""

import signal
import sqlite3
import subprocess
import sys
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest
from archive_jobs import read_job, run_folders, write_recordings
from conftest import run_tag_cli

N_FILES = 10


def tag_args(files, checkpoint, out):
    return [files, "--checkpoint", checkpoint, "--out", out, "--hop", "2", "--window", "4", "--part-files", "1"]


def done_files(out) -> int:
    folders = run_folders(out)
    if not folders:
        return 0
    try:
        with sqlite3.connect(f"file:{folders[0] / 'journal.sqlite'}?mode=ro", uri=True) as db:
            return db.execute("SELECT COUNT(*) FROM files").fetchone()[0]
    except sqlite3.Error:  # the job is still creating it
        return 0


@pytest.mark.slow
def test_kill_9_mid_run_then_rerun_gives_the_uninterrupted_rows(tmp_path, official_checkpoint):
    checkpoint = official_checkpoint("MobileNetV1")
    files = tmp_path / "recordings"
    write_recordings(files, N_FILES, seconds=8.0)

    whole = run_tag_cli(*tag_args(files, checkpoint, tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    expected = read_job(tmp_path / "whole")
    assert sorted(expected["files"]["file"]) == sorted(str(p) for p in files.glob("*.wav"))
    assert len(expected["windows"]) == N_FILES * 3  # 8 s, 4 s windows, 2 s hop: starts 0, 2, 4

    out = tmp_path / "killed"
    argv = [sys.executable, "-m", "panns_core", "tag", *map(str, tag_args(files, checkpoint, out)), "--quiet"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    while done_files(out) < 3 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done_at_kill = done_files(out)
    assert 3 <= done_at_kill < N_FILES, f"the run was not killed mid-way ({done_at_kill} files done)"

    again = run_tag_cli(*tag_args(files, checkpoint, out))
    assert again.returncode == 0, again.stderr
    assert f"skipping {done_at_kill} finished files" in again.stderr

    got = read_job(out)
    for name in ("windows", "files", "events"):
        pd.testing.assert_frame_equal(got[name], expected[name], check_exact=True, obj=name)
    # on disk too, no file's rows were written twice (the parts a kill left unrecorded are gone)
    (folder,) = run_folders(out)
    raw = pd.concat([pq.read_table(p).to_pandas() for p in sorted((folder / "files").glob("part-*.parquet"))])
    assert sorted(raw["file"]) == sorted(expected["files"]["file"])
    assert not list(folder.rglob("*.tmp"))


@pytest.mark.slow
def test_rerun_skips_and_other_settings_do_not_mix(tmp_path, official_checkpoint):
    checkpoint = official_checkpoint("MobileNetV1")
    files = tmp_path / "recordings"
    write_recordings(files, 3, seconds=4.0)
    out = tmp_path / "out"
    first = run_tag_cli(files, "--checkpoint", checkpoint, "--out", out, "--threshold", "0.5")
    assert first.returncode == 0, first.stderr
    before = read_job(out)

    rerun = run_tag_cli(files, "--checkpoint", checkpoint, "--out", out, "--threshold", "0.5")
    assert rerun.returncode == 0 and "skipping 3 finished files (3 done)" in rerun.stderr
    pd.testing.assert_frame_equal(read_job(out)["windows"], before["windows"])

    other = run_tag_cli(files, "--checkpoint", checkpoint, "--out", out, "--threshold", "0.9")
    assert other.returncode == 0 and "skipping" not in other.stderr
    folders = run_folders(out)
    assert len(folders) == 2  # a new journal for the new settings; the first one untouched
    for folder in folders:
        raw = pd.concat([pq.read_table(p).to_pandas() for p in (folder / "files").glob("part-*.parquet")])
        assert len(raw) == 3 and raw["file"].is_unique
    events = {
        f.name: pd.concat([pq.read_table(p).to_pandas() for p in (f / "events").glob("part-*.parquet")])
        for f in folders
    }
    assert sorted(len(e) for e in events.values())[0] < sorted(len(e) for e in events.values())[1]
