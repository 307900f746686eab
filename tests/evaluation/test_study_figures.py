"""The reference study's figures read back: rebuilt from the PNGs they equal the shipped runs, and the
stored values sit on the drawn lines (checked by pixel colour, through the grid lines, not the reader's fit)."""

from __future__ import annotations

import filecmp
from pathlib import Path

import numpy as np
import pytest

from panns_core.evaluation.results import load_run, load_runs
from tools import figure_reader as fr
from tools import read_study_figures as study

RESULTS = Path(__file__).resolve().parents[2] / "results"


@pytest.fixture(scope="module")
def seed(shared_dir):
    return shared_dir / "seed"


@pytest.fixture(scope="module")
def study_runs():
    runs, warnings = load_runs(RESULTS)
    assert warnings == []
    return {r.run_id: r for r in runs if r.run_id.startswith("reported_study_")}


@pytest.mark.slow
def test_rereading_the_figures_gives_the_shipped_files(seed, tmp_path):
    written = study.build(seed, tmp_path)
    assert len(written) == 15  # 7 runs x (solid, faint) + the class-wise run
    for folder in written:
        names = sorted(p.name for p in folder.iterdir())
        assert names == sorted(p.name for p in (RESULTS / folder.name).iterdir()), folder.name
        _, mismatch, errors = filecmp.cmpfiles(folder, RESULTS / folder.name, names, shallow=False)
        assert mismatch == [] and errors == [], (folder.name, mismatch)


def test_headlines_agree_with_the_curves_last_points(study_runs):
    for run_id, (value, iterations) in study.HEADLINES.items():
        run = study_runs[run_id]
        last = run.curve.sort_values("iteration").iloc[-1]
        assert run.info.metrics["mAP"] == value and run.info.iterations == iterations == int(last["iteration"])
        assert last["mAP"] == pytest.approx(value, abs=0.006)  # two pixels


def test_every_line_has_a_run_with_its_settings(study_runs):
    expected = {
        "reported_study_resnet38_plain": (False, False, 1.0, 32),
        "reported_study_cnn14_plain": (False, False, 1.0, 32),
        "reported_study_wavegram_logmel_cnn14_plain": (False, False, 1.0, 32),
        "reported_study_cnn14_animal": (True, True, 1.0, 32),
        "reported_study_resnet38_animal": (True, True, 1.0, 32),
        "reported_study_cnn14_half_data": (True, True, 0.5, 32),
        "reported_study_cnn14_batch16": (True, True, 1.0, 16),
    }
    for run_id, (balanced, mixup, fraction, batch) in expected.items():
        for suffix, series in (("", "solid"), ("_faint", "faint")):
            run = study_runs[run_id + suffix]
            s = run.info.settings
            assert (s["balanced"], s["mixup"], s["data_fraction"], s["batch_size"]) == (
                balanced,
                mixup,
                fraction,
                batch,
            )
            assert run.info.extra["figure"]["series"] == series and run.info.status == "reported"
            assert run.curve["iteration"].iloc[0] == 0 and run.curve["mAP"].iloc[0] == pytest.approx(0.045, abs=0.01)


def test_the_curves_tell_the_studys_story(study_runs):
    last = {k: r.curve.sort_values("iteration")["mAP"].iloc[-1] for k, r in study_runs.items() if not r.curve.empty}
    assert (
        last["reported_study_resnet38_plain"]
        > last["reported_study_cnn14_plain"]
        > last["reported_study_wavegram_logmel_cnn14_plain"]
    )
    assert (
        last["reported_study_cnn14_animal"]
        > last["reported_study_cnn14_half_data"]
        > last["reported_study_cnn14_batch16"]
    )
    assert last["reported_study_cnn14_animal"] > last["reported_study_cnn14_animal_faint"]
    assert study_runs["reported_study_cnn14_half_data"].curve["iteration"].max() == 16000


def test_stored_points_lie_on_their_coloured_line(seed, study_runs):
    """Independent path: for panel (b), map values to rows through the grid lines' positions and look at the
    pixel colour there; it must be the line's legend colour within 2 pixels."""
    img = fr.load_rgb(seed / study.CURVES_PNG)
    panel_b = fr.find_panels(img)[1]
    grid_x = fr.grid_lines(img, panel_b, "x")  # 4k, 8k, 12k
    grid_y = fr.grid_lines(img, panel_b, "y")  # 0.05 .. 0.75, every 0.05
    px_per_iter = (grid_x[-1] - grid_x[0]) / 8000
    assert len(grid_y) == 15
    px_per_map = (grid_y[-1] - grid_y[0]) / 0.70
    colours = {"reported_study_cnn14_animal": (191, 191, 0), "reported_study_resnet38_animal": (255, 0, 0)}
    for run_id, colour in colours.items():
        curve = study_runs[run_id].curve
        for it in (4000, 8000, 10000):
            value = curve.loc[curve["iteration"] == it, "mAP"].item()
            x = round(grid_x[0] + (it - 4000) * px_per_iter)
            y = grid_y[-1] - (value - 0.05) * px_per_map
            window = img[int(y) - 2 : int(y) + 3, x - 1 : x + 2]
            distance = np.sqrt(((window - np.array(colour)) ** 2).sum(axis=2)).min()
            assert distance < 40, (run_id, it, value)


def test_the_same_line_reads_the_same_in_every_panel(seed):
    curves = study.read_curves(seed)
    solid = curves[curves["series"] == "solid"].dropna(subset=["mAP"])
    spread = solid.groupby(["run_id", "iteration"])["mAP"].agg(lambda v: v.max() - v.min())
    assert spread.max() < 0.006  # two pixels
    shared = solid.groupby("run_id")["panel"].nunique()
    assert shared["reported_study_cnn14_animal"] == 3 and shared["reported_study_cnn14_plain"] == 2


def test_classwise_run_maps_the_legend_to_audioset(study_runs):
    run = study_runs[study.CLASSWISE_RUN]
    cw = run.classwise
    assert cw["index"].nunique() == 32 and sorted(cw["iteration"].dropna().unique()) == list(range(0, 7001, 1000))
    by_name = cw.drop_duplicates("index").set_index("display_name")
    assert by_name.loc["Bird vocalization, bird call, bird song", "legend"] == "Bird (5,792)"
    assert by_name.loc["Bird vocalization, bird call, bird song", "mid"] == "/m/020bb7"
    assert by_name.loc["Dog", "train_clips"] == 12864 and by_name.loc["Yip", "train_clips"] == 2182
    assert np.isnan(by_name.loc["Horse", "train_clips"])  # "Horse (3,97)": a digit is missing
    assert (
        "ambiguous" in by_name.loc["Yip", "reading"] and "ambiguous" in by_name.loc["Canidae, dogs, wolves", "reading"]
    )
    assert by_name.loc["Cat", "reading"] == "own colour"
    at7k = cw[cw["iteration"] == 7000].set_index("display_name")["ap"]
    assert at7k["Crowing, cock-a-doodle-doo"] > 0.85 and at7k["Whimper (dog)"] < 0.25


@pytest.mark.parametrize(
    "text, count", [("Dog (12,864)", 12864), ("Horse (3,97)", np.nan), ("Bird (25,61)", np.nan), ("Cat (3,583)", 3583)]
)
def test_legend_counts(text, count):
    assert study.legend_count(text) == pytest.approx(count, nan_ok=True)


def test_axes_are_calibrated_from_the_image(seed):
    img = fr.load_rgb(seed / study.CURVES_PNG)
    panels = study.calibrate_panels(img, study.CURVE_X_TICKS, study.CURVE_Y_TICKS, legend_outside=False)
    assert len(panels) == 4 and [len(p.colours) for p in panels] == [3, 4, 2, 2]
    for p in panels:
        assert p.y.residual_px < 1.0 and abs(p.y.slope) == pytest.approx(0.8 / (p.box.bottom - p.box.top), rel=0.01)
        assert float(p.y.value(p.box.bottom)) == pytest.approx(0.0, abs=0.003)


def test_loading_a_study_run_keeps_its_figure_reference():
    run = load_run(RESULTS / "reported_study_cnn14_batch16")
    assert run.info.extra["figure"]["panels"] == ["d"] and run.info.eval_set["name"]
