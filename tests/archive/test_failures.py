"""Bad files among good ones: the job finishes, names every bad one with its reason, exits 1."""

import struct

import numpy as np
import pytest
import soundfile as sf
from archive_jobs import read_job, write_recordings
from encoded_audio import encode, tone

from panns_core.cli.main import main


def make_bad_files(folder):
    """{name: the words its reason must contain}."""
    good_bytes = (folder / "rec00.wav").read_bytes()
    (folder / "empty.wav").write_bytes(b"")
    (folder / "corrupt.flac").write_bytes(b"fLaC" + bytes(np.random.RandomState(1).randint(0, 256, 3000, np.uint8)))
    zero = bytearray(good_bytes)
    zero[24:28] = struct.pack("<I", 0)  # the fmt chunk's sample rate
    (folder / "zero_hz.wav").write_bytes(bytes(zero))
    (folder / "notes.mp3").write_bytes(b"field notes: dog barking near the gate\n" * 50)
    (folder / "cut.wav").write_bytes(good_bytes[: len(good_bytes) // 2])
    cut_flac = encode(folder / "whole.flac", tone(4, 32000), 32000).read_bytes()
    (folder / "whole.flac").unlink()
    (folder / "cut.flac").write_bytes(cut_flac[: len(cut_flac) // 2])
    sf.write(folder / "long.wav", np.zeros(32000 * 9, np.float32), 32000)
    return {
        "empty.wav": "empty (0 bytes)",
        "corrupt.flac": "corrupt.flac",
        "zero_hz.wav": "0 Hz",
        "notes.mp3": "not a decodable audio file",
        "cut.wav": "truncated: its header declares 4.00 s but only 2.00 s",
        "cut.flac": "cut.flac",
        "long.wav": "longer than the 8 s limit",
    }


@pytest.mark.slow
def test_bad_files_are_named_with_their_reason_and_the_rest_is_written(tmp_path, official_checkpoint, capsys):
    folder = tmp_path / "recordings"
    good = write_recordings(folder, 2, seconds=4.0)
    expected = make_bad_files(folder)
    argv = [str(folder), "--checkpoint", str(official_checkpoint("MobileNetV1")), "--out", str(tmp_path / "out")]
    code = main(["tag", *argv, "--max-seconds", "8", "--formats", "csv"])
    assert code == 1
    err = capsys.readouterr().err
    tables = read_job(tmp_path / "out")
    assert sorted(tables["files"]["file"]) == sorted(map(str, good))
    reasons = {p.split("/")[-1]: r for p, r in zip(tables["failures"]["file"], tables["failures"]["reason"])}
    assert sorted(reasons) == sorted(expected)
    for name, words in expected.items():
        assert words in reasons[name], (name, reasons[name])
        assert name in err
    assert f"{len(expected)} of {len(expected) + 2} files could not be tagged" in err
    assert (tmp_path / "out").glob("*/failures.csv")

    # A rerun tags again only what changed (the fixed empty.wav), not the failures, but still says the output
    # is incomplete; --retry-failed tags the failures again.
    (folder / "empty.wav").write_bytes((folder / "rec00.wav").read_bytes())
    assert main(["tag", *argv, "--max-seconds", "8"]) == 1
    err = capsys.readouterr().err
    assert "skipping 8 finished files (2 done, 6 failed before" in err
    assert "6 of 9 files could not be tagged" in err
    assert main(["tag", *argv, "--max-seconds", "8", "--retry-failed"]) == 1
    err = capsys.readouterr().err
    assert "skipping 3 finished files (3 done)" in err and err.count("error: ") == 6
    tables = read_job(tmp_path / "out")
    assert str(folder / "empty.wav") in set(tables["files"]["file"])
    assert str(folder / "empty.wav") not in set(tables["failures"]["file"])
    assert len(tables["failures"]) == len(expected) - 1 and tables["files"]["file"].is_unique


def test_user_errors_exit_2_before_any_work(tmp_path, capsys):
    wav = tmp_path / "a.wav"
    sf.write(wav, np.zeros(3200, np.float32), 32000)
    out = tmp_path / "out"
    assert main(["tag", str(wav), "--out", str(out), "--csv", str(tmp_path / "x.csv")]) == 2
    assert "error: --csv and --out do not go together" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["tag", str(wav), "--out", str(out), "--formats", "csv,excel"])
    assert "unknown format 'excel'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["tag", str(wav), "--out", str(out), "--threshold", "1.5"])
    assert not out.exists()
