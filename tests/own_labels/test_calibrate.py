"""Per-class thresholds: the target is reached on the clips fit on, held-out clips are measured honestly,
classes with too few positives are listed rather than guessed."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from panns_core.cli.main import main
from panns_core.inference.thresholds import above_thresholds, passing_labels, read_thresholds, threshold_vector
from panns_core.own_labels.calibrate import Target, calibrate, measure, pick_threshold
from panns_core.own_labels.embeddings import clip_features
from panns_core.own_labels.manifest import read_manifest
from tests.own_labels.conftest import CAT, DOG, ROOSTER, write_manifest


def test_precision_target_takes_the_lowest_threshold_that_reaches_it():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    truth = np.array([1, 1, 0, 1, 0, 0], bool)
    # precision at 0.9: 1, 0.8: 1, 0.7: 2/3, 0.6: 3/4, 0.5: 3/5
    assert pick_threshold(scores, truth, Target(precision=0.75)) == 0.6
    assert pick_threshold(scores, truth, Target(precision=0.9)) == 0.8
    assert pick_threshold(scores, truth, Target(recall=0.6)) == 0.8
    assert pick_threshold(scores, truth, Target(recall=1.0)) == 0.6
    assert measure(scores, truth, 0.6) == pytest.approx({"precision": 0.75, "recall": 1.0, "f1": 6 / 7})


def test_unreachable_targets_and_rare_classes_are_listed_not_guessed():
    rng = np.random.default_rng(0)
    scores = rng.random((40, 3))
    truth = np.zeros((40, 3), bool)
    truth[:20, 0] = True
    scores[:20, 0] += 1  # class 0 separable
    truth[:2, 1] = True  # class 1: two positives
    truth[::2, 2] = True  # class 2: alternating truth under rising scores, the top one a negative:
    scores[:, 2] = np.arange(40) / 40  # precision 0.99 is out of reach at every threshold
    out = calibrate(scores, truth, ["a", "b", "c"], ["A", "B", "C"], Target(precision=0.99), min_positives=5)
    assert [r["mid"] for r in out.rows] == ["a"]
    assert out.rows[0]["precision"] == 1.0 and out.rows[0]["recall"] == 1.0
    assert out.rows[0]["threshold_low"] <= out.rows[0]["threshold"] <= out.rows[0]["threshold_high"]
    reasons = {s["mid"]: s["reason"] for s in out.skipped}
    assert reasons["b"] == "fewer than 5" and "no threshold reaches precision 0.99" in reasons["c"]


@pytest.mark.slow
def test_calibrate_on_real_clips_reaches_target_and_reports_held_out(
    tmp_path, esc10, cats, embeddings_cache, mobilenet, tagger, capsys
):
    recordings = sorted({rec for _, _, rec in esc10})
    fit_recordings = set(recordings[::2])  # whole recordings on each side: takes of one never straddle
    fit = [(p, mid, rec) for p, mid, rec in esc10 if rec in fit_recordings]
    held = [(p, mid, rec) for p, mid, rec in esc10 if rec not in fit_recordings]
    manifest = write_manifest(tmp_path / "fit.csv", fit + [(p, "Cat", "") for p in cats[:3]])
    out = tmp_path / "calibration"
    target = 0.8
    code = main(
        [
            "calibrate",
            "--clips",
            str(manifest),
            "--checkpoint",
            str(mobilenet),
            "--target-precision",
            str(target),
            "--out",
            str(out),
            "--cache",
            str(embeddings_cache),
            "--quiet",
        ]
    )
    assert code == 0
    with open(out / "thresholds.csv", newline="") as f:
        rows = {r["mid"]: r for r in csv.DictReader(f)}
    assert rows, "no class calibrated"
    assert set(rows) <= {DOG, ROOSTER}
    thresholds = read_thresholds(out / "thresholds.csv")
    with open(out / "skipped.csv", newline="") as f:
        skipped = {r["mid"]: r for r in csv.DictReader(f)}
    assert skipped[CAT]["positives"] == "3" and "fewer than 5" in skipped[CAT]["reason"]
    for name in ("reliability.png", "precision_recall.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "calibration.json").read_text())
    assert summary["clips"] == len(fit) + 3 and summary["calibrated"] == len(rows)

    # On the clips it was fit on, every threshold reaches the target (recomputed from the model's scores,
    # the cached ones: the same weights, files and settings).
    def precision_recall(clips, mid):
        clips_manifest = read_manifest(write_manifest(tmp_path / "check.csv", clips))
        features = clip_features(tagger, clips_manifest.clips, cache=embeddings_cache)
        said = features.scores >= threshold_vector(tagger.labels, np.inf, thresholds)
        truth = np.array([mid in c.labels for c in clips_manifest.clips])
        return measure(said[:, tagger.labels.index_of(mid)].astype(float), truth, 0.5)

    cat_rows = [(p, "Cat", "") for p in cats[:3]]
    for mid, row in rows.items():
        on_fit = precision_recall(fit + cat_rows, mid)
        assert on_fit["precision"] >= target
        assert on_fit["precision"] == pytest.approx(float(row["precision"]), abs=1e-3)
        held_out = precision_recall(held, mid)  # the honest figure on unseen recordings: reported, not promised
        assert 0.0 <= held_out["precision"] <= 1.0 and 0.0 <= held_out["recall"] <= 1.0
        print(
            f"{row['display_name']}: fit precision {on_fit['precision']:.2f}, held-out precision "
            f"{held_out['precision']:.2f} recall {held_out['recall']:.2f}"
        )
    report = capsys.readouterr().out
    assert "held-out precision" in report
    with capsys.disabled():  # the held-out figures belong in the test log
        print("\n" + report, end="")
    result = tagger.predict_file(fit[0][0])
    passed = above_thresholds(result, out / "thresholds.csv")
    assert [mid for _, mid, _, _ in passing_labels(result, thresholds)] == [
        m for m, p in zip(result.labels.mids, passed) if p
    ]  # classes without a threshold in the file never pass
    assert set(np.asarray(result.labels.mids)[passed]) <= set(rows)
