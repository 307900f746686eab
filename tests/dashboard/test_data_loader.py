"""The dashboard's loader (dashboard/data.py) on small result folders with known contents.

Written for mutation testing (tools/mutation.py): the runs table every page reads (its columns and
the text in them), the cache key, the empty tables of a folder without per-class results, pandas only.
"""

import pandas as pd
from dashboard_runs import rows, run

from dashboard.data import folder_signature, load_results
from panns_core.evaluation.results import eval_set_record

RUN_COLUMNS = [
    "run_id",
    "label",
    "display_name",
    "model",
    "kind",
    "status",
    "trained_on",
    "label_set",
    "source",
    "iterations",
    "hardware",
    "created",
    "notes",
    "reported_mAP",
    "classes_scored",
    "eval_set",
    "eval_key",
    "figure",
    "comparisons",
    "series",
    "batch_size",
    "balanced",
    "mixup",
    "data_fraction",
    "lr",
]
CLASSWISE_COLUMNS = ["iteration", "index", "mid", "display_name", "ap", "auc", "positives", "train_clips"]
FIGURE = {
    "file": "four_figures_final.png",
    "panels": ["b", "c"],
    "series": "solid",
    "comparisons": {"b": "Balancing", "c": "Amount of data"},
}


def test_folder_signature_names_its_folder_and_follows_class_stats(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    assert folder_signature(a) != folder_signature(b)  # two empty folders are two cache entries
    assert folder_signature(a)[0] == str(a)
    missing = tmp_path / "nope"
    assert folder_signature(missing) == (str(missing), None)
    before = folder_signature(a)
    (a / "README.md").write_text("not read by the dashboard")
    assert folder_signature(a) == before
    (a / "class_stats.csv").write_text("index,label_quality\n72,0.5\n")
    with_stats = folder_signature(a)
    assert with_stats != before and with_stats[0] == str(a)
    (a / "class_stats.csv").write_text("index,label_quality\n72,0.75\n")
    assert folder_signature(a) != with_stats


def test_runs_that_would_look_alike_get_their_run_id(tmp_path):
    run(tmp_path, "twin_a", rows({72: 0.5}), model="Cnn14")
    run(tmp_path, "twin_b", rows({72: 0.6}), model="Cnn14")
    run(tmp_path, "single", rows({72: 0.7}), model="ResNet38")
    labels = load_results(tmp_path).runs["label"]
    assert labels.to_dict() == {
        "single": "ResNet38 [measured]",
        "twin_a": "Cnn14 [measured] (twin_a)",
        "twin_b": "Cnn14 [measured] (twin_b)",
    }


def test_runs_table_carries_what_the_pages_show(tmp_path):
    run(
        tmp_path,
        "fit",
        rows({72: 0.5}, 100),
        kind="fit",
        display_name="My CNN14",
        hardware="one GPU",
        created="2026-01-02T03:04:05+00:00",
        iterations=100,
        eval_set={"name": "AudioSet eval", "clips": 20000, "digest": None},
    )
    run(
        tmp_path,
        "paper",
        rows({72: 0.4}),
        status="reported",
        kind="reported",
        source="the study's README",
        eval_set={"name": "the study's download", "clips": None},
        extra={"figure": FIGURE},
    )
    run(tmp_path, "odd", rows({72: 0.3}), extra={"figure": "a_plot.png"})  # not the usual figure object
    runs = load_results(tmp_path).runs
    assert runs.columns.tolist()[: len(RUN_COLUMNS)] == RUN_COLUMNS and runs.index.tolist() == runs["run_id"].tolist()
    fit, paper, odd = runs.loc["fit"], runs.loc["paper"], runs.loc["odd"]
    assert (fit["display_name"], fit["kind"], fit["source"]) == ("My CNN14", "fit", "measured here")
    assert (fit["hardware"], fit["created"]) == ("one GPU", "2026-01-02T03:04:05+00:00")
    assert str(fit["iterations"]) == "100" and pd.isna(paper["iterations"])  # 100, not 100.0
    assert fit["eval_set"] == "AudioSet eval, 20,000 clips" and paper["eval_set"] == "the study's download"
    assert odd["eval_set"] == "not recorded"
    assert (paper["kind"], paper["source"]) == ("reported", "the study's README")
    assert paper["figure"] == "four_figures_final.png, panel (b), (c)"
    assert paper["comparisons"] == {"b": "Balancing", "c": "Amount of data"} and paper["series"] == "solid"
    for row in (fit, odd):  # no figure object: nothing to say, and the page must not fail
        assert (row["figure"], row["comparisons"], row["series"]) == ("", {}, "")


def test_figure_text_without_a_file_or_with_one_panel(tmp_path):
    run(tmp_path, "no_file", rows({72: 0.5}), extra={"figure": {"panels": ["d"]}})
    run(tmp_path, "xeno", rows({72: 0.5}), extra={"figure": {"file": "Xeno-canto.png", "panels": ["a"]}})
    run(tmp_path, "empty", rows({72: 0.5}), extra={"figure": {"file": "fig.png", "comparisons": None}})
    runs = load_results(tmp_path).runs
    assert runs.loc["no_file", "figure"] == "panel (d)"
    assert runs.loc["xeno", "figure"] == "Xeno-canto.png, panel (a)"
    assert runs.loc["empty", "comparisons"] == {} and runs.loc["empty", "series"] == ""


def test_where_each_animal_map_comes_from(tmp_path):
    run(tmp_path, "fit", rows({72: 0.5, 73: 0.7}))
    run(tmp_path, "headline", status="reported", kind="reported", metrics={"mAP": 0.56, "classes_scored": "66?"})
    run(tmp_path, "all527", status="reported", kind="reported", trained_on="audioset", label_set="audioset",
        metrics={"mAP": 0.43})  # fmt: skip
    res = load_results(tmp_path)
    assert res.root == tmp_path
    runs = res.runs
    assert runs.loc["fit", "animal_mAP_from"] == "mean of per-class AP"
    assert runs.loc["headline", "animal_mAP_from"] == "the run's own mAP, no per-class table"
    assert runs.loc["all527", "animal_mAP_from"] == ""
    assert runs.loc["headline", "animal_mAP"] == 0.56 and pd.isna(runs.loc["headline", "animal_classes"])
    assert pd.isna(runs.loc["all527", "animal_mAP"])


def test_a_folder_without_class_rows_has_empty_tables_of_the_right_shape(tmp_path):
    run(tmp_path, "headline", status="reported", kind="reported", metrics={"mAP": 0.56})
    run(tmp_path, "other", status="reported", kind="reported", metrics={"mAP": 0.5, "classes_scored": 60})
    res = load_results(tmp_path)
    assert res.classwise.empty and res.final.empty and res.curves.empty
    assert res.classwise.columns.tolist() == [*CLASSWISE_COLUMNS, "run_id", "label"]
    assert res.curves.columns.tolist() == ["iteration", "mAP", "mean_auc", "d_prime", "loss", "run_id", "label"]
    # the headline figures are numbers (the pages sort, round and format them)
    assert res.runs["animal_mAP"].dtype == "float64"
    assert res.runs["animal_mAP"].round(2).to_dict() == {"headline": 0.56, "other": 0.5}


def test_class_and_curve_tables_are_numbered_rows_without_extra_columns(tmp_path):
    curve = pd.DataFrame({"iteration": [0, 100], "mAP": [0.2, 0.4]})
    run(tmp_path, "a", pd.concat([rows({72: 0.1, 0: 0.9}, 0), rows({72: 0.5, 0: 0.9}, 100)]), curve, kind="fit")
    run(tmp_path, "b", rows({72: 0.3, 73: 0.6}, 50), curve, kind="fit")
    res = load_results(tmp_path)
    for table in (res.classwise, res.final, res.curves):
        assert table.index.tolist() == list(range(len(table)))
    assert res.classwise.columns.tolist() == res.final.columns.tolist() == [*CLASSWISE_COLUMNS, "run_id", "label"]
    assert len(res.classwise) == 4 and set(res.classwise["index"]) == {72, 73}  # class 0 is not an animal
    assert res.final[["run_id", "index", "ap"]].values.tolist() == [["a", 72, 0.5], ["b", 72, 0.3], ["b", 73, 0.6]]
    assert res.curves["run_id"].tolist() == ["a", "a", "b", "b"]


def test_a_class_stats_file_without_an_index_column_is_a_warning(tmp_path):
    run(tmp_path, "fit", rows({72: 0.5}))
    (tmp_path / "class_stats.csv").write_text("class,label_quality\nBark,0.5\n")
    res = load_results(tmp_path)
    path = tmp_path / "class_stats.csv"
    assert res.warnings == [f"skipped {path}: {path}: no 'index' column"]
    assert res.class_stats is None and res.runs.loc["fit", "animal_mAP"] == 0.5


def test_eval_sets_of_the_same_clips_share_a_key(tmp_path):
    run(tmp_path, "one", rows({72: 0.5}), eval_set=eval_set_record("eval.h5", ["Ya", "Yb"]))
    run(tmp_path, "two", rows({72: 0.5}), eval_set=eval_set_record("other name.h5", ["Yb", "Ya"]))
    runs = load_results(tmp_path).runs
    assert runs.loc["one", "eval_key"] == runs.loc["two", "eval_key"] != ""
    assert runs.loc["two", "eval_set"] == "other name.h5, 2 clips"
