"""Raven selection tables and Audacity label tracks, read by parsers written to their published layouts,
give back the events table exactly."""

import os

import pytest
from archive_jobs import read_job, run_folders, write_recordings

from panns_core.cli.main import main

RAVEN = ["Selection", "View", "Channel", "Begin Time (s)", "End Time (s)", "Low Freq (Hz)", "High Freq (Hz)"]


def parse_raven(path):
    """A Raven selection table: tab-separated, a header of column names, one selection per line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"))) for line in lines[1:]]
    assert all(len(line.split("\t")) == len(header) for line in lines[1:])
    return header, rows


def parse_audacity(path):
    """An Audacity label track: `start<TAB>end<TAB>label` per line, times in seconds."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        start, end, label = line.split("\t")
        out.append((float(start), float(end), label))
    return out


@pytest.mark.slow
def test_raven_and_audacity_round_trip_the_events(tmp_path, official_checkpoint):
    folder = tmp_path / "site" / "recordings"
    write_recordings(folder / "night1", 2, seconds=6.0)
    write_recordings(folder / "night2", 1, seconds=5.0)
    argv = [str(folder), "--checkpoint", str(official_checkpoint("MobileNetV1")), "--out", str(tmp_path / "out")]
    argv += ["--window", "2", "--hop", "1", "--threshold", "0.55", "--formats", "raven,audacity", "--quiet"]
    assert main(["tag", *argv]) == 0
    tables = read_job(tmp_path / "out")
    events, files = tables["events"], tables["files"]
    assert len(events) >= 3 and events["file"].nunique() >= 2  # enough to make the round trip mean something
    (run,) = run_folders(tmp_path / "out")

    offset = 0.0
    combined_header, combined = parse_raven(run / "raven" / "combined.selections.txt")
    assert combined_header[:7] == RAVEN and combined_header[7:10] == ["Begin Path", "Begin File", "File Offset (s)"]
    n = 0
    for file, duration in zip(files["file"], files["duration"]):
        rel = os.path.relpath(file, folder).replace(os.sep, "__")
        mine = events[events["file"] == file].sort_values("start", kind="stable")
        header, rows = parse_raven(run / "raven" / f"{rel}.selections.txt")
        assert header[:7] == RAVEN
        assert [int(r["Selection"]) for r in rows] == list(range(1, len(mine) + 1))
        assert all(r["View"] == "Spectrogram 1" and r["Channel"] == "1" for r in rows)
        assert all(float(r["Low Freq (Hz)"]) == 0 and float(r["High Freq (Hz)"]) == 16000 for r in rows)
        assert [(r["Class"], r["Mid"]) for r in rows] == [(e.display_name, e.mid) for e in mine.itertuples()]
        assert [float(r["Begin Time (s)"]) for r in rows] == pytest.approx(list(mine["start"]), abs=1e-6)
        assert [float(r["End Time (s)"]) for r in rows] == pytest.approx(list(mine["end"]), abs=1e-6)
        assert [float(r["Peak Score"]) for r in rows] == pytest.approx(list(mine["peak_score"]), abs=1e-6)

        labels = parse_audacity(run / "audacity" / f"{rel}.txt")
        assert labels == [(e.start, e.end, e.display_name) for e in mine.itertuples()]

        here = [r for r in combined if r["Begin Path"] == file]
        assert all(r["Begin File"] == os.path.basename(file) for r in here)
        n += len(here)
        for r, e in zip(here, mine.itertuples()):
            assert float(r["File Offset (s)"]) == pytest.approx(e.start)
            assert float(r["Begin Time (s)"]) == pytest.approx(offset + e.start)  # files follow each other
            assert float(r["End Time (s)"]) == pytest.approx(offset + e.end)
            assert r["Class"] == e.display_name
        offset += duration
    assert n == len(events) == len(combined)
