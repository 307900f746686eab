"""The live path: a rolling window fed with blocks of any size, rate and channels, and a LiveTagger that skips
updates rather than queue them and keeps a bounded history."""

import threading
import time
import tracemalloc
from types import SimpleNamespace

import numpy as np
import pytest
import soxr

from panns_core.errors import AudioError, ConfigError
from panns_core.inference.live import LiveTagger, RollingBuffer
from panns_core.labels.sets import get_label_set

RATE = 32000
ODD_SIZES = [1, 7, 333, 32001, 5, 4410, 2, 65537, 999, 12345]


class FakeTagger:
    """A Tagger's live surface: class 0 scores the window's last sample, class 1 its length in seconds / 10.
    `delay` seconds of sleep (or of a fake clock's time) make it slow; every window it saw is kept."""

    def __init__(self, delay=0.0, clock=None):
        self.sample_rate, self.labels, self.delay, self.clock, self.windows = (
            RATE,
            get_label_set("animal"),
            delay,
            clock,
            [],
        )

    def predict(self, window, sample_rate):
        assert sample_rate == RATE
        self.windows.append(window[-1])
        if self.clock is not None:
            self.clock.now += self.delay
        elif self.delay:
            time.sleep(self.delay)
        scores = np.zeros(len(self.labels), np.float32)
        scores[0], scores[1] = window[-1], len(window) / RATE / 10
        return SimpleNamespace(scores=scores)


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def counter(start, n):
    """Samples that say where they are in the stream (exact in float32 below 2**24)."""
    return np.arange(start, start + n, dtype=np.float32)


def test_window_holds_exactly_the_latest_samples_whatever_the_block_sizes():
    buffer = RollingBuffer(2.0, RATE)
    fed = 0
    for _ in range(3):
        for size in ODD_SIZES:
            buffer.feed(counter(fed, size), RATE)
            fed += size
            window = buffer.latest()
            assert len(window) == min(fed, 2 * RATE)
            np.testing.assert_array_equal(window, counter(fed - len(window), len(window)))
    assert buffer.total == fed


def test_stereo_int16_frames_by_channels_are_mixed_to_mono_even_for_tiny_blocks():
    buffer = RollingBuffer(1.0, RATE)
    left = np.array([1000, 2000, 3000], np.int16)
    buffer.feed(np.stack([left, -left // 2], axis=1), RATE)  # (3 frames, 2 channels): shorter axis is frames
    np.testing.assert_allclose(buffer.latest(), (left - left // 2) / 2 / 32768, rtol=1e-6)


def test_resampling_is_continuous_across_blocks_and_keeps_the_latest_audio():
    rate, seconds = 44100, 3.0
    sine = np.sin(2 * np.pi * 1000 * np.arange(int(rate * seconds)) / rate).astype(np.float32)
    buffer = RollingBuffer(2.0, RATE)
    start, i = 0, 0
    while start < len(sine):
        size = ODD_SIZES[i % len(ODD_SIZES)] % 7919 + 1
        buffer.feed(np.stack([sine[start : start + size]] * 2, axis=1), rate)  # stereo 44.1 kHz in odd blocks
        start, i = start + size, i + 1
    window = buffer.latest()
    assert len(window) == 2 * RATE
    # the same samples as resampling the whole signal at once: no clicks at block edges, nothing lost or repeated
    whole = soxr.resample(sine, rate, RATE, quality="HQ")
    np.testing.assert_allclose(window, whole[buffer.total - len(window) : buffer.total], atol=1e-4)
    spectrum = np.abs(np.fft.rfft(window * np.hanning(len(window))))
    freqs = np.fft.rfftfreq(len(window), 1 / RATE)
    assert abs(freqs[np.argmax(spectrum)] - 1000) < 1
    assert spectrum[np.abs(freqs - 1000) > 20].max() < 1e-3 * spectrum.max()


def test_a_new_rate_mid_stream_starts_a_new_resampler_and_the_window_keeps_going():
    buffer = RollingBuffer(1.0, RATE)
    buffer.feed(np.full(48000, 0.25, np.float32), 48000)
    buffer.feed(np.full(16000, -0.5, np.float32), 16000)
    window = buffer.latest()
    assert len(window) == RATE
    assert abs(window[-RATE // 4 :].mean() + 0.5) < 0.02  # the latest audio is the 16 kHz block's


@pytest.mark.parametrize(
    "block, rate, message",
    [
        (np.array([0.1, np.nan, 0.2], np.float32), RATE, "NaN"),
        (np.zeros((2, 2, 2), np.float32), RATE, "1-D or 2-D"),
        (np.zeros(10, np.float32), 0, "sample rate"),
    ],
)
def test_a_bad_block_is_refused_and_the_window_is_untouched(block, rate, message):
    buffer = RollingBuffer(1.0, RATE)
    buffer.feed(counter(0, 100), RATE)
    with pytest.raises(AudioError, match=message):
        buffer.feed(block, rate)
    np.testing.assert_array_equal(buffer.latest(), counter(0, 100))
    assert buffer.feed(np.zeros(0, np.float32), RATE) == 0  # an empty block is no error: nothing arrived


def test_updates_wait_for_a_second_of_audio_then_come_at_most_every_interval():
    clock = FakeClock()
    live = LiveTagger(FakeTagger(), window_seconds=5, update_seconds=1.0, clock=clock)
    assert live.feed_and_update(counter(0, RATE // 2), RATE) is None  # half a second: too little to tag
    fed, got = RATE // 2, []
    for _ in range(40):  # 10 s in 0.25-s blocks, arriving in real time
        clock.now += 0.25
        update = live.feed_and_update(counter(fed, RATE // 4), RATE)
        fed += RATE // 4
        if update is not None:
            got.append(update)
            assert update.scores[0] == fed - 1  # the window ends at the block that just arrived
    assert 9 <= len(got) <= 11
    assert np.all(np.diff([u.heard_until for u in got]) >= 1.0 - 1e-9)
    assert got[-1].window_seconds == 5.0


def test_a_slow_model_skips_updates_and_each_one_tags_the_latest_audio():
    """3 s per update against 0.5-s blocks: the blocks that wait meanwhile are buffered without tagging, so
    the answers thin out instead of falling ever further behind, and each one describes the latest audio."""
    clock = FakeClock()
    live = LiveTagger(FakeTagger(delay=3.0, clock=clock), window_seconds=2, update_seconds=1.0, clock=clock)
    fed, updates, lags = 0, 0, []
    for i in range(120):  # 60 s of audio; block i arrives at 0.5 * (i + 1) s and waits while an update runs
        arrival = 0.5 * (i + 1)
        clock.now = max(clock.now, arrival)
        update = live.feed_and_update(counter(fed, RATE // 2), RATE)
        fed += RATE // 2
        if update is not None:
            updates += 1
            assert update.scores[0] == fed - 1
            assert update.compute_seconds == 3.0
            lags.append(clock.now - arrival)  # from the block's arrival to its scores
    assert 10 <= updates < 30
    assert updates - 1 <= live.skipped <= updates  # each slow update cost the one after it, and it is counted
    assert max(lags) <= 3.0 + 1.0  # one update's time plus the drain: never minutes behind


def test_an_update_asked_for_while_another_runs_is_skipped_not_queued():
    tagger = FakeTagger(delay=0.4)
    live = LiveTagger(tagger, window_seconds=2, update_seconds=0.01)
    live.feed(counter(0, RATE), RATE)
    slow = threading.Thread(target=live.update)
    slow.start()
    time.sleep(0.1)
    live.feed(counter(RATE, RATE), RATE)
    started = time.perf_counter()
    assert live.update(force=True) is None  # returns at once instead of waiting for the running update
    assert time.perf_counter() - started < 0.1
    slow.join()
    assert live.skipped == 1 and live.updates == 1
    latest = live.update(force=True)
    assert latest.scores[0] == 2 * RATE - 1  # the next update sees the audio that came meanwhile


@pytest.mark.slow
def test_an_hour_of_blocks_keeps_the_history_to_a_minute_and_memory_flat():
    clock = FakeClock()
    live = LiveTagger(FakeTagger(), window_seconds=10, update_seconds=1.0, history_seconds=60, clock=clock)
    block = np.zeros((RATE, 2), np.int16)  # a second of stereo int16, as a microphone sends it

    def listen(seconds):
        for _ in range(seconds):
            clock.now += 1.0
            live.feed_and_update(block, RATE)

    listen(600)
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    listen(3000)
    grown = sum(s.size_diff for s in tracemalloc.take_snapshot().compare_to(before, "filename"))
    tracemalloc.stop()
    assert live.updates >= 3590
    history = live.history
    assert 60 <= len(history) <= 61
    assert history[-1].heard_until - history[0].heard_until <= 60
    assert grown < 200_000, f"memory grew by {grown} bytes over 50 minutes"


def test_history_frame_and_csv_hold_the_top_classes_in_time_order(tmp_path):
    clock = FakeClock()
    live = LiveTagger(FakeTagger(), window_seconds=2, update_seconds=1.0, clock=clock)
    for i in range(5):
        clock.now += 1.0
        live.feed_and_update(np.full(RATE, 0.1 * (i + 1), np.float32), RATE)
    frame = live.history_frame(k=2)
    labels = live.labels
    assert list(frame.columns) == ["seconds", "mid", "display_name", "score"]
    assert list(frame["mid"].unique()) == [labels.mids[0], labels.mids[1]]  # peaked highest first
    first = frame[frame["mid"] == labels.mids[0]]
    assert list(first["seconds"]) == [1.0, 2.0, 3.0, 4.0, 5.0]
    np.testing.assert_allclose(first["score"], [0.1, 0.2, 0.3, 0.4, 0.5], rtol=1e-6)
    path = live.write_csv(tmp_path / "live.csv", k=2)
    assert path.read_text().splitlines()[0] == "seconds,mid,display_name,score"
    assert len(path.read_text().splitlines()) == 11


def test_concurrent_feeds_never_interleave_inside_a_block():
    buffer = RollingBuffer(1.0, RATE)
    size, per_thread = 1000, 50

    def feeder(value):
        for _ in range(per_thread):
            buffer.feed(np.full(size, value, np.float32), RATE)

    threads = [threading.Thread(target=feeder, args=(v,)) for v in (1.0, 2.0, 3.0, 4.0)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert buffer.total == 4 * per_thread * size
    window = buffer.latest()
    edges = np.flatnonzero(np.diff(window)) + 1
    runs = np.diff(np.concatenate([edges, [len(window)]]))
    assert np.all(runs % size == 0)  # every whole run is made of whole blocks


def test_bad_settings_are_refused():
    with pytest.raises(ConfigError):
        RollingBuffer(0, RATE)
    with pytest.raises(ConfigError):
        LiveTagger(FakeTagger(), update_seconds=0)
