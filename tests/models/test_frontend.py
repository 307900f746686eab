"""A model built with other audio settings really uses them: its log-mel equals one computed here with
librosa from the same settings (fmin, fmax, mel bins, window, hop, rate), and a tone lands in its mel bin."""

import librosa
import numpy as np
import pytest
import torch

from panns_core import Tagger, create_model

SETTINGS = [
    dict(sample_rate=16000, window_size=1024, hop_size=160, mel_bins=40, fmin=100, fmax=7000),
    dict(sample_rate=32000, window_size=1024, hop_size=320, mel_bins=128, fmin=300, fmax=8000),
    dict(sample_rate=32000, window_size=2048, hop_size=500, mel_bins=64, fmin=0, fmax=16000),
]


def librosa_log_mel(wave: np.ndarray, s: dict) -> np.ndarray:
    """(frames, mel_bins): |STFT|^2 (Hann, centred, reflect) -> mel (Slaney) -> 10 log10(max(x, 1e-10))."""
    spec = (
        np.abs(
            librosa.stft(
                wave.astype(np.float64),
                n_fft=s["window_size"],
                hop_length=s["hop_size"],
                window="hann",
                center=True,
                pad_mode="reflect",
            )
        )
        ** 2
    )
    mel = (
        librosa.filters.mel(
            sr=s["sample_rate"], n_fft=s["window_size"], n_mels=s["mel_bins"], fmin=s["fmin"], fmax=s["fmax"]
        )
        @ spec
    )
    return (10 * np.log10(np.maximum(mel, 1e-10))).T


def noisy_tone(rate: int, seconds: float = 1.0) -> np.ndarray:
    rng = np.random.RandomState(0)
    t = np.arange(int(rate * seconds)) / rate
    return (0.05 * rng.randn(len(t)) + 0.3 * np.sin(2 * np.pi * 1234 * t)).astype(np.float32)


def close_in_db(ours: np.ndarray, expected: np.ndarray) -> None:
    """Every cell within 0.02 dB (float32 against float64), the quiet ones too: amin decides those."""
    np.testing.assert_allclose(ours, expected, atol=0.02)


@pytest.mark.parametrize(
    "s", SETTINGS, ids=lambda s: f"{s['sample_rate']}Hz-{s['mel_bins']}mel-{s['fmin']}-{s['fmax']}"
)
def test_log_mel_equals_librosa_with_the_same_settings(s):
    model = create_model("MobileNetV1", classes_num=65, **s).eval()
    wave = noisy_tone(s["sample_rate"])
    expected = librosa_log_mel(wave, s)
    shown = Tagger(model, device="cpu").log_mel(wave)  # what the demo displays
    assert shown.shape == expected.shape == (1 + len(wave) // s["hop_size"], s["mel_bins"])
    close_in_db(shown, expected)
    with torch.no_grad():
        fed = model.logmel(torch.from_numpy(wave)[None])[0, 0].numpy()  # what the network is fed
    close_in_db(fed * np.sqrt(1 + 1e-5), expected)  # a fresh bn0 divides by sqrt(1+eps)
    # the same clip under the official settings is far away: the test can tell settings apart
    official = librosa_log_mel(wave, dict(s, fmin=50, fmax=14000))
    assert official.shape != expected.shape or np.abs(official - expected).max() > 1.0


@pytest.mark.parametrize("s", SETTINGS[:2], ids=["16k", "32k"])
def test_a_tone_lands_in_the_mel_bin_of_its_frequency(s):
    centres = librosa.mel_frequencies(s["mel_bins"] + 2, fmin=s["fmin"], fmax=s["fmax"])[1:-1]
    model = create_model("MobileNetV1", classes_num=65, **s).eval()
    tagger = Tagger(model, device="cpu")
    t = np.arange(s["sample_rate"]) / s["sample_rate"]
    for freq in (440.0, 2500.0, 6000.0):
        mel = tagger.log_mel((0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32))
        assert abs(int(np.argmax(mel[20:-20].mean(0))) - int(np.argmin(np.abs(centres - freq)))) <= 1, freq
    # above fmax nothing is seen: the loudest bin of a tone at fmax + 500 Hz is far quieter than in band
    above = tagger.log_mel((0.5 * np.sin(2 * np.pi * (s["fmax"] + 500) * t)).astype(np.float32))
    inside = tagger.log_mel((0.5 * np.sin(2 * np.pi * (s["fmax"] - 500) * t)).astype(np.float32))
    assert above[20:-20].max() < inside[20:-20].max() - 20  # dB


def test_short_clips_are_padded_to_the_models_minimum():
    model = create_model("MobileNetV1", classes_num=65, sample_rate=16000, hop_size=160, fmax=8000)
    assert model.min_samples == 31 * 160
    assert model.pad_short(torch.ones(2, 100)).shape == (2, 31 * 160)
    padded = model.pad_short(torch.ones(1, 100))
    assert padded[0, :100].eq(1).all() and padded[0, 100:].eq(0).all()  # zeros at the end, signal untouched
    assert model.pad_short(torch.ones(1, 5000)).shape == (1, 5000)
    assert Tagger(model.eval(), device="cpu").log_mel(np.zeros(100, np.float32)).shape == (32, 64)
