"""Training-curve shapers (dashboard/curves.py) on a small result folder with known numbers.

Written for mutation testing (tools/mutation.py): which runs, groups, hover texts and table rows the
Training curves page shows, pandas only.
"""

import pandas as pd
import pytest
from dashboard_runs import NAMES, rows, run

from dashboard import curves
from dashboard.data import load_results

BALANCING = "Balancing (and mixup)"  # a title with brackets of its own


@pytest.fixture
def res(tmp_path):
    """a_fit (batch 16, balanced, 6 classes), b_fit (lr only), two reported study figures, an undated one."""
    a_rows = pd.concat(
        [
            rows({i: 0.1 for i in range(72, 78)}, 0),
            rows({72: 0.9, 73: 0.8, 74: 0.7, 75: 0.6, 76: 0.5, 77: 0.4}, 100),
        ]
    )
    a_curve = pd.DataFrame({"iteration": [100, 0], "mAP": [0.65, 0.1], "loss": [0.2, 0.7]})  # written unsorted
    run(tmp_path, "a_fit", a_rows, a_curve, kind="fit", settings={"batch_size": 16, "balanced": True})
    b_rows = pd.concat([rows({72: 0.2}, 0), rows({72: 0.3}, 50)])
    b_curve = pd.DataFrame({"iteration": [0, 50], "mAP": [0.2, 0.3]})
    run(tmp_path, "b_fit", b_rows, b_curve, kind="fit", settings={"lr": 0.001})
    reported = dict(status="reported", kind="reported", source="the study")
    run(tmp_path, "paper_b", iterations=14000, metrics={"mAP": 0.561, "classes_scored": 66},
        settings={"batch_size": 32}, extra={"figure": {"comparisons": {"b": BALANCING}}}, **reported)  # fmt: skip
    run(tmp_path, "paper_c", iterations=20000, metrics={"mAP": 0.5, "classes_scored": 65},
        extra={"figure": {"comparisons": {"c": "Amount of data", "d": "Batch size"}}}, **reported)  # fmt: skip
    run(tmp_path, "paper_faint", metrics={"mAP": 0.4}, extra={"figure": {"comparisons": {"b": BALANCING}}},
        **reported)  # fmt: skip
    return load_results(tmp_path)


def test_study_comparisons_are_listed_once_each_in_panel_order(res):
    assert curves.study_comparisons(res) == [f"(b) {BALANCING}", "(c) Amount of data", "(d) Batch size"]


def test_a_comparison_keeps_its_panels_runs_and_every_measured_run(res):
    ids = ["paper_c", "paper_b", "a_fit", "paper_faint"]
    assert curves.runs_in_comparison(res, ids, curves.ALL_RUNS) == ids
    assert curves.runs_in_comparison(res, ids, f"(b) {BALANCING}") == ["paper_b", "a_fit", "paper_faint"]
    assert curves.runs_in_comparison(res, ids, "(c) Amount of data") == ["paper_c", "a_fit"]
    assert curves.runs_in_comparison(res, ["paper_b"], "(d) Batch size") == []


def test_colour_options_follow_the_chosen_runs_settings(res):
    assert curves.colour_options(res, ["b_fit", "nope"]) == ["run", "model", "trained_on", "lr"]
    assert curves.colour_options(res, ["a_fit"]) == ["run", "model", "trained_on", "batch_size", "balanced"]


def test_map_curves_groups_and_hover_text(res):
    table = curves.map_curves(res, ["a_fit", "b_fit"], "batch_size")
    assert table.columns.tolist() == [
        "run_id",
        "label",
        "group",
        "settings",
        "iteration",
        "mAP",
        "mean_auc",
        "d_prime",
        "loss",
        "status",
        "source",
    ]
    assert table.index.tolist() == [0, 1, 2, 3]
    assert table["status"].tolist() == ["measured"] * 4 and table["source"].tolist() == ["measured here"] * 4
    assert table["iteration"].tolist() == [0, 100, 0, 50] and table["mAP"].tolist() == [0.1, 0.65, 0.2, 0.3]
    by_run = table.drop_duplicates("run_id").set_index("run_id")
    assert by_run.loc["a_fit", "group"] == "batch_size=16" and by_run.loc["b_fit", "group"] == "batch_size not recorded"
    assert by_run.loc["a_fit", "settings"] == "batch_size=16, balanced=True"
    assert by_run.loc["b_fit", "settings"] == "lr=0.001"


def test_reported_points_are_the_dated_figures_with_their_settings(res):
    points = curves.reported_points(res)
    assert points.columns.tolist() == ["run_id", "label", "iteration", "mAP", "scope", "settings", "source"]
    assert points["run_id"].tolist() == ["paper_b", "paper_c"]  # paper_faint has no iteration
    assert [str(i) for i in points["iteration"]] == ["14000", "20000"]
    assert points["settings"].tolist() == ["batch_size=32", "no settings recorded"]
    assert points["scope"].tolist() == [
        "the run's own mAP over 66 classes, not only the 65 animal classes",
        "the run's own mAP over the 65 animal classes",
    ]


def test_curve_table_lists_measured_rows_then_reported_points(res):
    measured, points = curves.map_curves(res, ["a_fit"]), curves.reported_points(res)
    table = curves.curve_table(measured, points)
    assert table.columns.tolist() == [
        "label",
        "status",
        "iteration",
        "mAP",
        "mean_auc",
        "d_prime",
        "loss",
        "group",
        "settings",
        "scope",
        "source",
        "run_id",
    ]
    assert table.index.tolist() == [0, 1, 2, 3]
    assert table["run_id"].tolist() == ["a_fit", "a_fit", "paper_b", "paper_c"]
    assert table["group"].tolist() == ["a_fit [measured]"] * 2 + ["paper_b [reported]", "paper_c [reported]"]
    assert (
        table["scope"].tolist()[:2] == ["", ""]
        and table["source"].tolist() == ["measured here"] * 2 + ["the study"] * 2
    )
    assert table["loss"].tolist()[:2] == [0.7, 0.2] and table["settings"].iloc[0] == "batch_size=16, balanced=True"
    empty = curves.curve_table(curves.map_curves(res, []), points.iloc[0:0])
    assert empty.empty and empty.columns.tolist() == table.columns.tolist()


def test_classes_with_curves_and_the_default_spread(res):
    assert curves.classes_with_curves(res, "paper_b").columns.tolist() == ["index", "mid", "class", "final_ap"]
    candidates = curves.classes_with_curves(res, "a_fit")
    assert candidates["final_ap"].tolist() == [0.9, 0.8, 0.7, 0.6, 0.5, 0.4]
    # five of the six by default, from the easiest to the hardest (positions 0, 1, 2, 4, 5 of the ranking)
    assert curves.default_classes(candidates) == [NAMES[i] for i in (72, 73, 74, 76, 77)]


def test_class_curves_are_of_the_chosen_run_only(res):
    table = curves.class_curves(res, "b_fit", [NAMES[72]])
    assert table.columns.tolist() == ["class", "index", "iteration", "ap", "auc", "positives"]
    assert table["iteration"].tolist() == [0, 50] and table["ap"].tolist() == [0.2, 0.3]
    assert table.index.tolist() == [0, 1]


def test_default_classes_pick_by_ap_alone():
    candidates = pd.DataFrame(
        {"index": [1, 2, 3], "mid": ["/m/a", None, "/m/c"], "class": ["A", "B", "C"], "final_ap": [0.9, 0.5, None]}
    )
    assert curves.default_classes(candidates, 3) == ["A", "B"]  # B's missing mid does not matter; C has no AP
