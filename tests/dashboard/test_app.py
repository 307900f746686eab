"""The whole Streamlit app through AppTest.

Every page renders, filters change what is plotted, empty state, warnings.
"""

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest
from synthetic_results import write_synthetic_results

from dashboard.classes import animal_classes
from dashboard.config import ENV_VAR

HEADERS = {
    "Overview": "Overview: do animal-only models beat the general ones?",
    "Class-wise comparison": "Class-wise comparison",
    "Training curves": "Training curves",
    "Class effect": "Class effect: is it data or sound?",
}
PAGES = list(HEADERS)
REPO = Path(__file__).resolve().parents[2]
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
    assert len(values) == 7 and not any("scored on all 527" in label for label in values)  # 527-class figures apart
    study_7k = "CNN14 (animal-only, reference study, class-wise figure) [reported]"
    assert text[study_7k].endswith("31 of 65 classes")  # 32 legend entries, Honk unreadable at 7k
    caption = _unescape(at.caption[0].value)
    assert "Every bar is a mean over the animal classes only" not in caption
    assert "ResNet38 (animal-only, reference study) [reported]" in caption and "Music" in caption
    assert any("0.439 on 527 classes" in _unescape(i.value) for i in at.info)
    assert "23 reported" in at.sidebar.caption[0].value
    wins = at.dataframe[0].value.set_index("run_id")  # baseline: the PANNs paper's general CNN14
    row = wins.loc["reported_study_cnn14_classwise"]
    assert row["classes"] == 31 and row["at_iteration"] == 7000 and row["better"] + row["worse"] == 31
    assert not row["same_eval_set"]  # the study's download and the PANNs authors' are different clips
    captions = " ".join(_unescape(c.value) for c in at.caption)
    assert "at 7,000" in captions and "Across evaluation sets" in captions


def _unescape(markdown: str) -> str:
    """What a reader sees of text escaped by widgets.plain_text."""
    return re.sub(r"\\(.)", r"\1", markdown)


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
    assert "could not be read" in at.warning[0].value
    text = " ".join(t.value for t in at.text)  # plain text, not Markdown
    assert str(test_folder / "broken_run" / "run.json") in text


def test_empty_folder_shows_an_empty_state(monkeypatch, tmp_path):
    at = _app(monkeypatch, tmp_path)
    assert at.title[0].value == "No results yet"
    assert "No runs in" in at.info[0].value
    assert not at.get("plotly_chart") and not at.warning


def test_shipped_training_curves_show_the_studys_four_comparisons(monkeypatch):
    at = _app(monkeypatch, REPO / "results")
    _go(at, "Training curves")
    picker = at.selectbox(key="curve_comparison")
    assert [o for o in picker.options if o.startswith("(")] == [
        "(a) Model comparison",
        "(b) Comparison of training data balancing and augmentation",
        "(c) Amount of training data comparison",
        "(d) Comparison of batch size",
    ]
    assert picker.value == "(a) Model comparison"
    chart = _charts(at)["mAP against training iterations"]
    names = {t["name"] for t in chart["data"]}
    assert "ResNet38, plain (study) [reported]" in names
    assert "ResNet38, plain (study) - faint second series [reported]" in names
    assert not any("batch 16" in n for n in names)
    picker.set_value("(d) Comparison of batch size").run()
    chart = _charts(at)["mAP against training iterations"]
    lines = {t["name"]: _values(t["y"]) for t in chart["data"] if t["mode"] == "lines+markers"}
    assert lines["CNN14 (animal-only, reference study) [reported]"][-1] == pytest.approx(0.561, abs=0.006)
    assert lines["CNN14, batch 16 (study) [reported]"][-1] == pytest.approx(0.249, abs=0.006)
    assert "ResNet38, plain (study) [reported]" not in lines
    stars = {t["name"]: _values(t["y"])[0] for t in chart["data"] if t["mode"] == "markers"}
    assert stars["CNN14 (animal-only, reference study) [reported]"] == 0.561  # the README's headline, as a star


def test_run_json_text_stays_inert(monkeypatch, tmp_path):
    """A backtick and a Markdown link in a run.json value show literally.

    '<b>' in display_name is not bold in plotly.
    """
    from synthetic_results import class_clip_counts, synthetic_run

    from panns_core.evaluation.results import write_run

    info, cw, curve = synthetic_run("evil", "Cnn14", {"batch_size": 8}, 3, 10, 0, class_clip_counts())
    info.display_name = "<b>bold</b> & co"
    write_run(tmp_path, info, cw, curve)
    broken = tmp_path / "x` [click](https:example.invalid) ![img](https:example.invalid) `"
    broken.mkdir()
    (broken / "run.json").write_text("{not json")
    at = _app(monkeypatch, tmp_path)
    shown = " ".join(t.value for t in at.text)
    assert "[click](https:example.invalid)" in shown  # literally, in a plain-text element
    assert all("example.invalid" not in m.value for m in at.markdown) and "example.invalid" not in at.warning[0].value
    _go(at, "Training curves")
    spec = json.dumps(_charts(at)["mAP against training iterations"])
    assert "<b>bold</b>" not in spec and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in spec


def test_a_run_has_the_same_colour_in_both_class_wise_charts(monkeypatch):
    at = _app(monkeypatch, REPO / "results")
    _go(at, "Class-wise comparison")
    charts = _charts(at)
    dots = {t["name"]: t["marker"]["color"] for t in charts["AP per animal class"]["data"]}
    diff = next(spec for title, spec in charts.items() if title.startswith("Difference to"))
    bars = {t["name"]: t["marker"]["color"] for t in diff["data"]}
    assert len(dots) == 4 and len(bars) == 3  # the baseline has no difference bars, so positions shift
    # the study's CNN14 at 7k is compared by default, against the general CNN14 and Wavegram-Logmel-CNN
    assert {
        "CNN14 (animal-only, reference study, class-wise figure) [reported]",
        "CNN14 (general, PANNs paper) [reported] (527-class model)",
        "Wavegram-Logmel-CNN (general, PANNs paper) [reported] (527-class model)",
    } <= set(dots)
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
