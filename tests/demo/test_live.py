"""Live mode's handlers and speed table, called directly with a planted random-weight MobileNetV1 (Bark wins)."""

import gradio as gr
import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import soxr

from demo.config import parse_config
from demo.live import LIVE_NOTE, default_live_key, free_session, make_live_handlers, picker_choices
from demo.models import list_choices
from demo.speed import SpeedTable, time_per_window
from demo.ui import DemoState

BARK = "/m/05tny_"


@pytest.fixture(scope="module")
def state(planted_mobilenet):
    config = parse_config(["--checkpoint", str(planted_mobilenet), "--arch", "MobileNetV1"])
    return DemoState(config, list_choices(config.default_checkpoint, config.checkpoint, config.checkpoint_arch))


@pytest.fixture(scope="module")
def mic_chunks(shared_dir):
    """A dog bark as a browser microphone sends it: 48 kHz stereo int16 in 0.5-s chunks."""
    wave, rate = sf.read(shared_dir / "audio" / "animal_clips" / "esc10" / "audio" / "dog_bark_1-100032-A.ogg")
    wave = soxr.resample(wave, rate, 48000)
    pcm = (np.clip(wave, -1, 1) * 32767).astype(np.int16)
    stereo = np.stack([pcm, pcm], axis=1)
    return [(48000, stereo[i : i + 24000]) for i in range(0, len(stereo), 24000)]


class ChunkClock:
    """Real time as the chunks arrive: each 0.5-s chunk comes half a second after the one before."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_speed_table_labels_the_picker_and_says_who_cannot_keep_up():
    times = {"a": 0.025, "b": 1.5}
    speeds = SpeedTable(timer=lambda tagger: times[tagger])
    assert speeds.label("a", "MobileNetV1") == "MobileNetV1" and speeds.fastest(["a", "b"]) is None
    speeds.measure("b", "b")
    speeds.measure("a", "a")
    speeds.measure("a", "b")  # measured once: a second call keeps the first figure
    assert speeds.label("a", "MobileNetV1") == "MobileNetV1 · 25 ms"
    assert speeds.label("b", "Cnn14") == "Cnn14 · 1500 ms"
    assert speeds.fastest(["a", "b"]) == "a" and speeds.fastest(["b"]) == "b"
    assert "keeps up" in speeds.note("a", "MobileNetV1", 1.0)
    assert "cannot keep up" in speeds.note("b", "Cnn14", 1.0)


def test_time_per_window_times_a_silent_ten_second_window():
    seen = []

    class Recorder:
        sample_rate = 32000

        def predict(self, wave, rate):
            seen.append((len(wave), float(np.abs(wave).max())))

    assert time_per_window(Recorder(), repeats=3) >= 0
    assert seen == [(320000, 0.0)] * 4  # one warm-up, three timed


def test_live_mode_defaults_to_the_fastest_timed_model(state):
    speeds = SpeedTable(timer=lambda tagger: 0.5)
    keys = list(state.choices)
    assert default_live_key(state, speeds) == keys[0]  # the only ready model before any is timed
    speeds._seconds.update({keys[0]: 0.5, keys[1]: 0.1})
    assert default_live_key(state, speeds) == keys[1]
    assert dict((v, k) for k, v in picker_choices(state, speeds))[keys[1]].endswith("· 100 ms")


def test_stream_answers_about_once_a_second_and_stop_leaves_the_last_minute(state, mic_chunks, tmp_path):
    key = next(iter(state.choices))
    start, stream, stop = make_live_handlers(state, SpeedTable())
    session, *_ = start(key, 2.0)
    session.live.clock = clock = ChunkClock()
    answers = []
    for chunk in mic_chunks:
        clock.now += 0.5
        session, labels, trust, chart, status = stream(chunk, session, key, 2.0)
        if labels != gr.skip():  # gr.skip(): no update was due, the page keeps what it shows
            answers.append((labels, trust, chart, status))
    assert len(answers) >= 3 and len(answers) <= len(mic_chunks) // 2 + 1  # not one per chunk
    labels, trust, chart, status = answers[-1]
    assert next(iter(labels)) == "Bark"
    assert "| 1 | Bark |" in trust and "Animal > Domestic animals, pets > Dog > Bark" in trust
    assert [int(a[3].split()[1]) for a in answers] == list(range(1, len(answers) + 1))  # "Update N", in order
    assert isinstance(chart, pd.DataFrame) and set(chart.columns) == {"seconds", "class", "score"}
    assert chart["seconds"].nunique() == len(answers)  # the chart grows by one point per answer

    session, chart, csv, status = stop(session)
    assert session is None and "Stopped" in status
    table = pd.read_csv(csv)
    assert table["seconds"].nunique() == len(answers) and "Bark" in set(table["display_name"])


def test_a_model_switch_mid_stream_starts_a_fresh_window(state, mic_chunks):
    key = next(iter(state.choices))
    start, stream, _ = make_live_handlers(state, SpeedTable())
    session, *_ = start(key, 10.0)
    session, *_ = stream(mic_chunks[0], session, key, 10.0)
    first = session
    session, *_ = stream(mic_chunks[1], session, key, 5.0)  # the visitor picked a 5-s window
    assert session is not first and session.live.buffer.seconds == 5.0
    assert 15000 < session.live.buffer.total <= 16000  # only the new chunk at 32 kHz (less the resampler delay)


def test_a_session_that_goes_away_frees_its_audio(state, mic_chunks):
    key = next(iter(state.choices))
    start, stream, _ = make_live_handlers(state, SpeedTable())
    session, *_ = start(key, 10.0)
    session, *_ = stream(mic_chunks[0], session, key, 10.0)
    assert session.live.buffer.total > 0
    free_session(session)
    assert session.live.buffer.total == 0 and session.live.history == []
    free_session(None)  # a visitor who never started: nothing to free


def test_the_page_says_nothing_is_stored():
    assert "nothing is recorded or stored" in LIVE_NOTE
