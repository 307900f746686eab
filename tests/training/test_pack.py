"""Packing real recordings: PANNs layout, bad audio reported and skipped, resumable, damaged files refused."""

import pickle

import h5py
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from panns_core.audio.load import load_audio
from panns_core.labels.sets import ANIMAL
from panns_core.training.dataset import PackedDataset
from panns_core.training.packfile import PackError, PackWriter, inspect_pack
from train.pack import bad_log, manifest_items, pack

# Real clips of different formats, rates and lengths (0.1 s to 45 s).
PICK = ["esc10", "minetest_mobs_animal", "mineclone5_mobs_mc", "opensoundscape"]


@pytest.fixture()
def manifest(shared_dir, tmp_path):
    """A manifest with 8 real clips, plus three unusable files: garbage bytes, digital silence, NaN."""
    table = pd.read_csv(shared_dir / "audio" / "animal_clips" / "manifest.csv")
    table = pd.concat([table[table["collection"] == c].head(2) for c in PICK])
    rows = [
        {"path": str(shared_dir / "audio" / "animal_clips" / p), "labels": m}
        for p, m in zip(table["file"], table["audioset_mid_guess"])
    ]
    (tmp_path / "garbage.wav").write_bytes(b"RIFF\x00\x01not really audio" * 50)
    sf.write(tmp_path / "silence.wav", np.zeros(32000, np.int16), 32000)
    sf.write(tmp_path / "nan.wav", np.full(8000, np.nan, np.float32), 16000, subtype="FLOAT")
    rows += [{"path": str(tmp_path / n), "labels": "/m/0bt9lr"} for n in ("garbage.wav", "silence.wav", "nan.wav")]
    rows.append({"path": str(tmp_path / "never-downloaded.wav"), "labels": "/m/0bt9lr"})
    path = tmp_path / "manifest.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_pack_writes_the_panns_layout_and_skips_bad_audio(manifest, tmp_path):
    out = tmp_path / "packed.h5"
    summary = pack(manifest_items(manifest), out)
    assert summary == {"packed": 8, "added": 8, "missing": 1, "bad": 3}
    bad = pd.read_csv(bad_log(out))
    assert sorted(bad["audio_name"].str.rsplit("/", n=1).str[-1]) == ["garbage.wav", "nan.wav", "silence.wav"]
    assert bad["error"].str.contains("silence").any() and bad["error"].str.contains("NaN").any()

    with h5py.File(out, "r") as f:
        assert f["waveform"].shape == (8, 320000) and f["waveform"].dtype == np.int16
        assert f["target"].shape == (8, 65) and f["target"].dtype == bool
        assert f["target"][:].sum(axis=1).tolist() == [1] * 8
        assert (np.abs(f["waveform"][:]).max(axis=1) > 0).all()  # nothing zero-filled
        names = [n.decode() for n in f["audio_name"][:]]
    rows = pd.read_csv(manifest)
    first = rows["path"][0]
    data = PackedDataset(out)
    item = data[names.index(first)]
    original = load_audio(first, 32000)[:320000]
    # Same audio up to int16 rounding, zero-padded after the clip's end.
    np.testing.assert_allclose(item["waveform"][: len(original)].numpy(), original, atol=1.5 / 32767)
    assert not item["waveform"][len(original) :].any()
    assert ANIMAL.mids[int(item["target"].argmax())] == rows["labels"][0]


def _write_first_five(out, items):
    writer = PackWriter(out, "animal", list(ANIMAL.mids), flush_every=2)
    for name, path, _ in items[:5]:
        writer.append(name, load_audio(path, 32000), np.eye(65, dtype=bool)[0])
    return writer


@pytest.mark.parametrize("how", ["interrupted", "killed"])
def test_an_unfinished_pack_is_refused_then_resumed(manifest, tmp_path, how):
    out = tmp_path / "packed.h5"
    items = list(manifest_items(manifest))
    writer = _write_first_five(out, items)
    if how == "interrupted":
        writer.close(complete=False)  # what an exception (Ctrl-C) inside `with PackWriter` does: 5 rows kept
        kept = 5
    else:
        writer.f.close()  # a hard kill: the rows after the last flushed count (4) are not trusted
        kept = 4
    with pytest.raises(PackError, match="did not finish"):
        PackedDataset(out)
    summary = pack(items, out)
    assert summary["packed"] == 8 and summary["added"] == 8 - kept
    with h5py.File(out, "r") as f:
        names = [n.decode() for n in f["audio_name"][:]]
        assert (np.abs(f["waveform"][:]).max(axis=1) > 0).all()
    assert len(names) == len(set(names)) == 8
    assert pack(items, out)["added"] == 0
    assert len(PackedDataset(out)) == 8


def test_truncated_file_gives_a_clear_error(manifest, tmp_path):
    out = tmp_path / "packed.h5"
    pack(manifest_items(manifest), out)
    data = out.read_bytes()
    cut = tmp_path / "cut.h5"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(PackError, match="truncated or corrupt"):
        PackedDataset(cut)
    with pytest.raises(PackError, match="no such packed file"):
        inspect_pack(tmp_path / "absent.h5")
    with h5py.File(tmp_path / "foreign.h5", "w") as f:
        f["waveform"] = np.zeros((2, 10), np.float32)
    with pytest.raises(PackError, match="lacks audio_name, target"):
        PackedDataset(tmp_path / "foreign.h5")


def test_file_is_opened_once_per_process_and_never_pickled(manifest, tmp_path):
    out = tmp_path / "packed.h5"
    pack(manifest_items(manifest), out)
    data = PackedDataset(out)
    assert data._file is None  # nothing opened until a clip is read
    data[0]
    handle = data._file
    data[3]
    assert data._file is handle
    copy = pickle.loads(pickle.dumps(data))  # what a spawned worker receives
    assert copy._file is None and len(copy) == 8
    assert np.array_equal(copy[3]["waveform"].numpy(), data[3]["waveform"].numpy())
