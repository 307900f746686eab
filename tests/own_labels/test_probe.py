"""Teaching new classes: a probe learns 'my_dog' and 'my_rooster' from the shared recordings on the suite's
filled random weights, its head is refused on other weights, and its run is one the dashboard reads."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

from panns_core.cli.main import main
from panns_core.errors import CheckpointError
from panns_core.evaluation.results import load_run
from panns_core.inference.heads import load_head
from panns_core.inference.tagger import Tagger
from tests.own_labels.conftest import DOG, write_manifest


@pytest.fixture(scope="module")
def probe(tmp_path_factory, esc10, cats, mobilenet, embeddings_cache):
    """`panns probe fit` on dog and rooster clips (plus a few cats, neither): (head path, results dir, clips)."""
    root = tmp_path_factory.mktemp("probe")
    rows = [(p, "my_dog" if mid == DOG else "my_rooster", rec) for p, mid, rec in esc10]
    rows += [(p, "my_cat_noise", f"cat{i}") for i, p in enumerate(cats)]
    manifest = write_manifest(root / "clips.csv", rows)
    head, results = root / "head.pth", root / "results"
    code = main(
        [
            "probe",
            "fit",
            "--clips",
            str(manifest),
            "--checkpoint",
            str(mobilenet),
            "--out",
            str(head),
            "--results",
            str(results),
            "--cache",
            str(embeddings_cache),
            "--folds",
            "4",
            "--quiet",
        ]
    )
    assert code == 0
    return head, results, rows


@pytest.mark.slow
def test_probe_learns_made_up_classes_well_above_chance(probe):
    head_path, _, rows = probe
    head = load_head(head_path)
    summary = head.summary
    for name in ("my_dog", "my_rooster"):
        prior = sum(label == name for _, label, _ in rows) / len(rows)
        assert summary["prior"][name] == pytest.approx(prior)
        assert summary["cv_ap"][name] > prior + 0.3, summary  # cross-validated by recording: not memory
    data = torch.load(head_path, weights_only=True)  # plain tensors and data only
    assert data["base_arch"] == "MobileNetV1" and data["names"] == ["my_dog", "my_rooster", "my_cat_noise"]


@pytest.mark.slow
def test_tagger_reports_head_classes_beside_or_instead(probe, mobilenet, esc10):
    head_path, _, _ = probe
    beside = Tagger.from_pretrained(mobilenet, head=head_path, progress=False)
    only = Tagger.from_pretrained(mobilenet, head=head_path, head_mode="only", progress=False)
    assert beside.labels.mids[-3:] == ("own:my_dog", "own:my_rooster", "own:my_cat_noise")
    assert len(beside.labels) == 65 + 3 and only.labels.names == ("my_dog", "my_rooster", "my_cat_noise")
    dogs = [p for p, mid, _ in esc10 if mid == DOG][:4]
    roosters = [p for p, mid, _ in esc10 if mid != DOG][:4]
    dog_scores = np.array([only.predict_file(p).scores for p in dogs])
    rooster_scores = np.array([only.predict_file(p).scores for p in roosters])
    assert dog_scores[:, 0].mean() > rooster_scores[:, 0].mean() + 0.3  # clips it was fit on, a sanity check
    assert rooster_scores[:, 1].mean() > dog_scores[:, 1].mean() + 0.3
    result = beside.predict_file(dogs[0])
    head = load_head(head_path)
    np.testing.assert_allclose(result.scores[-3:], head.scores(result.embedding[None])[0], atol=1e-5)
    assert result.framewise is None and result.timeline.shape[1] == 68


@pytest.mark.slow
def test_head_on_other_weights_is_refused(probe, tmp_path):
    sys.path.insert(0, "tests")
    from conftest import write_official_checkpoint

    other = write_official_checkpoint(tmp_path / "MobileNetV1_other.pth", "MobileNetV1", seed=1)
    with pytest.raises(CheckpointError, match="another checkpoint"):
        Tagger.from_pretrained(other, head=probe[0], progress=False, backend="torch")
    code = main(["tag", str(tmp_path), "--checkpoint", str(other), "--head", str(probe[0]), "--quiet"])
    assert code == 2


@pytest.mark.slow
def test_probe_run_is_shown_by_the_dashboard(probe):
    from dashboard.data import load_results

    _, results, rows = probe
    (folder,) = [p for p in results.iterdir() if not p.name.startswith(".")]
    run = load_run(folder)
    assert run.info.kind == "probe" and run.info.status == "measured"
    assert run.info.eval_set["clips"] == len(rows) and run.info.eval_set["digest"].startswith("sha256:")
    assert list(run.classwise["display_name"]) == ["my_dog", "my_rooster", "my_cat_noise"]
    assert run.info.metrics["mAP"] == pytest.approx(run.classwise["ap"].mean(), abs=1e-5)
    loaded = load_results(results)
    assert not loaded.warnings
    assert loaded.runs.loc[run.run_id, "animal_mAP"] == pytest.approx(run.info.metrics["mAP"])
