"""The demo's prediction function, called directly on real clips from ../shared/audio.

The checkpoints are random-weight files in the official format (loaded through the real path).
In "planted" ones the output biases make two known classes win (Bark, then Cat), so the tests
can check the whole chain: 527 outputs -> the 65 animal classes -> labels, ontology, CSV.
"""

import re
import threading
from pathlib import Path

import gradio as gr
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from demo.analysis import MAX_TIMELINE_WINDOWS, analyse, analyse_wave, timeline_tagger
from demo.config import parse_config
from demo.models import TaggerCache, list_choices
from demo.ui import DemoState, make_fetch, make_predict, model_status
from panns_core import Tagger
from panns_core.labels.sets import ANIMAL
from panns_core.weights.catalogue import PRETRAINED

BARK, CAT = "/m/05tny_", "/m/01yrx"  # the classes planted_mobilenet makes win (tests/conftest.py)


def make_state(checkpoint: Path, *extra: str, arch: str | None = "MobileNetV1") -> DemoState:
    config = parse_config(["--checkpoint", str(checkpoint), *(["--arch", arch] if arch else []), *extra])
    return DemoState(config, list_choices(config.default_checkpoint, config.checkpoint, config.checkpoint_arch))


@pytest.fixture(scope="module")
def state(planted_mobilenet):
    return make_state(planted_mobilenet)


@pytest.fixture(scope="module")
def tagger(state):
    return state.cache.get(next(iter(state.choices.values())))


def clip(shared_dir, name):
    return shared_dir / "audio" / name


@pytest.fixture(scope="module")
def flac_clip(shared_dir, tmp_path_factory):
    """A FLAC upload (the shared clips have none): a real recording re-encoded losslessly."""
    wave, rate = sf.read(clip(shared_dir, "animal_clips/esc10/audio/rooster_1-34119-A.ogg"))
    path = tmp_path_factory.mktemp("flac") / "rooster.flac"
    sf.write(path, wave, rate)
    return path


@pytest.mark.parametrize(
    "name",
    [
        "animal_clips/esc10/audio/dog_bark_1-100032-A.ogg",  # OGG Vorbis, 44.1 kHz
        "audioset_samples/Y-_2ITXZaxT0.wav",  # WAV, 32 kHz, 10 s
        "animal_clips/minetest_mobs_animal/audio/mobs_pig.ogg",  # 11.025 kHz, 0.7 s
        "animal_clips/mineclone5_mobs_mc/audio/mobs_mc_bat_hurt.2.ogg",  # the shortest clip
    ],
)
def test_every_output_for_a_real_clip(shared_dir, tagger, tmp_path, name):
    out = analyse(clip(shared_dir, name), tagger, top_k=5, threshold=0.5, out_dir=tmp_path)
    assert list(out.top) == ["Bark", "Cat"]  # the planted classes, best first, nothing else above 0.5
    assert out.top["Bark"] > out.top["Cat"] > 0.5
    assert "| 1 | Bark |" in out.ontology and "Animal > Domestic animals, pets > Dog > Bark" in out.ontology
    assert "Animal > Domestic animals, pets > Cat" in out.ontology

    table = pd.read_csv(out.csv_path)
    assert len(table) == 65 and set(table["mid"]) == set(ANIMAL.mids)
    assert table["score"].is_monotonic_decreasing and list(table["mid"][:2]) == [BARK, CAT]

    assert set(out.timeline.columns) == {"seconds", "class", "score"}
    assert list(out.timeline["class"].unique()) == ["Bark", "Cat"]  # only the classes that reach the threshold
    duration = sf.info(str(clip(shared_dir, name))).duration
    # 2-s timeline windows drawn at their centres, the last one ending the clip; a clip shorter than
    # one window is one window, drawn across the whole clip.
    last = duration - 1.0 if duration > 2.0 else duration
    assert out.timeline["seconds"].max() == pytest.approx(last, abs=0.01)

    image = out.spectrogram
    assert image.dtype == np.uint8 and image.shape[0] == 128 and image.shape[1] >= 1 and image.shape[2] == 3
    assert out.events.empty and out.events_csv is None  # no longer than one 10-s window: no events
    assert "MobileNetV1" in out.summary and "cpu" in out.summary and out.model_seconds > 0


def test_flac_upload(flac_clip, tagger, tmp_path):
    out = analyse(flac_clip, tagger, top_k=3, threshold=0.0, out_dir=tmp_path)
    assert list(out.top)[:2] == ["Bark", "Cat"] and len(out.top) == 3


def test_top_k_and_threshold(shared_dir, tagger, tmp_path):
    path = clip(shared_dir, "animal_clips/esc10/audio/dog_bark_1-100032-A.ogg")
    assert list(analyse(path, tagger, top_k=1, threshold=0.0, out_dir=tmp_path).top) == ["Bark"]
    assert len(analyse(path, tagger, top_k=20, threshold=0.0, out_dir=tmp_path).top) == 20
    none = analyse(path, tagger, top_k=5, threshold=0.9999, out_dir=tmp_path)
    assert none.top == {} and "No animal class scored 0.9999 or more" in none.ontology and "**Bark**" in none.ontology
    shown_best = float(none.ontology.split("**Bark** at ")[1].split(" ")[0].rstrip("."))
    assert shown_best < 0.9999  # the best score never prints as reaching a threshold it missed
    assert none.timeline.empty  # nothing reached the threshold: nothing drawn


def test_default_threshold_is_the_same_for_the_page_and_the_function():
    from demo.analysis import DEFAULT_THRESHOLD
    from demo.ui import build_demo

    state = make_state(Path("/nonexistent/animal.pth"))
    slider = next(
        b for b in build_demo(state).blocks.values() if isinstance(b, gr.Slider) and b.label == "Score threshold"
    )
    assert slider.value == DEFAULT_THRESHOLD == analyse_wave.__kwdefaults__["threshold"]


def test_csv_holds_exactly_the_taggers_scores(shared_dir, tagger, tmp_path):
    path = clip(shared_dir, "audioset_samples/Y-_6S_TGc_8k.wav")
    table = pd.read_csv(analyse(path, tagger, out_dir=tmp_path).csv_path).set_index("mid")
    direct = tagger.predict_file(path)
    assert np.allclose(table.loc[list(direct.labels.mids), "score"], direct.scores, atol=1e-6)


def test_timeline_has_its_own_finer_pass_while_labels_keep_the_whole_clip(shared_dir, tagger, tmp_path):
    """Default 10-s windows give a 10-s clip one window; the timeline still moves over time."""
    path = clip(shared_dir, "audioset_samples/Y-_2ITXZaxT0.wav")
    out = analyse(path, tagger, top_k=3, threshold=0.5, out_dir=tmp_path)
    whole = tagger.predict_file(path)
    assert len(whole.window_starts) == 1
    table = pd.read_csv(out.csv_path).set_index("mid")
    assert np.allclose(table.loc[list(whole.labels.mids), "score"], whole.scores, atol=1e-6)

    fine = Tagger(tagger.model, window_seconds=2.0, hop_seconds=0.5).predict_file(path)
    cat = out.timeline[out.timeline["class"] == "Cat"]
    assert list(cat["seconds"]) == pytest.approx(np.arange(1.0, 9.01, 0.5))  # 17 windows, at their centres
    assert np.allclose(cat["score"], fine.timeline[:, ANIMAL.index_of(CAT)], atol=1e-6)
    assert cat["score"].max() - cat["score"].min() > 1e-3  # a line that moves, not a flat one
    assert "17 windows of 2 s every 0.5 s" in out.summary and "for the timeline" in out.summary


def test_timeline_windows_are_configurable_and_reuse_the_labels_pass_when_equal(
    shared_dir, planted_mobilenet, tmp_path
):
    path = str(clip(shared_dir, "audioset_samples/Y-_2ITXZaxT0.wav"))
    state = make_state(planted_mobilenet, "--timeline-window", "4", "--timeline-hop", "2")
    key = next(iter(state.choices))
    timeline, summary = (make_predict(state)(path, key, 3, 0.5)[i] for i in (3, 9))
    assert sorted(set(timeline["seconds"])) == pytest.approx([2, 4, 6, 8])
    assert "4 windows of 4 s every 2 s" in summary

    same = make_state(planted_mobilenet, "--window-seconds", "2", "--hop-seconds", "0.5")
    timeline, summary = (make_predict(same)(path, key, 3, 0.5)[i] for i in (3, 9))
    assert len(set(timeline["seconds"])) == 17 and "for the timeline" not in summary  # one pass served both


def test_timeline_pass_stays_bounded_on_long_clips(tagger, tmp_path):
    noise = np.random.default_rng(1).uniform(-0.3, 0.3, 32000 * 90)
    out = analyse(wav(tmp_path / "long.wav", noise), tagger, top_k=3, threshold=0.5, out_dir=tmp_path)
    points = out.timeline.groupby("class").size()
    assert (points <= MAX_TIMELINE_WINDOWS + 1).all() and (points >= MAX_TIMELINE_WINDOWS - 1).all()
    assert out.timeline["seconds"].max() == pytest.approx(89.0, abs=0.01)  # still spans the whole clip


@pytest.mark.slow
def test_decision_level_max_gives_a_frame_timeline(shared_dir, official_checkpoint, tmp_path):
    tagger = Tagger.from_pretrained(str(official_checkpoint("Cnn14_DecisionLevelMax")))
    out = analyse(
        clip(shared_dir, "audioset_samples/Y-_99pGKM8uQ.wav"), tagger, top_k=3, threshold=0.0, out_dir=tmp_path
    )
    scores = pd.read_csv(out.csv_path).set_index("display_name")["score"]
    for name, rows in out.timeline.groupby("class"):
        assert len(rows) > 500  # 100 frames a second, pooled to at most 600 points
        assert rows["score"].max() == pytest.approx(scores[name], abs=1e-5)  # clip score = max over frames
    assert "frame by frame" in out.summary


@pytest.mark.slow
def test_cnn14_checkpoint_known_by_its_official_file_name(shared_dir, official_checkpoint, tmp_path):
    state = make_state(official_checkpoint("Cnn14"), arch=None)  # Cnn14_mAP=0.431.pth: no --model needed
    choice = next(iter(state.choices.values()))
    assert choice.label == "Cnn14_mAP=0.431.pth (local)"
    labels, ontology, _, timeline, csv_path, *_, summary = make_predict(state)(
        str(clip(shared_dir, "audioset_samples/Y-_8E5aDUqas.wav")), choice.key, 3, 0.0
    )
    assert len(labels) == 3 and all(0.0 <= v <= 1.0 for v in labels.values())
    assert len(pd.read_csv(csv_path)) == 65 and ontology.count("Animal") >= 3
    assert "**Cnn14** on **cpu**" in summary and "17 windows of 2 s every 0.5 s" in summary
    assert sorted(set(timeline["seconds"])) == pytest.approx(np.arange(1.0, 9.01, 0.5))


# ---------------------------------------------------------------- bad input, through the button's handler


def wav(path, samples, rate=32000):
    sf.write(path, samples.astype(np.float32), rate)
    return path


def put(path, data: bytes):
    path.write_bytes(data)
    return path


BAD_INPUTS = {  # what the message must say; the core words its decoding errors, so those are checked for
    # naming the file (and not the server's folder) and saying what is wrong with it
    "nothing": (lambda d: None, "No clip given"),
    "not audio": (lambda d: put(d / "notes.wav", b"a shopping list, not a recording"), "notes.wav"),
    "zero bytes": (lambda d: put(d / "empty.ogg", b""), "empty"),
    "no samples": (lambda d: wav(d / "nosamples.wav", np.zeros(0)), "no audio samples"),
    "silent": (lambda d: wav(d / "silence.wav", np.zeros(32000)), "silent"),
    "corrupt": (lambda d: put(d / "noise.mp3", np.random.default_rng(0).bytes(5000)), "noise.mp3"),
    "too long": (lambda d: wav(d / "long.wav", np.full(32000 * 4, 0.1)), "longer than the 3 s limit"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_a_clear_page_error_and_the_next_clip_works(case, planted_mobilenet, shared_dir, tmp_path):
    state = make_state(planted_mobilenet, "--max-seconds", "3")
    predict = make_predict(state)
    key = next(iter(state.choices))
    make, message = BAD_INPUTS[case]
    with pytest.raises(gr.Error) as err:
        predict(make(tmp_path), key, 5, 0.1)
    assert message in err.value.message and str(tmp_path) not in err.value.message
    if case in ("not audio", "corrupt"):
        assert re.search(r"(?i)decod|corrupt|not .*audio", err.value.message)
    good = predict(str(clip(shared_dir, "animal_clips/minetest_mobs_animal/audio/mobs_pig.ogg")), key, 5, 0.1)
    assert list(good[0]) == ["Bark", "Cat"] and Path(good[4]).is_file()


def test_model_is_loaded_once_and_shared_between_requests(planted_mobilenet, shared_dir):
    state = make_state(planted_mobilenet)
    predict = make_predict(state)
    key = next(iter(state.choices))
    path = str(clip(shared_dir, "animal_clips/minetest_mobs_animal/audio/mobs_pig.ogg"))
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(predict(path, key, 3, 0.1))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 4 and state.cache.loads == 1
    assert len({a[4] for a in answers}) == 4  # each request got its own CSV file


def test_missing_weights_disable_the_button_and_say_how_to_get_them(planted_mobilenet, monkeypatch, tmp_path):
    monkeypatch.setenv("PANNS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("PANNS_OFFLINE", "1")
    state = make_state(planted_mobilenet)
    text, button, fetch_button = model_status(state, "Cnn14")
    # Offline a fetch can only fail: no fetch button, the page says how to get the file instead.
    assert button["interactive"] is False and fetch_button["visible"] is False
    weights = PRETRAINED["Cnn14"]
    for needed in (
        "python -m panns_core download Cnn14",
        weights.url,
        str(tmp_path / "cache" / weights.filename),
        "PANNS_OFFLINE=1",
    ):
        assert needed in text
    with pytest.raises(gr.Error, match="PANNS_OFFLINE"):
        make_predict(state)(None, "Cnn14", 5, 0.1)
    text, button, _ = model_status(state, next(iter(state.choices)))  # the local file stays usable
    assert button["interactive"] is True

    monkeypatch.delenv("PANNS_OFFLINE")  # online, the same missing weights can be fetched from the page
    assert model_status(state, "Cnn14")[2]["visible"] is True


@pytest.fixture
def online_without_network(monkeypatch, tmp_path):
    """PANNS_OFFLINE unset, an empty cache, and every download recorded and refused (tests never go out)."""
    monkeypatch.delenv("PANNS_OFFLINE", raising=False)
    monkeypatch.setenv("PANNS_CACHE_DIR", str(tmp_path / "cache"))
    attempts = []

    def refuse(url, *args, **kwargs):
        attempts.append(url)
        raise OSError("no network in tests")

    monkeypatch.setattr("panns_core.weights.cache.http_fetch", refuse)
    return attempts


def test_the_api_never_downloads_weights_for_a_choice_that_is_not_ready(planted_mobilenet, online_without_network):
    state = make_state(planted_mobilenet)
    with pytest.raises(gr.Error) as err:
        make_predict(state)(None, "Cnn14", 5, 0.1)
    assert online_without_network == []  # refused before any download began
    assert "python -m panns_core download Cnn14" in err.value.message and "Fetch weights" in err.value.message


def test_a_failed_fetch_says_what_to_do_once_in_plain_text(planted_mobilenet, online_without_network):
    state = make_state(planted_mobilenet)
    with pytest.raises(gr.Error) as err:
        make_fetch(state)("Cnn14")
    assert online_without_network == [PRETRAINED["Cnn14"].url]
    message = err.value.message
    assert "no network in tests" in message
    assert message.count("panns_core download Cnn14") == 1 and message.count(PRETRAINED["Cnn14"].url) == 1
    assert "**" not in message and "<http" not in message


def test_a_slow_first_load_does_not_hold_up_a_loaded_model(monkeypatch):
    """Loading takes a lock per checkpoint, not one for all: visitors of a loaded model are not kept
    waiting behind someone else's first download."""
    slow_started, release = threading.Event(), threading.Event()
    loaded = []

    def fake_load(source, model=None, **options):
        if source == "Cnn14":
            slow_started.set()
            assert release.wait(10), "the slow load was never released"
        loaded.append(source)
        return f"tagger for {source}"

    monkeypatch.setattr("demo.models.Tagger.from_pretrained", fake_load)
    cache = TaggerCache(max_loaded=2)
    choices = {c.key: c for c in list_choices("Cnn14")}
    assert cache.get(choices["MobileNetV1"]) == "tagger for MobileNetV1"

    slow = [threading.Thread(target=cache.get, args=(choices["Cnn14"],)) for _ in range(2)]
    for t in slow:
        t.start()
    assert slow_started.wait(10)
    fast = []
    reader = threading.Thread(target=lambda: fast.append(cache.get(choices["MobileNetV1"])))
    reader.start()
    reader.join(timeout=5)
    served_while_loading = fast == ["tagger for MobileNetV1"]
    release.set()
    for t in [*slow, reader]:
        t.join(timeout=10)
    assert served_while_loading
    assert loaded == ["MobileNetV1", "Cnn14"] and cache.loads == 2  # two waiting requests, one load


def test_a_foreign_file_in_the_cache_is_refused_with_its_reason(
    official_checkpoint, planted_mobilenet, monkeypatch, tmp_path, shared_dir
):
    cache = tmp_path / "cache"
    cache.mkdir()
    name = PRETRAINED["MobileNetV1"].filename
    (cache / name).write_bytes(official_checkpoint("MobileNetV1").read_bytes())  # right name, wrong weights
    monkeypatch.setenv("PANNS_CACHE_DIR", str(cache))
    state = make_state(planted_mobilenet)
    text, button, _ = model_status(state, "MobileNetV1")  # not ready: the page says why before any load
    assert button["interactive"] is False and "bytes, expected" in text and f"Delete {cache / name}" in text
    path = str(clip(shared_dir, "animal_clips/esc10/audio/dog_bark_1-100032-A.ogg"))
    with pytest.raises(gr.Error, match="bytes, expected|check"):
        make_predict(state)(path, "MobileNetV1", 5, 0.1)


@pytest.mark.slow
@pytest.mark.parametrize("backend, shown", [("torch", "PyTorch"), ("onnx", "ONNX Runtime")])
def test_backend_chosen_at_start_is_named_in_the_summary_and_shared_by_the_timeline(
    shared_dir, planted_mobilenet, backend, shown
):
    path = str(clip(shared_dir, "audioset_samples/Y-_2ITXZaxT0.wav"))
    state = make_state(planted_mobilenet, "--backend", backend)
    key = next(iter(state.choices))
    summary = make_predict(state)(path, key, 3, 0.5)[9]
    assert f"({shown})" in summary
    tagger = state.cache.get(state.choice(key))
    assert tagger.backend_name == backend
    assert timeline_tagger(tagger, 10.0, 2.0, 0.5).backend is tagger.backend  # one exported graph, not two
