"""Overview shapers on small result folders with known numbers.

Written for mutation testing (tools/mutation.py): each test pins a behaviour a user sees on the
Overview page (which rows, which values, which words), pandas only.
"""

import numpy as np
import pandas as pd
import pytest
from dashboard_runs import NAMES, rows, run

from dashboard import overview
from dashboard.data import load_results
from panns_core.evaluation.results import eval_set_record

INTRO = (
    "Hatched bars are figures reported elsewhere (hover for the source); plain bars were measured with this "
    "project. A bar is the mean AP over the 65 animal classes unless its number says otherwise."
)


@pytest.fixture
def scopes(tmp_path):
    """Animal-class figures of every scope: per-class means over 65 and over 3 classes, own mAPs over 66, 65,
    60 (and 59, without notes) and an unrecorded number of classes."""
    run(tmp_path, "all65", rows({i: 0.5 for i in NAMES.index}))
    run(tmp_path, "fit", rows({72: 0.5, 73: 0.3, 74: 0.2}))  # 0.333, no notes
    run(tmp_path, "fit2", rows({72: 0.3, 73: 0.3, 74: 0.3}), notes="Second try. Same clips.")  # 0.3
    reported = dict(status="reported", kind="reported")
    run(
        tmp_path, "study", metrics={"mAP": 0.561, "classes_scored": 66}, notes="Figures of the study. More.", **reported
    )
    run(
        tmp_path, "partial", metrics={"mAP": 0.45, "classes_scored": 60}, notes="Read off Table X. Rounded.", **reported
    )
    run(tmp_path, "full65", metrics={"mAP": 0.4, "classes_scored": 65}, **reported)
    run(tmp_path, "unknown", metrics={"mAP": 0.2}, notes="Headline only.", **reported)
    run(tmp_path, "part59", metrics={"mAP": 0.1, "classes_scored": 59}, **reported)  # no notes
    return load_results(tmp_path)


def test_each_bar_says_what_its_number_averages(scopes):
    table = overview.animal_overview(scopes).set_index("run_id")
    expected = {
        "all65": ("mean AP over the 65 animal classes", ""),
        "fit": ("mean AP over 3 of the 65 animal classes (the others have no AP)", "3 of 65 classes"),
        "study": ("the run's own mAP over 66 classes, not only the 65 animal classes", "66 classes, not animals only"),
        "partial": ("the run's own mAP over 60 of the 65 animal classes", "60 of 65 classes"),
        "full65": ("the run's own mAP over the 65 animal classes", ""),
        "unknown": ("the run's own mAP; the classes it averaged are not recorded", "classes not recorded"),
    }
    for run_id, (scope, tag) in expected.items():
        assert (table.loc[run_id, "scope"], table.loc[run_id, "scope_tag"]) == (scope, tag), run_id


def test_overview_table_columns_and_order(scopes):
    table = overview.animal_overview(scopes)
    assert table.columns.tolist() == [
        "label",
        "group",
        "status",
        "animal_mAP",
        "animal_classes",
        "scope",
        "scope_tag",
        "animal_mAP_from",
        "model",
        "display_name",
        "trained_on",
        "iterations",
        "source",
        "notes",
        "run_id",
    ]
    assert table["run_id"].tolist() == ["study", "all65", "partial", "full65", "fit", "fit2", "unknown", "part59"]
    row = table.set_index("run_id").loc["fit"]
    assert row["animal_classes"] == 3 and row["animal_mAP_from"] == "mean of per-class AP"
    assert row["trained_on"] == "animal" and pd.isna(row["iterations"])


def test_scope_caption_names_every_odd_bar_in_chart_order_with_its_notes(scopes):
    caption = overview.scope_caption(overview.animal_overview(scopes))
    assert caption == (
        INTRO
        + " study [reported]: the run's own mAP over 66 classes, not only the 65 animal classes"
        + ' (notes: "Figures of the study.").'
        + ' partial [reported]: the run\'s own mAP over 60 of the 65 animal classes (notes: "Read off Table X.").'
        # fit has no notes: the group's first notes are fit2's
        + " fit [measured], fit2 [measured]: mean AP over 3 of the 65 animal classes (the others have no AP)"
        + ' (notes: "Second try.").'
        + " unknown [reported]: the run's own mAP; the classes it averaged are not recorded"
        + ' (notes: "Headline only.").'
        + " part59 [reported]: the run's own mAP over 59 of the 65 animal classes."
    )


def test_scope_caption_of_plain_bars_is_the_intro_only(scopes):
    table = overview.animal_overview(scopes)
    assert overview.scope_caption(table[table["scope_tag"] == ""]) == INTRO


@pytest.fixture
def general(tmp_path):
    """Two general models with per-class AP and a 527-class mAP, a paper's 527-only CNN14, an animal-only run."""
    run(tmp_path, "base", rows({72: 0.4, 73: 0.6}), model="Cnn14", trained_on="audioset", label_set="audioset",
        metrics={"mAP": 0.3})  # fmt: skip
    run(tmp_path, "res", rows({72: 0.7, 73: 0.5}), model="ResNet38", trained_on="audioset", label_set="audioset",
        metrics={"mAP": 0.35})  # fmt: skip
    run(tmp_path, "paper527", model="Cnn14", trained_on="audioset", label_set="audioset", metrics={"mAP": 0.431},
        status="reported", kind="reported")  # fmt: skip
    run(tmp_path, "fit", rows({72: 0.9, 73: 0.9}))
    return load_results(tmp_path)


def test_527_class_figures_best_first(general):
    overall = overview.overall_527(general)
    assert overall["run_id"].tolist() == ["paper527", "res", "base"]
    assert overall[overview.MAP_527].tolist() == [0.431, 0.35, 0.3]


def test_comparability_note_pairs_each_general_model_with_its_527_figure(general):
    note = overview.comparability_note(general)
    assert note == (
        "A mAP is a mean over classes, so it depends on which classes are averaged. The 527-class figures "
        "average over all of AudioSet (speech subtypes, music genres, rare sounds), most of them harder than "
        "animals; a mAP over the 65 animal classes is on an easier, different set. "
        "The same general models: ResNet38: 0.350 on 527 classes but 0.600 on the animal classes; "
        "Cnn14: 0.431 on 527 classes but 0.500 on the animal classes. "
        "The reference study set its animal-only mAPs against the general model's 527-class 0.439; the fair "
        "comparison is the general model on the same animal classes (above). The study's own figures were also "
        "averaged over 66 classes (Music, index 137, was kept by mistake)."
    )


def test_comparability_note_without_pairs_keeps_its_explanation(tmp_path):
    run(tmp_path, "fit", rows({72: 0.9}))
    note = overview.comparability_note(load_results(tmp_path))
    assert "The same general models" not in note
    assert note.startswith("A mAP is a mean over classes") and note.endswith("(Music, index 137, was kept by mistake).")
    assert "different set. The reference study set its animal-only mAPs" in note


def _general_runs(root, runs):
    for run_id, model, status in runs:
        kind = "reported" if status == "reported" else "evaluate"
        run(root, run_id, rows({72: 0.5}), model=model, status=status, kind=kind, trained_on="audioset")
    run(root, "z_animal", rows({72: 0.5}), model="Cnn14")
    return load_results(root)


def test_default_baseline_prefers_a_measured_cnn14(tmp_path):
    res = _general_runs(
        tmp_path,
        [("a_resnet", "ResNet38", "measured"), ("b_paper", "Cnn14", "reported"), ("c_cnn", "Cnn14", "measured")],
    )
    assert overview.default_baseline(res) == "c_cnn"


def test_default_baseline_then_the_papers_cnn14_then_any_general_model(tmp_path):
    res = _general_runs(tmp_path / "one", [("a_resnet", "ResNet38", "measured"), ("b_paper", "Cnn14", "reported")])
    assert overview.default_baseline(res) == "b_paper"
    res = _general_runs(
        tmp_path / "two", [("b_resnet", "ResNet38", "reported"), ("c_mobile", "MobileNetV1", "measured")]
    )
    assert overview.default_baseline(res) == "b_resnet"


WINS_COLUMNS = [
    "label",
    "at_iteration",
    "classes",
    "better",
    "worse",
    "equal",
    "mAP",
    "baseline_mAP",
    "mean_difference",
    "eval_set",
    "same_eval_set",
    "run_id",
]


@pytest.fixture
def wins_folder(tmp_path):
    """base (general, clips E1); a_fit (trained to iteration 100, clips E1); z_rep (reported, other clips)."""
    e1, e2 = eval_set_record("eval.h5", ["Ya", "Yb"]), eval_set_record("mine.h5", ["Yc"])
    run(tmp_path, "base", rows({72: 0.4, 73: 0.3, 74: 0.6}), trained_on="audioset", eval_set=e1)
    fit_rows = pd.concat([rows({72: 0.1, 73: 0.1, 74: 0.1}, 0), rows({72: 0.5, 73: 0.3, 74: 0.2}, 100)])
    run(tmp_path, "a_fit", fit_rows, kind="fit", eval_set=e1)
    run(tmp_path, "z_rep", rows({72: 0.9, 73: 0.9}), status="reported", kind="reported", eval_set=e2)
    return load_results(tmp_path)


def test_class_wins_counts_better_worse_and_equal_classes(wins_folder):
    wins = overview.class_wins(wins_folder, "base")
    assert wins.columns.tolist() == WINS_COLUMNS
    assert wins["run_id"].tolist() == ["z_rep", "a_fit"]  # best mean difference first, baseline left out
    assert wins.index.tolist() == [0, 1]
    fit = wins.set_index("run_id").loc["a_fit"]
    # 72: 0.5 > 0.4, 73: 0.3 == 0.3, 74: 0.2 < 0.6, at its last evaluated iteration
    assert (fit["classes"], fit["better"], fit["worse"], fit["equal"]) == (3, 1, 1, 1)
    assert fit["label"] == "a_fit [measured]" and fit["at_iteration"] == 100
    assert fit["mAP"] == pytest.approx(1.0 / 3) and fit["baseline_mAP"] == pytest.approx(1.3 / 3)
    assert fit["mean_difference"] == pytest.approx(-0.1)
    assert fit["eval_set"] == "eval.h5, 2 clips" and fit["same_eval_set"] is np.True_
    rep = wins.set_index("run_id").loc["z_rep"]
    assert (rep["classes"], rep["better"], rep["worse"], rep["equal"]) == (2, 2, 0, 0)
    assert rep["at_iteration"] is pd.NA and rep["eval_set"] == "mine.h5, 1 clips" and not rep["same_eval_set"]


def test_class_wins_without_other_runs_is_an_empty_table_with_its_columns(wins_folder):
    assert overview.class_wins(wins_folder, "nope").columns.tolist() == WINS_COLUMNS
    only = load_results(wins_folder.root)
    only.final = only.final[only.final["run_id"] == "base"]
    alone = overview.class_wins(only, "base")
    assert alone.empty and alone.columns.tolist() == WINS_COLUMNS


def test_class_wins_take_a_class_listed_twice_at_its_first_ap(tmp_path):
    run(tmp_path, "base", rows({72: 0.4}))
    run(tmp_path, "twice", rows([(72, 0.2), (72, 0.6)]), status="reported", kind="reported")
    wins = overview.class_wins(load_results(tmp_path), "base").set_index("run_id")
    assert wins.loc["twice", "worse"] == 1 and wins.loc["twice", "mAP"] == pytest.approx(0.2)


def test_across_sets_caption_names_only_the_runs_on_other_clips(wins_folder):
    wins = overview.class_wins(wins_folder, "base")
    caption = overview.across_sets_caption(wins, "base [measured]", "eval.h5, 2 clips")
    assert caption == (
        "Across evaluation sets: z_rep [reported] were not scored on the same clips as base [measured] "
        "(eval.h5, 2 clips); their differences mix the models with the clips."
    )
    assert overview.across_sets_caption(wins[wins["run_id"] == "a_fit"], "base [measured]", "x") == ""
    both = wins.assign(same_eval_set=False)
    assert "z_rep [reported], a_fit [measured] were not" in overview.across_sets_caption(both, "b", "x")
