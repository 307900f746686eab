"""The whole chain on real AudioSet segments: metadata -> fetch (offline) -> pack -> fit -> evaluate.

The shared folder holds four real 10 s clips of the animal subset (`audioset_samples/Y<ytid>.wav`),
which is exactly the layout the local fetcher reads as a mirror: the official lists select them,
two other listed segments are absent from the mirror and must fail without stopping anything.
"""

import h5py
import numpy as np
import pandas as pd
import pytest

from panns_core.evaluation.results import eval_set_record, load_run
from panns_core.labels.sets import ANIMAL
from train.__main__ import main
from train.segment_ids import read_split

SAMPLES = ["-_2ITXZaxT0", "-_6S_TGc_8k", "-_8E5aDUqas", "-_99pGKM8uQ"]
ABSENT = ["--2XRMjyizo", "--5uHDNDKxs"]  # listed in the animal subset, not in the mirror


@pytest.fixture(scope="module")
def metadata(shared_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("metadata")
    assert (
        main(
            [
                "metadata",
                "--source",
                str(shared_dir / "audioset"),
                "--out",
                str(out),
                "--class-stats",
                str(out / "class_stats.csv"),
                "--label-quality",
                str(shared_dir / "audioset" / "panns_paper_classwise_ap.csv"),
            ]
        )
        == 0
    )
    return out


def test_metadata_keeps_the_animal_segments(metadata, shared_dir):
    # The shared README's figures for the Animal subtree.
    assert [len(read_split(metadata / f"{s}.csv")) for s in ("eval", "balanced_train", "unbalanced_train")] == [
        2402,
        2469,
        96089,
    ]
    for split in ("eval", "balanced_train"):
        labels = read_split(metadata / f"{split}.csv")["positive_labels"].str.split(",")
        assert all(set(row) & set(ANIMAL.mids) for row in labels)
    stats = pd.read_csv(metadata / "class_stats.csv")
    assert list(stats["index"]) == list(range(72, 137))
    dog = stats.set_index("display_name").loc["Dog"]
    official = pd.read_csv(
        shared_dir / "audioset" / "eval_segments.csv",
        comment="#",
        header=None,
        skipinitialspace=True,
        names=["y", "s", "e", "labels"],
    )
    assert dog["eval_clips"] == official["labels"].str.split(",").apply(lambda m: "/m/0bt9lr" in m).sum()
    assert dog["label_quality"] == pytest.approx(0.99)
    assert stats["label_quality"].notna().all()


@pytest.mark.slow
def test_fetch_pack_fit_evaluate(metadata, shared_dir, tmp_path, official_checkpoint):
    split = read_split(metadata / "unbalanced_train.csv")
    split = split[split["ytid"].isin(SAMPLES + ABSENT)]
    assert len(split) == 6
    split.to_csv(tmp_path / "split.csv", index=False)
    audio = tmp_path / "audio"
    fetch = [
        "fetch",
        "--split",
        str(tmp_path / "split.csv"),
        "--out",
        str(audio),
        "--fetcher",
        "local",
        "--mirror",
        str(shared_dir / "audio" / "audioset_samples"),
        "--workers",
        "2",
    ]

    assert main(fetch) == 0
    assert sorted(p.name for p in audio.glob("*.wav")) == sorted(f"Y{y}.wav" for y in SAMPLES)
    failures = pd.read_csv(audio / "failures.csv")
    assert sorted(failures["ytid"]) == sorted(ABSENT) and (failures["error"] == "not in the mirror").all()
    assert main(fetch) == 0  # resumed: nothing fetched again, the failures stay logged once
    assert len(pd.read_csv(audio / "failures.csv")) == 2

    packed = tmp_path / "train.h5"
    assert main(["pack", "--split", str(tmp_path / "split.csv"), "--audio", str(audio), "--out", str(packed)]) == 0
    with h5py.File(packed, "r") as f:
        names = [n.decode() for n in f["audio_name"][:]]
        assert sorted(names) == sorted(f"Y{y}.wav" for y in SAMPLES)
        assert f["waveform"].shape == (4, 320000) and f["waveform"].dtype == np.int16
        assert f["target"].shape == (4, 65) and f["target"].dtype == bool
        row = names.index("Y-_99pGKM8uQ.wav")  # labelled "/m/0h0rv,/m/0jbk,/t/dd00125"
        assert set(np.array(ANIMAL.mids)[f["target"][row]]) == {"/m/0h0rv", "/m/0jbk"}

    results, runs = tmp_path / "results", tmp_path / "runs"
    assert (
        main(
            [
                "fit",
                "--train",
                str(packed),
                "--eval",
                str(packed),
                "--arch",
                "MobileNetV1",
                "--batch-size",
                "2",
                "--max-iterations",
                "2",
                "--eval-every",
                "1",
                "--num-workers",
                "1",
                "--run-id",
                "chain",
                "--runs-dir",
                str(runs),
                "--results",
                str(results),
            ]
        )
        == 0
    )
    run = load_run(results / "chain")
    assert run.info.kind == "fit" and run.info.status == "measured" and run.info.iterations == 2
    assert list(run.curve["iteration"]) == [0, 1, 2]
    assert len(run.classwise) == 3 * 65 and set(run.classwise["index"]) == set(range(72, 137))
    packed_rows = split[split["ytid"].isin(SAMPLES)]
    present = set(packed_rows["positive_labels"].str.split(",").explode()) & set(ANIMAL.mids)
    assert len(present) == 8  # Animal, Bird, Cat, Meow, ... occur in the 4 clips
    assert run.info.metrics["classes_scored"] == 8
    assert set(run.info.metrics["classes_left_out"]) == set(ANIMAL.mids) - present
    assert (runs / "chain" / "checkpoint.pth").is_file() and (runs / "chain" / "config.json").is_file()

    assert (
        main(
            [
                "evaluate",
                "--checkpoint",
                str(runs / "chain" / "checkpoint.pth"),
                "--eval",
                str(packed),
                "--run-id",
                "ours",
                "--results",
                str(results),
                "--num-workers",
                "0",
            ]
        )
        == 0
    )
    ours = load_run(results / "ours")
    assert ours.info.kind == "evaluate" and ours.info.trained_on == "animal" and ours.info.iterations == 2
    assert ours.info.metrics["mAP"] == pytest.approx(run.info.metrics["mAP"], abs=1e-6)  # same weights, same clips
    # Both runs record the same evaluation set: the pack's name, its 4 clips and a digest of their names.
    assert run.info.eval_set == ours.info.eval_set == eval_set_record("train.h5", [f"Y{y}.wav" for y in SAMPLES])

    general = official_checkpoint("MobileNetV1")
    assert (
        main(
            [
                "evaluate",
                "--checkpoint",
                str(general),
                "--eval",
                str(packed),
                "--run-id",
                "general",
                "--results",
                str(results),
                "--num-workers",
                "0",
            ]
        )
        == 0
    )
    viewed = load_run(results / "general")
    assert viewed.info.trained_on == "audioset" and viewed.info.label_set == "animal"
    assert list(viewed.classwise["index"]) == list(range(72, 137))
    assert viewed.info.metrics["classes_scored"] == 8
    assert viewed.info.eval_set["clips"] == 4 and viewed.info.eval_set["digest"] == ours.info.eval_set["digest"]
