"""Dashboard loaders and shapers (pandas only) on small result folders written here, with known numbers."""

import json

import numpy as np
import pandas as pd
import pytest
from synthetic_results import write_synthetic_results

from dashboard import charts, compare, curves, effect, overview
from dashboard.classes import animal_classes, branches
from dashboard.config import ENV_VAR, results_dir
from dashboard.data import folder_signature, load_results
from panns_core.evaluation.results import RunInfo, eval_set_record, write_run

NAMES = animal_classes().set_index("index")["class"]
MIDS = animal_classes().set_index("index")["mid"]


def _rows(iteration, aps, **extra):
    """Class-wise rows for {index: ap}; index 0 (Speech) stands for a non-animal class."""
    mids = {0: "/m/09x0r", **MIDS.to_dict()}
    names = {0: "Speech", **NAMES.to_dict()}
    return [
        dict(iteration=iteration, index=i, mid=mids[i], display_name=names[i], ap=ap, **extra) for i, ap in aps.items()
    ]


@pytest.fixture
def folder(tmp_path):
    """fit_a (animal-only, 2 evaluations), general (527-class evaluate), study (reported headline), one broken run."""
    fit = RunInfo(
        run_id="fit_a",
        kind="fit",
        status="measured",
        model="Cnn14",
        trained_on="animal",
        label_set="animal",
        settings={"batch_size": 16, "balanced": True},
        iterations=100,
    )
    # class 75 (Bark) is scored by fit_a only: the baseline "general" never scores it, so comparisons "on the
    # classes both runs share" must leave it out (its AP 0.6 keeps fit_a's own mean at 0.6)
    cw = pd.DataFrame(
        _rows(0, {72: 0.1, 73: 0.2, 74: 0.3, 75: 0.1}, train_clips=50)
        + _rows(100, {72: 0.5, 73: np.nan, 74: 0.7, 75: 0.6}, train_clips=50)
    )
    cw.loc[cw["index"] == 74, "train_clips"] = 5000
    cw.loc[cw["index"] == 75, "train_clips"] = np.nan
    write_run(tmp_path, fit, cw, pd.DataFrame({"iteration": [0, 100], "mAP": [0.2, 0.6]}))
    general = RunInfo(
        run_id="general",
        kind="evaluate",
        status="measured",
        model="Cnn14",
        trained_on="audioset",
        label_set="audioset",
        metrics={"mAP": 0.3},
    )
    write_run(tmp_path, general, pd.DataFrame(_rows(None, {0: 0.99, 72: 0.4, 73: 0.1, 74: 0.9})))
    study = RunInfo(
        run_id="study",
        kind="reported",
        status="reported",
        model="Cnn14",
        display_name="Study CNN14",
        trained_on="animal",
        label_set="animal",
        source="a README",
        iterations=14000,
        metrics={"mAP": 0.561, "classes_scored": 66},
    )
    write_run(tmp_path, study)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "run.json").write_text(json.dumps({"run_id": "broken"}))
    return tmp_path


def test_load_results_labels_final_rows_and_animal_map(folder):
    res = load_results(folder)
    assert len(res.warnings) == 1 and str(folder / "broken" / "run.json") in res.warnings[0]
    runs = res.runs
    assert runs.loc["fit_a", "label"] == "Cnn14 [measured]"
    assert runs.loc["general", "label"] == "Cnn14 [measured] (527-class model)"  # the model's scope, not a number's
    assert runs.loc["study", "label"] == "Study CNN14 [reported]"
    assert set(res.classwise["index"]) == {72, 73, 74, 75}  # Speech dropped: not an animal class
    fit_final = res.final[res.final["run_id"] == "fit_a"]
    assert fit_final["iteration"].tolist() == [100, 100, 100, 100]
    assert runs.loc["fit_a", "animal_mAP"] == pytest.approx(0.6)  # (0.5 + 0.7 + 0.6) / 3, NaN class left out
    assert runs.loc["fit_a", "animal_classes"] == 3
    assert runs.loc["general", "animal_mAP"] == pytest.approx((0.4 + 0.1 + 0.9) / 3)
    assert runs.loc["study", "animal_mAP"] == 0.561 and runs.loc["study", "animal_classes"] == 66
    assert "own mAP" in runs.loc["study", "animal_mAP_from"]


def test_overview_tables_keep_527_class_figures_apart(folder):
    res = load_results(folder)
    table = overview.animal_overview(res)
    assert table["run_id"].tolist() == ["fit_a", "study", "general"]  # animal-only first, best first
    assert table["group"].tolist() == [overview.GROUP_ANIMAL] * 2 + [overview.GROUP_GENERAL]
    overall = overview.overall_527(res)
    assert overall["run_id"].tolist() == ["general"] and overall[overview.MAP_527].item() == 0.3
    note = overview.comparability_note(res)
    assert "0.300 on 527 classes but 0.467 on the animal classes" in note


def test_class_wins_compares_on_shared_classes_only(folder):
    res = load_results(folder)
    assert overview.default_baseline(res) == "general"  # a measured general CNN14
    wins = overview.class_wins(res, "general").set_index("run_id")
    row = wins.loc["fit_a"]
    # 72: 0.5 > 0.4, 74: 0.7 < 0.9; 75 (only fit_a scored it) and 73 (fit_a has no AP) are not shared
    assert (row["classes"], row["better"], row["worse"]) == (2, 1, 1)
    assert row["mAP"] == pytest.approx(0.6) and row["baseline_mAP"] == pytest.approx(0.65)
    assert row["mean_difference"] == pytest.approx(-0.05)
    assert overview.class_wins(res, "nope").empty


def test_class_table_filters_differences_and_sorting(folder):
    res = load_results(folder)
    assert compare.comparable_runs(res) == ["fit_a", "general"]
    table = compare.class_table(res, ["fit_a", "general"], baseline="general")
    assert len(table) == 65
    row = table.set_index("index").loc[72]
    assert row["AP: Cnn14 [measured]"] == 0.5
    assert row["vs baseline: Cnn14 [measured]"] == pytest.approx(0.1)
    assert "vs baseline: Cnn14 [measured] (527-class model)" not in table.columns  # no self-difference
    assert table.columns[:4].tolist() == [
        "class",
        "AP: Cnn14 [measured]",
        "AP: Cnn14 [measured] (527-class model)",
        "vs baseline: Cnn14 [measured]",
    ]  # the numbers first, on screen
    domestic = compare.class_table(res, ["fit_a"], branches=["Domestic animals, pets"])
    assert set(domestic["branch"]) == {"Domestic animals, pets"} and "Dog" in set(domestic["class"])
    assert len(domestic) < 65
    dogs = compare.class_table(res, ["fit_a"], query="DOG")
    assert "Dog" in set(dogs["class"]) and "Bark" in set(dogs["class"])  # Bark matches through its path
    assert compare.class_table(res, ["fit_a"], query="no such animal").empty
    by_diff = compare.sort_table(table, "vs baseline: Cnn14 [measured]", descending=True)
    assert by_diff["index"].tolist()[:2] == [72, 74] and by_diff["vs baseline: Cnn14 [measured]"].iloc[2:].isna().all()
    by_name = compare.sort_table(table, compare.ORDER_NAME)
    assert by_name["class"].str.lower().is_monotonic_increasing
    long = compare.long_values(table.head(3), "AP: ")
    assert len(long) == 6 and set(long["series"]) == {"Cnn14 [measured]", "Cnn14 [measured] (527-class model)"}


def test_curves_group_by_setting_and_class_curves(folder):
    res = load_results(folder)
    assert curves.curve_runs(res) == ["fit_a"]
    assert curves.colour_options(res) == ["run", "model", "trained_on", "batch_size", "balanced"]
    table = curves.map_curves(res, ["fit_a"], "batch_size")
    assert table["group"].unique().tolist() == ["batch_size=16"]
    assert table["mAP"].tolist() == [0.2, 0.6] and "balanced=True" in table["settings"].iloc[0]
    points = curves.reported_points(res)
    assert points.to_dict("records")[0]["iteration"] == 14000 and points["mAP"].item() == 0.561
    candidates = curves.classes_with_curves(res, "fit_a")
    assert candidates["index"].tolist() == [72, 73, 74, 75]
    assert curves.classes_with_curves(res, "general").empty  # a single evaluation is no curve
    assert curves.default_classes(candidates, 2) == [NAMES[74], NAMES[72]]
    dog = curves.class_curves(res, "fit_a", [NAMES[74]])
    assert dog["iteration"].tolist() == [0, 100] and dog["ap"].tolist() == [0.3, 0.7]


def test_class_effect_falls_back_without_class_stats(folder):
    res = load_results(folder)
    assert effect.count_options(res, "fit_a") == [effect.COUNT_RUN]
    assert effect.count_options(res, "general") == []
    table = effect.effect_table(res, "fit_a", effect.COUNT_RUN).set_index("index")
    assert table.loc[74, "clips"] == 5000 and table.loc[72, "clips"] == 50
    assert table["label_quality"].isna().all()
    assert np.isnan(effect.rank_correlation(table, "clips")[0])  # only 2 classes with AP and a clip count


def test_class_effect_with_class_stats_and_label_quality_from_runs(tmp_path):
    write_synthetic_results(tmp_path, n_runs=1, n_evals=3, every=10, class_stats=True)
    res = load_results(tmp_path)
    run_id = res.runs["run_id"].iloc[0]
    assert effect.count_options(res, run_id) == [
        effect.COUNT_ALL,
        effect.COUNT_BALANCED,
        effect.COUNT_UNBALANCED,
        effect.COUNT_RUN,
    ]
    stats = pd.read_csv(tmp_path / "class_stats.csv").set_index("index")
    table = effect.effect_table(res, run_id, effect.COUNT_ALL).set_index("index")
    assert table.loc[80, "clips"] == stats.loc[80, "balanced_train_clips"] + stats.loc[80, "unbalanced_train_clips"]
    assert table.loc[80, "label_quality"] == stats.loc[80, "label_quality"]
    # Without class_stats.csv, label quality comes from a run carrying a label_quality column.
    (tmp_path / "class_stats.csv").unlink()
    rep = RunInfo(
        run_id="rep",
        kind="reported",
        status="reported",
        model="Cnn14",
        trained_on="audioset",
        label_set="animal",
        source="paper",
    )
    write_run(tmp_path, rep, pd.DataFrame(_rows(None, {72: 0.5, 80: 0.6})).assign(label_quality=[0.9, 0.25]))
    table = effect.effect_table(load_results(tmp_path), run_id, None).set_index("index")
    assert table.loc[80, "label_quality"] == 0.25 and table["clips"].isna().all()


def test_rank_correlation():
    table = pd.DataFrame({"ap": [0.1, 0.2, 0.3, 0.4], "clips": [10, 100, 1000, 5000], "q": [4, 3, 2, 1]})
    assert effect.rank_correlation(table, "clips") == (pytest.approx(1.0), 4)
    assert effect.rank_correlation(table, "q") == (pytest.approx(-1.0), 4)


def test_empty_and_missing_folders(tmp_path):
    res = load_results(tmp_path)
    assert res.empty and res.warnings == []
    assert overview.animal_overview(res).empty and overview.overall_527(res).empty
    assert overview.default_baseline(res) is None
    assert compare.comparable_runs(res) == [] and curves.curve_runs(res) == []
    assert curves.reported_points(res).empty and curves.map_curves(res, []).empty
    missing = load_results(tmp_path / "nope")
    assert missing.empty and "not found" in missing.warnings[0]


def test_folder_signature_changes_when_a_run_changes(folder):
    before = folder_signature(folder)
    assert folder_signature(folder) == before
    info = RunInfo(
        run_id="study",
        kind="reported",
        status="reported",
        model="Cnn14",
        trained_on="animal",
        label_set="animal",
        source="another README",
        metrics={"mAP": 0.5},
    )
    write_run(folder, info, overwrite=True)
    assert folder_signature(folder) != before


def test_results_dir_precedence(tmp_path):
    assert results_dir(["--results", str(tmp_path)], {ENV_VAR: "/elsewhere"}) == tmp_path.resolve()
    assert results_dir(["--server.port", "1"], {ENV_VAR: str(tmp_path)}) == tmp_path.resolve()
    assert results_dir([], {}).name == "results"


def test_branches_come_from_the_ontology():
    names = branches()
    assert names[0] == "Animal"
    assert {"Domestic animals, pets", "Livestock, farm animals, working animals", "Bird", "Insect"} <= set(names)
    assert (
        animal_classes()["path"].iloc[animal_classes()["class"].tolist().index("Bark")]
        == "Animal > Domestic animals, pets > Dog > Bark"
    )


def test_every_chart_trace_has_hover_numbers(folder):
    res = load_results(folder)
    table = compare.class_table(res, ["fit_a", "general"], baseline="general")
    order = table["class"].tolist()
    figures = [
        charts.overview_bars(overview.animal_overview(res)),
        charts.class_dots(compare.long_values(table, "AP: "), order, "t"),
        charts.difference_bars(compare.long_values(table, "vs baseline: "), order, "base"),
        charts.map_curve_figure(curves.map_curves(res, ["fit_a"]), curves.reported_points(res)),
        charts.class_curve_figure(curves.class_curves(res, "fit_a", [NAMES[72]]), "fit_a"),
        charts.effect_scatter(effect.effect_table(res, "fit_a", effect.COUNT_RUN), "clips", "clips", True, "t"),
    ]
    for fig in figures:
        assert fig.data, fig.layout.title.text
        for trace in fig.data:
            assert "%{x" in trace.hovertemplate and "%{y" in trace.hovertemplate
    bars = {t.name: t for t in figures[0].data}
    assert bars[f"{overview.GROUP_ANIMAL} (reported)"].marker.pattern.shape == "/"
    assert bars[f"{overview.GROUP_ANIMAL} (measured)"].marker.pattern.shape == ""
    assert figures[3].data[-1].name == "Study CNN14 [reported]"


def test_synthetic_runs_are_valid_and_learn(tmp_path):
    paths = write_synthetic_results(tmp_path, n_runs=3, n_evals=5, every=100)
    res = load_results(tmp_path)
    assert res.warnings == [] and len(res.runs) == 3 == len(paths)
    assert len(res.classwise) == 3 * 5 * 65
    first = res.curves.groupby("run_id")["mAP"].first()
    last = res.curves.groupby("run_id")["mAP"].last()
    assert (last > first + 0.1).all()
    assert (res.runs["notes"].str.contains("Synthetic")).all()


def test_default_compare_selection_takes_the_best_of_each_group(tmp_path):
    write_synthetic_results(tmp_path, n_runs=5, n_evals=2, every=10)
    rep = RunInfo(
        run_id="rep",
        kind="reported",
        status="reported",
        model="Cnn14",
        trained_on="audioset",
        label_set="animal",
        source="paper",
    )
    write_run(tmp_path, rep, pd.DataFrame(_rows(None, {72: 0.5, 80: 0.6})))
    res = load_results(tmp_path)
    chosen = compare.default_runs(res, per_group=2)
    animal = res.runs[res.runs["trained_on"] == "animal"].sort_values("animal_mAP", ascending=False)
    assert set(chosen) == set(animal["run_id"].head(2)) | {"rep"}
    assert set(compare.default_runs(res)) <= set(compare.comparable_runs(res))


def test_labels_name_the_model_scope_and_runs_known_only_on_527_classes(folder):
    """A general run's label says "527-class model" (its numbers say their own scope); a run whose only
    figure is a 527-class mAP says so, which also keeps it apart from a run with the same name."""
    only_527 = RunInfo(
        run_id="paper527",
        kind="reported",
        status="reported",
        model="Cnn14",
        display_name="Cnn14",
        trained_on="audioset",
        label_set="audioset",
        source="paper",
        metrics={"mAP": 0.431},
    )
    write_run(folder, only_527)
    twin = RunInfo(
        run_id="paper_animal",
        kind="reported",
        status="reported",
        model="Cnn14",
        display_name="Cnn14",
        trained_on="audioset",
        label_set="animal",
        source="paper",
    )
    write_run(folder, twin, pd.DataFrame(_rows(None, {72: 0.5})))
    labels = load_results(folder).runs["label"]
    assert labels["general"] == "Cnn14 [measured] (527-class model)"
    assert labels["paper527"] == "Cnn14 [reported] (527-class model, scored on all 527 classes)"
    assert labels["paper_animal"] == "Cnn14 [reported] (527-class model)"
    assert labels["study"] == "Study CNN14 [reported]" and labels.is_unique


def test_overview_says_what_each_bar_averages(folder):
    res = load_results(folder)
    table = overview.animal_overview(res).set_index("run_id")
    assert table.loc["study", "scope_tag"] == "66 classes, not animals only"
    assert "66 classes" in table.loc["study", "scope"]
    assert table.loc["general", "scope_tag"] == "3 of 65 classes"  # a 527-class run: only its animal rows count
    assert table.loc["fit_a", "scope_tag"] == "3 of 65 classes"  # 72, 74, 75: class 73 had no AP
    bars = charts.overview_bars(table.reset_index())
    text = {y: t for trace in bars.data for y, t in zip(trace.y, trace.text)}
    assert text["Study CNN14 [reported]"] == "0.561 · 66 classes, not animals only"
    caption = overview.scope_caption(table.reset_index())
    assert "Every bar is a mean over the animal classes only" not in caption
    assert "Study CNN14 [reported]" in caption and "66 classes" in caption


def test_curve_chart_names_each_reported_point_and_its_table_lists_it(folder):
    res = load_results(folder)
    measured, points = curves.map_curves(res, ["fit_a"]), curves.reported_points(res)
    fig = charts.map_curve_figure(measured, points)
    stars = [t for t in fig.data if t.marker.symbol == "star-open"]
    assert [(t.name, t.showlegend is not False, list(t.y)) for t in stars] == [
        ("Study CNN14 [reported]", True, [0.561])
    ]
    assert tuple(fig.layout.yaxis.range) == (0, 1)  # no zoom that turns 0.551 vs 0.561 into a chasm
    assert charts.map_curve_figure(measured, points, "loss").layout.yaxis.range is None  # loss is not in [0, 1]
    table = curves.curve_table(measured, points)
    assert table["label"].tolist() == ["Cnn14 [measured]"] * 2 + ["Study CNN14 [reported]"]
    assert table["status"].tolist() == ["measured", "measured", "reported"]
    assert table["mAP"].tolist() == [0.2, 0.6, 0.561] and table["iteration"].tolist() == [0, 100, 14000]
    only_points = curves.curve_table(curves.map_curves(res, []), points)
    assert only_points["label"].tolist() == ["Study CNN14 [reported]"] and "66 classes" in only_points["scope"].item()


def test_a_run_keeps_its_colour_in_every_chart(folder):
    res = load_results(folder)
    colours = charts.run_colours(res.runs["label"])
    assert len(set(colours.values())) == len(colours)
    table = compare.class_table(res, ["fit_a", "general"], baseline="general")
    order = table["class"].tolist()
    dots = charts.class_dots(compare.long_values(table, "AP: "), order, "t", colours)
    diffs = charts.difference_bars(compare.long_values(table, "vs baseline: "), order, "base", colours)
    # the difference chart leaves the baseline out, so by position fit_a would be the first colour there
    assert [t.name for t in dots.data] == ["Cnn14 [measured]", "Cnn14 [measured] (527-class model)"]
    assert [t.name for t in diffs.data] == ["Cnn14 [measured]"]
    assert diffs.data[0].marker.color == dots.data[0].marker.color == colours["Cnn14 [measured]"]
    assert dots.layout.legend.orientation == "h"  # legend above the chart, the plot keeps its width
    fit_only = charts.class_dots(
        compare.long_values(compare.class_table(res, ["general"]), "AP: "), order, "t", colours
    )
    assert fit_only.data[0].marker.color == colours["Cnn14 [measured] (527-class model)"]


def test_sort_direction_only_for_value_columns():
    assert not compare.has_direction(compare.ORDER_AUDIOSET) and not compare.has_direction(compare.ORDER_NAME)
    assert compare.has_direction("AP: Cnn14 [measured]")


def test_class_effect_names_its_count_source_and_never_shows_minus_zero(tmp_path):
    write_synthetic_results(tmp_path, n_runs=1, n_evals=2, every=10, class_stats=True)
    stats = pd.read_csv(tmp_path / "class_stats.csv")
    stats.loc[stats["index"] == 80, "label_quality"] = -0.0
    stats.to_csv(tmp_path / "class_stats.csv", index=False)
    res = load_results(tmp_path)
    table = effect.effect_table(res, res.runs["run_id"].iloc[0], effect.COUNT_ALL).set_index("index")
    assert table.loc[80, "label_quality"] == 0 and not np.signbit(table.loc[80, "label_quality"])
    assert "class_stats.csv" in effect.count_source(effect.COUNT_ALL)
    assert "python -m train metadata" in effect.count_source(effect.COUNT_BALANCED)
    assert "train_clips" in effect.count_source(effect.COUNT_RUN)
    assert (
        effect.correlation_text(-0.001, 65, "clip count")
        == "Spearman rank correlation of AP with clip count: 0.00 over 65 classes."
    )
    assert "-0.0" not in effect.correlation_text(-0.004, 65, "x")
    assert "not defined" in effect.correlation_text(float("nan"), 2, "x")


def test_class_wise_differences_across_evaluation_sets_are_named(tmp_path):
    """Two runs on the same clips compare plainly; a third on other clips (or unrecorded) is named."""
    clips = eval_set_record("eval.h5", ["Ya.wav", "Yb.wav"])
    runs = {
        "base": clips,
        "same": eval_set_record("eval.h5", ["Yb.wav", "Ya.wav"]),  # order does not matter
        "other": eval_set_record("mine.h5", ["Yc.wav"]),
        "unrecorded": {},
    }
    for run_id, eval_set in runs.items():
        info = RunInfo(
            run_id=run_id,
            kind="evaluate",
            status="measured",
            model=run_id,
            trained_on="animal",
            label_set="animal",
            eval_set=eval_set,
        )
        write_run(tmp_path, info, pd.DataFrame(_rows(None, {72: 0.5, 73: 0.4})))
    res = load_results(tmp_path)
    assert compare.across_sets_note(res, ["base", "same"], "base") == ""
    note = compare.across_sets_note(res, ["base", "same", "other", "unrecorded"], "base")
    assert note.startswith("Across evaluation sets: other [measured] (mine.h5, 1 clips), unrecorded [measured]")
    assert "same [measured]" not in note and "as base [measured] (eval.h5, 2 clips)" in note
    assert compare.across_sets_note(res, ["other"], None) == ""  # no baseline, no differences drawn
