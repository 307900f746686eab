"""The fetch stage: failures are logged and never stop the run; it resumes; fetchers are pluggable."""

import os

import pandas as pd
import pytest
import soundfile as sf

from train.fetch import FAILURES, fetch_split
from train.fetchers import FetchError, LocalFetcher
from train.segment_ids import write_split


@pytest.fixture()
def mirror(shared_dir, tmp_path):
    """A mirror with two real clips (OGG 44.1 kHz, WAV 32 kHz) and one corrupt file."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    esc10 = shared_dir / "audio" / "animal_clips" / "esc10" / "audio"
    os.symlink(esc10 / "dog_bark_1-100032-A.ogg", folder / "Ydog.ogg")
    os.symlink(shared_dir / "audio" / "audioset_samples" / "Y-_2ITXZaxT0.wav", folder / "-_2ITXZaxT0.wav")
    (folder / "Ybroken.mp3").write_bytes(b"\xff\xfb" + b"\x00garbage" * 100)
    return folder


@pytest.fixture()
def split(tmp_path):
    rows = [("dog", 0.0, 5.0), ("-_2ITXZaxT0", 30.0, 40.0), ("broken", 0.0, 10.0), ("gone", 0.0, 10.0)]
    path = tmp_path / "split.csv"
    write_split(
        pd.DataFrame(
            [(y, s, e, "/m/0bt9lr") for y, s, e in rows],
            columns=["ytid", "start_seconds", "end_seconds", "positive_labels"],
        ),
        path,
    )
    return path


def test_local_fetcher_writes_32k_mono_16bit_and_failures_are_logged(mirror, split, tmp_path):
    out = tmp_path / "audio"
    summary = fetch_split(split, out, LocalFetcher(mirror), workers=2)
    assert summary == {"done": 2, "fetched": 2, "failed": 2, "skipped_failed": 0}
    for name, seconds in (("Ydog.wav", 5.0), ("Y-_2ITXZaxT0.wav", 10.0)):
        info = sf.info(out / name)
        assert (info.samplerate, info.channels, info.subtype) == (32000, 1, "PCM_16")
        assert info.duration == pytest.approx(seconds, abs=0.01)
    failures = pd.read_csv(out / FAILURES).set_index("ytid")["error"]
    assert failures["gone"] == "not in the mirror"
    assert "not a decodable audio file" in failures["broken"] or "corrupt" in failures["broken"]
    assert not list(out.glob("*.part"))  # failed fetches leave no half file behind


def test_resume_skips_done_and_failed_unless_asked(mirror, split, tmp_path):
    out = tmp_path / "audio"
    fetch_split(split, out, LocalFetcher(mirror))
    calls = []

    def counting(segment, dest):
        calls.append(segment.ytid)
        raise FetchError("still gone")

    assert fetch_split(split, out, counting) == {"done": 2, "fetched": 0, "failed": 0, "skipped_failed": 2}
    assert calls == []
    summary = fetch_split(split, out, counting, retry_failed=True)
    assert sorted(calls) == ["broken", "gone"] and summary["failed"] == 2
    log = pd.read_csv(out / FAILURES)
    assert sorted(log["ytid"]) == ["broken", "gone"] and (log["error"] == "still gone").all()  # replaced, not doubled


def test_a_crashing_fetcher_loses_no_other_clip(split, tmp_path):
    def flaky(segment, dest):
        if segment.ytid == "dog":
            raise RuntimeError("bug in a plug-in")
        sf.write(dest, [0.1] * 3200, 32000, subtype="PCM_16", format="WAV")

    out = tmp_path / "audio"
    summary = fetch_split(split, out, flaky, workers=3)
    assert summary["fetched"] == 3 and summary["failed"] == 1
    assert pd.read_csv(out / FAILURES).set_index("ytid").loc["dog", "error"] == "RuntimeError: bug in a plug-in"
