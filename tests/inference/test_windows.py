"""What audio each window of a long recording holds, and where frame scores land on the recording's grid.

The Tagger's own tests check window starts and shapes; these check content, against computations made
here independently: slicing the waveform by hand, and placing events at known times under a model whose
answer is known (a probe that reports the samples it was given and the energy of each 10-ms frame).
"""

import numpy as np
import pytest
import soundfile as sf
import torch

from panns_core import Tagger
from panns_core.config import AudioConfig
from panns_core.labels.sets import ANIMAL

SR = 32000
HOP = 320


class SampleProbe(torch.nn.Module):
    """Reports what it saw. clipwise[k] = the window's k-th sample (k < 65); framewise[i] = mean |x| of
    frame i (samples i*hop .. (i+1)*hop, the grid of a centred STFT) for every class; embedding = first/last."""

    classes_num = len(ANIMAL)
    arch_name = "SampleProbe"

    def __init__(self):
        super().__init__()
        self.audio = AudioConfig()

    def pad_short(self, x):
        return x

    def forward(self, x):  # x: (batch, samples)
        batch, samples = x.shape
        frames = 1 + samples // HOP
        padded = torch.nn.functional.pad(x.abs(), (0, frames * HOP - samples))
        energy = padded.view(batch, frames, HOP).mean(-1)  # (batch, frames)
        return {
            "clipwise_output": x[:, : self.classes_num],  # (batch, 65)
            "embedding": torch.stack([x[:, 0], x[:, -1]], dim=1),  # (batch, 2)
            "framewise_output": energy[..., None].expand(-1, -1, self.classes_num),
        }  # (batch, frames, 65)


def ramp(n: int) -> np.ndarray:
    """Every sample different and known: sample i holds i / n."""
    return (np.arange(n) / n).astype(np.float32)


def expected_starts(total: int, window: int, hop: int) -> list:
    """Independent of the Tagger: full windows every hop, then one aligned to the end if audio is left over."""
    if total <= window:
        return [0]
    starts = list(range(0, total - window + 1, hop))
    if starts[-1] + window < total:
        starts.append(total - window)
    return starts


@pytest.mark.parametrize("seconds, window_s, hop_s", [(5.0 + 123 / SR, 2.0, None), (7.3, 2.0, 1.5), (1.7, 2.0, None)])
def test_every_timeline_row_holds_its_own_samples(seconds, window_s, hop_s):
    total = round(seconds * SR)
    wave = ramp(total)
    result = Tagger(SampleProbe(), window_seconds=window_s, hop_seconds=hop_s, device="cpu").predict(wave, SR)
    window, hop = int(window_s * SR), int((hop_s or window_s) * SR)
    starts = expected_starts(total, window, hop)
    assert result.window_starts.tolist() == pytest.approx([s / SR for s in starts])
    for row, start in zip(result.timeline, starts):
        np.testing.assert_array_equal(row, wave[start : start + 65])
    np.testing.assert_array_equal(result.timeline[-1], wave[starts[-1] : starts[-1] + 65])  # the end-aligned one
    last_samples = [wave[min(s + window, total) - 1] for s in starts]  # each window ends where it should
    assert result.embedding[1] == pytest.approx(np.mean(last_samples), abs=1e-6)
    assert result.embedding[1] == pytest.approx(np.mean([wave[min(s + window, total) - 1] for s in starts]))


def test_streamed_file_windows_cross_decoder_blocks_with_the_right_samples(tmp_path):
    """65 s decoded in 30-s blocks, 10-s windows every 7 s: windows straddle block edges, the last is end-aligned."""
    total = 65 * SR + 777
    wave = ramp(total)
    path = tmp_path / "long.wav"
    sf.write(path, wave, SR, subtype="FLOAT")  # float WAV at the model rate: samples arrive unchanged
    result = Tagger(SampleProbe(), window_seconds=10, hop_seconds=7, device="cpu").predict_file(path)
    starts = expected_starts(total, 10 * SR, 7 * SR)
    assert result.window_starts.tolist() == pytest.approx([s / SR for s in starts])
    assert starts[-1] == total - 10 * SR
    for row, start in zip(result.timeline, starts):
        np.testing.assert_array_equal(row, wave[start : start + 65])
    assert result.duration == pytest.approx(total / SR)


def events_recording(total: int, events_s) -> np.ndarray:
    """Silence with 50-ms bursts of a 1-kHz tone starting at the given seconds."""
    wave = np.zeros(total, np.float32)
    for t in events_s:
        start = int(t * SR)
        n = int(0.05 * SR)
        wave[start : start + n] = 0.5 * np.sin(2 * np.pi * 1000 * np.arange(n) / SR)
    return wave


def test_frame_rows_land_on_the_recording_grid_at_the_events_times():
    total = 5 * SR + 123  # 501 frame rows; 2-s windows start at 0, 2 and 3.0038 s
    events = [0.5, 2.5, 4.7]  # the last one is only inside the end-aligned window
    result = Tagger(SampleProbe(), window_seconds=2.0, device="cpu").predict(events_recording(total, events), SR)
    frames = result.framewise[:, 0]
    assert result.framewise.shape == (1 + total // HOP, 65) and result.frame_seconds == HOP / SR
    active = np.flatnonzero(frames > 0.05)
    expected = set()
    for t in events:  # 5 frames of 10 ms each, give or take one row at the edges
        expected |= set(range(int(t * 100), int(t * 100) + 5))
    assert expected <= set(active.tolist())
    assert all(min(abs(a - e) for e in expected) <= 1 for a in active), active
    # the energy is the tone's mean |x| (0.5 * 2/pi), not something scaled or shifted
    assert frames[471:474] == pytest.approx(0.5 * 2 / np.pi, rel=0.02)


def test_frame_rows_of_a_single_window_are_the_recordings_own_frames():
    """A 5-s recording in one 10-s window: all 501 rows are the model's rows, none dropped or zeroed."""
    total = 5 * SR
    wave = np.random.RandomState(0).randn(total).astype(np.float32) * 0.1
    result = Tagger(SampleProbe(), device="cpu").predict(wave, SR)
    own = SampleProbe()(torch.from_numpy(wave)[None])["framewise_output"][0].numpy()
    assert result.framewise.shape == own.shape == (501, 65)
    np.testing.assert_allclose(result.framewise, own, rtol=1e-6)
    assert (result.framewise[:-1] > 0).all()  # the probe's last frame lies past the end: silence


def stitched(model, wave: np.ndarray, starts: list, window: int) -> np.ndarray:
    """Run the model on each window here and place its rows at start / hop, keeping the max where they overlap."""
    grid = np.zeros((1 + len(wave) // HOP, 65), np.float32)
    with torch.no_grad():
        for start in starts:
            rows = model(torch.from_numpy(wave[start : start + window])[None])["framewise_output"][0][:, 72:137]
            first = round(start / HOP)
            rows = rows.numpy()[: len(grid) - first]
            grid[first : first + len(rows)] = np.maximum(grid[first : first + len(rows)], rows)
    return grid


@pytest.mark.slow
def test_decision_level_frames_match_the_model_run_window_by_window(official_checkpoint):
    """The real Cnn14_DecisionLevelMax: timeline rows and frame rows equal the model run on hand-cut windows."""
    tagger = Tagger.from_pretrained(
        str(official_checkpoint("Cnn14_DecisionLevelMax")), window_seconds=2.0, device="cpu"
    )
    total = 5 * SR + 123
    wave = np.random.RandomState(0).randn(total).astype(np.float32) * 0.1
    wave[int(4.2 * SR) :] *= 5  # the end sounds different from the rest
    result = tagger.predict(wave, SR)
    starts = expected_starts(total, 2 * SR, 2 * SR)
    with torch.no_grad():
        last = tagger.model(torch.from_numpy(wave[starts[-1] :])[None])["clipwise_output"][0, 72:137].numpy()
        wrong = tagger.model(torch.from_numpy(wave[2 * SR : 4 * SR])[None])["clipwise_output"][0, 72:137].numpy()
    np.testing.assert_allclose(result.timeline[-1], last, atol=1e-5)
    assert np.abs(last - wrong).max() > 1e-3  # 100x the tolerance: another slice shows
    np.testing.assert_allclose(result.framewise, stitched(tagger.model, wave, starts, 2 * SR), atol=1e-5)
    single = Tagger(tagger.model, device="cpu").predict(wave[: 5 * SR], SR)  # one 10-s window, 501 rows
    with torch.no_grad():
        own = tagger.model(torch.from_numpy(wave[: 5 * SR])[None])["framewise_output"][0][:, 72:137].numpy()
    assert single.framewise.shape == (501, 65)
    np.testing.assert_allclose(single.framewise, own, atol=1e-5)


def test_mobilenet_last_window_is_the_model_on_the_last_two_seconds(official_checkpoint):
    """The real model, no probe: the end-aligned row equals the model run on wave[-2 s:] cut by hand."""
    tagger = Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")), window_seconds=2.0, device="cpu")
    total = 5 * SR + 4321
    wave = np.random.RandomState(3).randn(total).astype(np.float32) * 0.1
    wave[int(4.5 * SR) :] = 0.3 * np.sin(2 * np.pi * 3000 * np.arange(total - int(4.5 * SR)) / SR)
    result = tagger.predict(wave, SR)
    with torch.no_grad():
        by_hand = [
            tagger.model(torch.from_numpy(wave[s : s + 2 * SR])[None])["clipwise_output"][0, 72:137].numpy()
            for s in (0, 2 * SR, total - 2 * SR, 3 * SR)
        ]
    for row, expected in zip(result.timeline, by_hand[:3]):
        np.testing.assert_allclose(row, expected, atol=1e-5)
    assert np.abs(by_hand[2] - by_hand[3]).max() > 1e-2  # the end-aligned slice and one 4321 samples off differ
