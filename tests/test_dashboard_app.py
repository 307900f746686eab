"""The whole Streamlit app through AppTest: every page renders, filters change what is plotted, empty state, warnings."""
import base64
import json
from pathlib import Path

import numpy as np

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.classes import animal_classes
from dashboard.config import ENV_VAR
from synthetic_results import write_synthetic_results

HEADERS = {"Overview": "Overview: do animal-only models beat the general ones?",
           "Class-wise comparison": "Class-wise comparison", "Training curves": "Training curves",
           "Class effect": "Class effect: is it data or sound?"}
PAGES = list(HEADERS)
REPO = Path(__file__).resolve().parents[1]
APP = REPO / "dashboard" / "app.py"


@pytest.fixture(scope="module")
def test_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("results")
    write_synthetic_results(root, n_runs=3, n_evals=4, every=100, class_stats=True)
    broken = root / "broken_run"
    broken.mkdir()
    (broken / "run.json").write_text(json.dumps({"run_id": "broken_run", "kind": "fit"}))
    return root


def _app(monkeypatch, folder) -> AppTest:
    monkeypatch.setenv(ENV_VAR, str(folder))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def _charts(at) -> dict:
    """Plotly figures on the current page, by their layout title."""
    out = {}
    for element in at.get("plotly_chart"):
        spec = json.loads(element.proto.spec)
        out[spec["layout"]["title"]["text"]] = spec
    return out


def _values(array):
    """Plotly 7 sends numeric arrays as typed arrays ({"dtype", "bdata"}); lists pass through."""
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return list(array)


def _go(at, page):
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, (page, at.exception)


@pytest.mark.parametrize("folder", ["shipped", "test"])
def test_every_page_renders_with_a_chart_and_downloads(monkeypatch, test_folder, folder):
    root = REPO / "results" if folder == "shipped" else test_folder
    at = _app(monkeypatch, root)
    for page in PAGES:
        _go(at, page)
        assert at.header[0].value == HEADERS[page]
        assert _charts(at), page
        assert len(at.get("download_button")) >= 1, page
        for spec in _charts(at).values():
            for trace in spec["data"]:
                assert "hovertemplate" in trace


def test_shipped_overview_shows_reported_figures_and_the_comparability_note(monkeypatch):
    at = _app(monkeypatch, REPO / "results")
    chart = _charts(at)["mAP on AudioSet's 65 animal classes"]
    values = {label: x for trace in chart["data"] for label, x in zip(trace["y"], _values(trace["x"]))}
    text = {label: t for trace in chart["data"] for label, t in zip(trace["y"], trace["text"])}
    assert values["CNN14 (animal-only, reference study) [reported]"] == 0.561
    assert text["CNN14 (animal-only, reference study) [reported]"] == "0.561 · 66 classes, not animals only"
    assert round(values["CNN14 (general, PANNs paper) [reported] (527-class model)"], 3) == 0.569
    assert text["CNN14 (general, PANNs paper) [reported] (527-class model)"] == "0.569"  # plain 65-class mean
    assert len(values) == 6 and not any("scored on all 527" in label for label in values)  # 527-class figures apart
    caption = at.caption[0].value
    assert "Every bar is a mean over the animal classes only" not in caption
    assert "ResNet38 (animal-only, reference study) [reported]" in caption and "Music" in caption
    assert any("0.439 on 527 classes" in i.value for i in at.info)
    assert "10 reported" in at.sidebar.caption[0].value


def test_branch_and_name_filters_change_the_plotted_classes(monkeypatch, test_folder):
    at = _app(monkeypatch, test_folder)
    _go(at, "Class-wise comparison")

    def plotted_classes():
        spec = _charts(at)["AP per animal class"]
        return {y for trace in spec["data"] for y in trace["y"]}

    assert len(plotted_classes()) == 65
    at.multiselect(key="compare_branches").set_value(["Bird"]).run()
    birds = set(animal_classes().query("branch == 'Bird'")["class"])
    assert plotted_classes() == birds
    at.text_input(key="compare_query").set_value("owl").run()
    assert plotted_classes() == {"Owl", "Hoot"}  # Hoot matches through its path Animal > ... > Owl > Hoot


def test_colour_by_setting_changes_the_curve_traces(monkeypatch, test_folder):
    at = _app(monkeypatch, test_folder)
    _go(at, "Training curves")
    names = lambda: {t["name"] for t in _charts(at)["mAP against training iterations"]["data"]}  # noqa: E731
    assert len(names()) == 3  # one per run
    at.selectbox(key="curve_colour").set_value("batch_size").run()
    assert names() == {"batch_size=32", "batch_size=16"}


def test_warning_names_the_unreadable_run_file(monkeypatch, test_folder):
    at = _app(monkeypatch, test_folder)
    text = " ".join(w.value for w in at.warning)
    assert str(test_folder / "broken_run" / "run.json") in text


def test_empty_folder_shows_an_empty_state(monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path)
    assert at.title[0].value == "No results yet"
    assert "No runs in" in at.info[0].value
    assert not at.get("plotly_chart") and not at.warning


def test_shipped_training_curves_name_the_study_points_and_list_them(monkeypatch):
    at = _app(monkeypatch, REPO / "results")
    _go(at, "Training curves")
    chart = _charts(at)["mAP against training iterations"]
    study = {"CNN14 (animal-only, reference study) [reported]": 0.561,
             "ResNet38 (animal-only, reference study) [reported]": 0.551}
    assert {t["name"]: _values(t["y"])[0] for t in chart["data"]} == study  # one legend entry per figure
    assert all(t.get("showlegend", True) for t in chart["data"])
    assert chart["layout"]["yaxis"]["range"] == [0, 1]
    table = at.dataframe[0].value
    assert dict(zip(table["label"], table["mAP"])) == study  # what is plotted is in the table (and its CSV)


def test_a_run_has_the_same_colour_in_both_class_wise_charts(monkeypatch):
    at = _app(monkeypatch, REPO / "results")
    _go(at, "Class-wise comparison")
    charts = _charts(at)
    dots = {t["name"]: t["marker"]["color"] for t in charts["AP per animal class"]["data"]}
    diff = next(spec for title, spec in charts.items() if title.startswith("Difference to"))
    bars = {t["name"]: t["marker"]["color"] for t in diff["data"]}
    assert len(dots) == 3 and len(bars) == 2  # the baseline has no difference bars, so positions shift
    assert all(bars[name] == dots[name] for name in bars), (dots, bars)
    assert charts["AP per animal class"]["layout"]["legend"]["orientation"] == "h"


def test_highest_first_only_for_value_sorts(monkeypatch, test_folder):
    at = _app(monkeypatch, test_folder)
    _go(at, "Class-wise comparison")
    toggles = lambda: [t.key for t in at.toggle]  # noqa: E731
    assert at.selectbox(key="compare_sort").value == "AudioSet order" and "compare_desc" not in toggles()
    at.selectbox(key="compare_sort").set_value("class name").run()
    assert "compare_desc" not in toggles()
    column = next(o for o in at.selectbox(key="compare_sort").options if o.startswith("AP: "))
    at.selectbox(key="compare_sort").set_value(column).run()
    assert "compare_desc" in toggles()
    first = _charts(at)["AP per animal class"]["layout"]["yaxis"]["categoryarray"][0]
    at.toggle(key="compare_desc").set_value(False).run()
    assert _charts(at)["AP per animal class"]["layout"]["yaxis"]["categoryarray"][-1] == first
