"""Trust per class: the AP beside each class comes from results/, with its source, and low AP is flagged."""

import csv
from pathlib import Path

import pandas as pd
import pytest

from demo.compare import (
    ModelAnswer,
    answer,
    comparison_frame,
    comparison_markdown,
    disagreements,
)
from demo.trust import LOW_AP, NO_FIGURE, ClassTrust, ModelTrust, TrustIndex, trust_cell
from panns_core.errors import CheckpointError
from panns_core.evaluation.results import RunInfo, write_run

REPO = Path(__file__).resolve().parents[2]
BARK, CAT, COW = "/m/05tny_", "/m/01yrx", "/m/01xq0k1"


def reported_ap(run_id: str, mid: str) -> float:
    with open(REPO / "results" / run_id / "classwise.csv", newline="") as f:
        return next(float(row["ap"]) for row in csv.DictReader(f) if row["mid"] == mid)


@pytest.fixture(scope="module")
def index():
    return TrustIndex(REPO / "results")


@pytest.mark.parametrize(
    "name, run_id",
    [
        ("Cnn14", "reported_panns_cnn14_animal"),
        ("Wavegram_Logmel_Cnn14", "reported_panns_wavegram_logmel_cnn14_animal"),
        ("MobileNetV1", "reported_panns_mobilenetv1_animal"),
    ],
)
def test_released_models_show_the_papers_per_class_ap(index, name, run_id):
    trust = index.for_released(name)
    for mid in (BARK, CAT):
        assert trust.of(mid).ap == reported_ap(run_id, mid)
    assert run_id in trust.source and "PANNs" in trust.source and "reported" in trust.source


def test_resnet38_has_no_per_class_figure(index):
    trust = index.for_released("ResNet38").of(BARK)
    assert trust.ap is None and trust_cell(trust) == f"*{NO_FIGURE}*"


def test_low_ap_is_marked_less_reliable_with_the_source_on_hover():
    low = trust_cell(ClassTrust(LOW_AP - 0.01, 'run "x" <b>'))
    assert "less reliable" in low and 'title="run &quot;x&quot; &lt;b&gt;"' in low  # escaped, inert
    assert "less reliable" not in trust_cell(ClassTrust(LOW_AP, "run x"))


def classwise(iteration, aps: dict) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "iteration": iteration,
            "index": range(len(aps)),
            "mid": list(aps),
            "display_name": list(aps),
            "ap": list(aps.values()),
        }
    )


def measured(root, run_id, checkpoint, table, created="2026-01-01T00:00:00+00:00"):
    info = RunInfo(
        run_id=run_id,
        kind="fit",
        status="measured",
        model="MobileNetV1",
        trained_on="animal",
        label_set="animal",
        checkpoint=checkpoint,
        created=created,
    )
    write_run(root, info, table)


def test_a_trained_checkpoint_shows_its_own_runs_latest_ap(tmp_path):
    weights = tmp_path / "runs" / "pets-1" / "checkpoint.pth"
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"x")
    results = tmp_path / "results"
    table = pd.concat([classwise(2000, {BARK: 0.8, CAT: 0.25}), classwise(1000, {BARK: 0.2, CAT: 0.1})])
    measured(results, "pets-1", str(weights), table)
    measured(results, "other", str(tmp_path / "elsewhere.pth"), classwise(5, {BARK: 0.99}))
    index = TrustIndex(results)

    by_path = index.for_checkpoint(weights)
    assert (by_path.of(BARK).ap, by_path.of(CAT).ap) == (0.8, 0.25)  # the last evaluated iteration
    assert "measured in run pets-1, iteration 2000" in by_path.source and by_path.of(CAT).low
    # a copy elsewhere is still matched by the run id its training config carries
    assert index.for_checkpoint(tmp_path / "copy.pth", run_id="pets-1").of(BARK).ap == 0.8
    assert index.for_checkpoint(tmp_path / "unknown.pth").of(BARK).ap is None
    assert TrustIndex(tmp_path / "absent").for_released("Cnn14").of(BARK).ap is None


class FakeTagger:
    sample_rate = 32000

    def __init__(self, scores):
        self.scores = scores

    def predict(self, wave, rate):
        return type(
            "R", (), {"top": lambda _, k, threshold: [(n, m, s) for n, m, s in self.scores if s >= threshold][:k]}
        )()


def test_compare_lists_each_model_marks_disagreement_and_an_unavailable_one():
    trust = ModelTrust({BARK: 0.9, CAT: 0.2}, "reported in run r")
    models = {
        "a": FakeTagger([("Bark", BARK, 0.9), ("Cat", CAT, 0.6)]),
        "b": FakeTagger([("Bark", BARK, 0.8), ("Cow", COW, 0.3)]),
    }

    def load(key):
        if key == "broken":
            raise CheckpointError("broken.pth does not fit Cnn14: 3 shape mismatches")
        return models[key], trust

    answers = [answer(k, k.upper(), load, [0.0], 32000, 5, 0.5) for k in ("a", "b", "broken")]
    assert [t[0] for t in answers[0].top] == ["Bark", "Cat"] and [t[0] for t in answers[1].top] == ["Bark"]
    assert answers[2].unavailable == "broken.pth does not fit Cnn14: 3 shape mismatches"
    assert disagreements(answers) == {"Cat": ["A"]}  # B did not find it; the broken model has no say

    text = comparison_markdown(answers, 0.5)
    assert text.splitlines()[0] == "| # | A | B | BROKEN |"
    assert "**Cat** 0.60 · " in text and "less reliable" in text and "**unavailable**: broken.pth" in text
    assert "**The models disagree on** (at or above 0.5): **Cat**: only A." in text

    table = comparison_frame(answers)
    assert table[["model", "class", "ap"]].values.tolist()[:3] == [
        ["A", "Bark", 0.9],
        ["A", "Cat", 0.2],
        ["B", "Bark", 0.9],
    ]
    assert table["less_reliable"].tolist()[:3] == [False, True, False]
    assert table["class"].iloc[-1].startswith("unavailable: broken.pth")


def test_models_that_agree_are_said_to():
    same = [
        ModelAnswer("a", "A", [("Bark", BARK, 0.9, ClassTrust(None))]),
        ModelAnswer("b", "B", [("Bark", BARK, 0.7, ClassTrust(None))]),
    ]
    assert disagreements(same) == {}
    assert "agree on every class" in comparison_markdown(same, 0.5)
