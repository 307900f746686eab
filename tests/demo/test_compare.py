"""Compare mode, trust, events and bad input through the button's handler, on real clips.

The released names are served from a cache folder holding random-weight files in the official
format under the released file names, stamped as verified (how a deployer who placed the files by
hand is served): the real loading path runs, nothing is downloaded.
"""

import shutil
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import pytest
from demo_servers import released_cache, results_with_own_run

from demo.config import parse_config
from demo.models import list_choices
from demo.ui import DemoState, make_predict, model_status

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "demo" / "examples"
BARK, CAT = "/m/05tny_", "/m/01yrx"


@pytest.fixture(scope="module")
def state(planted_mobilenet, official_checkpoint, tmp_path_factory):
    root = tmp_path_factory.mktemp("compare")
    cache = released_cache(root / "cache", {"MobileNetV1": official_checkpoint("MobileNetV1")})
    results = results_with_own_run(root / "results", planted_mobilenet)
    mp = pytest.MonkeyPatch()
    mp.setenv("PANNS_CACHE_DIR", str(cache))
    config = parse_config(
        [
            "--checkpoint",
            str(planted_mobilenet),
            "--arch",
            "MobileNetV1",
            "--compare",
            "MobileNetV1,ResNet38",
            "--results",
            str(results),
        ]
    )
    yield DemoState(config, list_choices(config.default_checkpoint, config.checkpoint, config.checkpoint_arch))
    mp.undo()


def local_key(state):
    return next(iter(state.choices))


def test_compare_answers_side_by_side_with_each_models_ap_and_an_unavailable_one(state, planted_mobilenet):
    out = make_predict(state)(str(EXAMPLES / "dog_bark.ogg"), local_key(state), 3, 0.5, True)
    comparison, table = out[7], out[8]
    header = comparison.splitlines()[0]
    assert header == "| # | MobileNetV1 | ResNet38 | animal_mobilenet.pth |"
    # the planted checkpoint: Bark and Cat with its own run's AP (Cat's low AP flagged)
    own = table[table["model"].str.startswith("animal_mobilenet.pth")]
    assert own[["class", "ap", "less_reliable"]].values.tolist() == [["Bark", 0.91, False], ["Cat", 0.12, True]]
    assert (own["ap_source"] == "measured in run pets-run, iteration 3000").all()
    # the released MobileNetV1 (random weights here): whatever it found, with the paper's AP for that class
    reported = pd.read_csv(REPO / "results" / "reported_panns_mobilenetv1_animal" / "classwise.csv").set_index(
        "display_name"
    )["ap"]
    general = table[table["model"].str.startswith("MobileNetV1")]
    assert len(general) >= 1 and all(general["ap"] == [reported[c] for c in general["class"]])
    assert general["ap_source"].str.contains("PANNs").all()
    # ResNet38 is not in the cache: unavailable, in the core's words, while the others answered
    missing = table[table["model"].str.startswith("ResNet38")]
    assert len(missing) == 1 and "python -m panns_core download ResNet38" in missing["class"].iloc[0]
    assert "**unavailable**" in comparison and "less reliable" in comparison
    assert "AP 0.91" in out[1] and "measured in run pets-run" in out[1]  # the main view shows the AP too


def test_a_broken_checkpoint_in_compare_mode_is_unavailable_and_the_others_answer(state, tmp_path):
    broken = tmp_path / "broken.pth"
    broken.write_bytes(b"\x80\x02 half a pickle")
    config = parse_config(
        ["--checkpoint", str(broken), "--arch", "Cnn14", "--compare", "MobileNetV1", "--results", str(REPO / "results")]
    )
    bad = DemoState(config, list_choices(config.default_checkpoint, config.checkpoint, config.checkpoint_arch))
    bad.cache = state.cache  # the MobileNetV1 already loaded
    with pytest.raises(gr.Error, match="broken.pth"):  # as the chosen model: an error in the page
        make_predict(bad)(str(EXAMPLES / "dog_bark.ogg"), local_key(bad), 3, 0.5, True)
    status = model_status(bad, local_key(bad))[0]  # and the page's status line says so from now on
    assert "Could not load these weights" in status and "broken.pth" in status
    out = make_predict(bad)(str(EXAMPLES / "dog_bark.ogg"), "MobileNetV1", 3, 0.0, True)
    table = out[8]
    assert table["model"].str.startswith("broken.pth").sum() == 1 and "broken.pth" in table["class"].iloc[-1]
    assert (table["model"].str.startswith("MobileNetV1")).sum() == 3  # the other model still answered


def test_a_long_example_lists_where_each_class_is_heard_and_the_csv_matches(state):
    out = make_predict(state)(str(EXAMPLES / "farmyard_long.ogg"), local_key(state), 2, 0.5, False)
    events, csv_path = out[5], out[6]
    # the planted model hears Bark and Cat all through: one event each, across the 24.7-s clip
    assert events[["class", "start_s", "end_s"]].values.tolist() == [["Bark", 0.0, 24.72], ["Cat", 0.0, 24.72]]
    assert (events["peak_score"] >= events["mean_score"]).all() and (events["mean_score"] >= 0.5).all()
    assert csv_path.endswith("farmyard_long_events.csv")
    assert pd.read_csv(csv_path).values.tolist() == events.values.tolist()
    assert out[7] == "" and out[8] is None  # compare off: nothing compared


def test_an_example_deleted_from_disk_is_a_clear_error(state, tmp_path):
    gone = tmp_path / "rooster.ogg"
    shutil.copy(EXAMPLES / "rooster.ogg", gone)
    gone.unlink()
    with pytest.raises(gr.Error, match="rooster.ogg"):
        make_predict(state)(str(gone), local_key(state), 3, 0.5, True)


def test_a_clip_over_the_length_limit_is_refused_before_any_model_runs(state, planted_mobilenet, tmp_path):
    config = parse_config(
        [
            "--checkpoint",
            str(planted_mobilenet),
            "--arch",
            "MobileNetV1",
            "--max-seconds",
            "20",
            "--compare",
            "MobileNetV1",
        ]
    )
    short = DemoState(config, list_choices(config.default_checkpoint, config.checkpoint, config.checkpoint_arch))
    short.cache = state.cache
    with pytest.raises(gr.Error, match="20 s limit"):
        make_predict(short)(str(EXAMPLES / "farmyard_long.ogg"), local_key(short), 3, 0.5, True)
    assert np.isfinite(
        make_predict(short)(str(EXAMPLES / "cow_moo.ogg"), local_key(short), 3, 0.5, True)[8]["ap"].dropna()
    ).all()


def test_the_chosen_model_is_not_run_twice_in_compare_mode(state, monkeypatch):
    tagger = state.tagger(local_key(state))
    calls = []
    original = tagger.predict
    monkeypatch.setattr(tagger, "predict", lambda *a, **k: calls.append(1) or original(*a, **k))
    out = make_predict(state)(str(EXAMPLES / "dog_bark.ogg"), local_key(state), 3, 0.5, True)
    assert len(calls) == 1  # the labels pass, reused for its column
    own = out[8][out[8]["model"] == "animal_mobilenet.pth"]
    assert list(own["score"]) == [round(v, 3) for v in out[0].values()]  # the same scores as the main view
