"""The whole Streamlit app through AppTest: every page renders, filters change what is plotted, empty state, warnings."""
import base64
import json
from pathlib import Path

import numpy as np

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.classes import animal_classes
from dashboard.config import ENV_VAR
from dashboard.synthetic import write_synthetic_results

PAGES = ["Overview", "Class-wise comparison", "Training curves", "Class effect"]
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
        assert at.header[0].value.startswith(page.split()[0].split("-")[0])
        assert _charts(at), page
        assert len(at.get("download_button")) >= 1, page
        for spec in _charts(at).values():
            for trace in spec["data"]:
                assert "hovertemplate" in trace


def test_shipped_overview_shows_reported_figures_and_the_comparability_note(monkeypatch):
    at = _app(monkeypatch, REPO / "results")
    chart = _charts(at)["mAP on AudioSet's 65 animal classes"]
    values = {label: x for trace in chart["data"] for label, x in zip(trace["y"], _values(trace["x"]))}
    assert values["CNN14 (animal-only, reference study) [reported]"] == 0.561
    assert round(values["CNN14 (general, PANNs paper) [reported]"], 3) == 0.569
    assert not any("527" in label for label in values)  # 527-class figures never on the animal chart
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
