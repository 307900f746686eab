"""panns_core.audio in detail: which axis is a channel, where a bad sample is reported, where a length limit
falls, and what a stream of decoded blocks becomes (content, not only shapes).

Decoders are replaced by a fake source in some tests, so block sizes, channel counts and header lengths
can be chosen exactly; the real decoders are exercised with small WAV files.
"""

import re

import numpy as np
import pytest
import soundfile as sf

from panns_core import AudioError
from panns_core.audio import decode
from panns_core.audio import load as audio
from panns_core.audio.decode import AudioSource
from panns_core.audio.load import (
    audio_info,
    check_finite,
    check_length,
    load_audio,
    prepare_waveform,
    resample,
    stream_audio,
    to_float_mono,
)

SR = 32000


# ------------------------------------------------------------------------------------------ to_float_mono
def test_channels_are_averaged_on_the_shorter_axis_and_a_square_block_is_samples_by_channels():
    left = np.array([0.2, 0.4, 0.6], np.float32)
    right = np.array([0.0, -0.4, 0.2], np.float32)
    both = (left + right) / 2
    np.testing.assert_allclose(to_float_mono(np.stack([left, right], axis=1)), both)  # (samples, channels)
    np.testing.assert_allclose(to_float_mono(np.stack([left, right], axis=0)), both)  # (channels, samples)
    # 2 x 2: read as the decoders' layout (samples, channels), so each row is one sample
    np.testing.assert_allclose(to_float_mono(np.array([[1.0, 0.0], [0.5, 0.5]], np.float32)), [0.5, 0.5])
    mono = np.array([0.1, -0.2, 0.3], np.float32)
    np.testing.assert_array_equal(to_float_mono(mono), mono)
    assert to_float_mono(np.array([0.25], np.float32)).tolist() == [0.25]  # one sample is a clip, not an empty one
    pcm = np.array([[16384, 0], [-32768, -32768]], np.int16)  # integer PCM: scaled, then averaged
    np.testing.assert_allclose(to_float_mono(pcm), [0.25, -1.0])


def test_empty_and_three_dimensional_arrays_are_named_in_the_error():
    with pytest.raises(AudioError, match=r"^waveform is empty \(0 samples\)$"):
        to_float_mono(np.zeros((0, 2), np.float32))
    with pytest.raises(AudioError, match=r"^clip 3 is empty \(0 samples\)$"):
        to_float_mono(np.zeros(0, np.float32), "clip 3")
    with pytest.raises(AudioError, match=r"^clip 3 has dtype <U1; expected float or integer PCM samples$"):
        to_float_mono(np.array(["a", "b"]), "clip 3")
    with pytest.raises(AudioError, match=r"^clip 3 must be 1-D or 2-D \(samples, channels\), got shape \(2, 2, 2\)$"):
        to_float_mono(np.zeros((2, 2, 2), np.float32), "clip 3")


# ------------------------------------------------------------------------------------------ check_finite
def test_finite_samples_pass_through_untouched():
    x = np.linspace(-1, 1, 100, dtype=np.float32).reshape(50, 2)
    assert check_finite(x, "x", SR) is x


def test_the_first_bad_sample_is_located_in_time_and_by_index():
    x = np.zeros(4 * SR, np.float32)
    x[48000], x[60000] = np.nan, np.inf
    with pytest.raises(AudioError, match=r"^clip contains NaN samples, the first at 1\.50 s \(sample 48000\): the rec"):
        check_finite(x, "clip", SR)
    with pytest.raises(AudioError, match=r"the first at 2\.50 s \(sample 80000\)"):  # a later block of a stream
        check_finite(x, "clip", SR, first_frame=SR)
    x[48000] = -np.inf
    with pytest.raises(AudioError, match=r"clip contains infinite samples, the first at 1\.50 s \(sample 48000\)"):
        check_finite(x, "clip", SR)


def test_in_several_channels_the_first_bad_frame_and_its_bad_channel_decide():
    x = np.zeros((100, 3), np.float32)
    x[10, 2] = np.inf  # frame 10: only the last channel is bad
    x[20, 0] = np.nan
    with pytest.raises(AudioError, match=r"contains infinite samples, the first at 0\.01 s \(sample 10\)"):
        check_finite(x, "x", 1000)
    x[10] = [0.0, np.nan, -np.inf]  # the first bad channel of that frame names the kind
    with pytest.raises(AudioError, match=r"contains NaN samples, the first at 0\.01 s \(sample 10\)"):
        check_finite(x, "x", 1000)


# ------------------------------------------------------------------------------------------ check_length
def test_a_clip_exactly_at_the_limit_is_allowed_and_a_longer_one_is_refused():
    check_length(2.0, 2.0, "x")
    check_length(1e9, None, "x")  # no limit
    with pytest.raises(AudioError) as e:
        check_length(2.4, 2, "x.wav")
    assert str(e.value) == (
        "x.wav lasts 2 s, longer than the 2 s limit: cut it shorter (e.g. `ffmpeg -i INPUT -t 2 OUTPUT.wav`)"
    )
    with pytest.raises(AudioError) as e:
        check_length(7.6, 2.5, "y.ogg", " (according to its header)")
    assert str(e.value).startswith("y.ogg lasts 8 s (according to its header), longer than the 2.5 s limit")


# ------------------------------------------------------------------------------------------ resample
def test_resampling_keeps_pitch_and_length_and_equal_rates_are_left_alone():
    t = np.arange(44100) / 44100
    tone = (0.5 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32)
    out = resample(tone, 44100, SR)
    assert out.dtype == np.float32 and len(out) == SR
    spectrum = np.abs(np.fft.rfft(out))
    assert np.argmax(spectrum) == 1000  # 1-s clip: bin k is k Hz
    assert np.abs(out).max() == pytest.approx(0.5, abs=0.02)
    same = np.arange(10, dtype=np.float64)
    assert resample(same, SR, SR) is same  # nothing converted or copied
    empty = np.zeros(0, np.float32)
    assert resample(empty, 44100, SR).size == 0
    one = resample(np.ones(1, np.float32), 44100, SR)  # a single sample goes through the band-limiting filter
    assert len(one) == 1 and 0 < one[0] < 0.9


# ------------------------------------------------------------------------------------------ prepare_waveform
def test_bad_samples_in_a_channels_first_array_are_found_at_their_time():
    wave = np.zeros((2, SR), np.float32)  # (channels, samples)
    wave[1, 16000] = np.nan
    with pytest.raises(AudioError, match=r"^waveform contains NaN samples, the first at 0\.50 s \(sample 16000\)"):
        prepare_waveform(wave, SR)
    wave[1, 16000], wave[0, 8000], wave[1, 8000] = 0.0, np.inf, -np.inf  # their mean would be a NaN
    with pytest.raises(AudioError, match=r"^clip contains infinite samples, the first at 0\.25 s \(sample 8000\)"):
        prepare_waveform(wave, SR, what="clip")


def test_bad_samples_of_a_mono_array_are_named_and_timed():
    wave = np.zeros(2000, np.float32)
    wave[1500] = np.inf
    with pytest.raises(AudioError, match=r"^clip B contains infinite samples, the first at 1\.50 s \(sample 1500\)"):
        prepare_waveform(wave, 1000, what="clip B")


def test_a_square_block_is_checked_as_samples_by_channels_like_it_is_downmixed():
    wave = np.zeros((1000, 1000), np.float32)
    wave[3, 700] = np.nan  # frame 3 of channel 700, not frame 700
    with pytest.raises(AudioError, match=r"the first at 0\.00 s \(sample 3\)"):
        prepare_waveform(wave, 1000)


def test_prepare_waveform_converts_to_32_khz_float_mono_by_default():
    t = np.arange(16000) / 16000
    left = (0.4 * np.sin(2 * np.pi * 500 * t)).astype(np.float32)
    stereo = np.stack([left, np.zeros_like(left)], axis=1)
    out = prepare_waveform(stereo, 16000)
    assert out.dtype == np.float32 and len(out) == 32000
    assert np.argmax(np.abs(np.fft.rfft(out))) == 500 and np.abs(out).max() == pytest.approx(0.2, abs=0.01)
    pcm = (stereo * 32767).astype(np.int16)  # integer stereo: no NaN check needed, same audio
    np.testing.assert_allclose(prepare_waveform(pcm, 16000, 16000), stereo.mean(axis=1), atol=1e-4)
    with pytest.raises(AudioError, match="^clip A: the sample rate must be"):
        prepare_waveform(left, 0, what="clip A")
    with pytest.raises(AudioError, match="^clip A is empty"):
        prepare_waveform(np.zeros(0, np.float32), SR, what="clip A")


# ------------------------------------------------------------------------------------------ files
def test_audio_info_reads_the_header_or_answers_none(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, np.zeros(66150, np.float32), 44100)
    assert audio_info(path) == (44100, pytest.approx(1.5))
    assert audio_info(tmp_path / "missing.wav") == (None, None)


def test_a_mono_file_at_the_model_rate_arrives_sample_for_sample(tmp_path):
    wave = (np.arange(SR) / SR).astype(np.float32)
    sf.write(tmp_path / "ramp.wav", wave, SR, subtype="FLOAT")
    np.testing.assert_array_equal(load_audio(tmp_path / "ramp.wav"), wave)  # default rate: 32 kHz, no resampling


def test_a_stereo_file_is_the_mean_of_its_channels(tmp_path):
    left = np.linspace(0, 0.5, SR, dtype=np.float32)
    right = np.full(SR, -0.25, np.float32)
    sf.write(tmp_path / "st.wav", np.stack([left, right], axis=1), SR, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(tmp_path / "st.wav"), (left + right) / 2, atol=1e-7)


def test_a_resampled_stream_ends_with_the_resamplers_tail(tmp_path):
    """16 kHz -> 32 kHz: twice the samples, the end flushed out of the resampler, the tone at its pitch."""
    t = np.arange(16000 * 2) / 16000
    wave = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    sf.write(tmp_path / "low.wav", wave, 16000, subtype="FLOAT")
    out = load_audio(tmp_path / "low.wav")
    assert len(out) == 2 * len(wave)
    np.testing.assert_allclose(out, resample(wave, 16000, SR), atol=1e-3)  # the same as resampling it whole
    assert np.abs(out[-3000:]).max() > 0.45  # the last 0.1 s is audio, not the zeros of a dropped tail
    blocks = list(stream_audio(tmp_path / "low.wav", 16000))  # at the file's own rate: unchanged
    np.testing.assert_array_equal(np.concatenate(blocks), wave)


def test_nan_in_a_later_block_is_reported_at_its_time_in_the_file(tmp_path, monkeypatch):
    monkeypatch.setattr(decode, "BLOCK_SECONDS", 1)
    wave = np.zeros(3 * SR, np.float32)
    wave[80000] = np.nan  # 2.5 s: in the third block
    sf.write(tmp_path / "late.wav", wave, SR, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"late\.wav contains NaN samples, the first at 2\.50 s \(sample 80000\)"):
        load_audio(tmp_path / "late.wav")


def test_a_header_length_exactly_at_the_limit_is_allowed(tmp_path):
    sf.write(tmp_path / "two.wav", np.zeros(2 * SR, np.float32), SR)
    assert len(load_audio(tmp_path / "two.wav", max_seconds=2)) == 2 * SR
    with pytest.raises(AudioError, match=r"two\.wav lasts 2 s \(according to its header\), longer than the 1\.5 s"):
        load_audio(tmp_path / "two.wav", max_seconds=1.5)


# ------------------------------------------------------------------------------------------ a fake decoder
def fake_source(monkeypatch, blocks, rate=SR, declared=None, name="fake.wav"):
    """Make stream_audio read `blocks` ((frames, channels) arrays) from a decoder; returns its log."""
    log = {"yielded": 0, "closed": False}

    def generate():
        try:
            for block in blocks:
                log["yielded"] += 1
                yield np.asarray(block, np.float32)
        finally:
            log["closed"] = True

    channels = np.asarray(blocks[0]).shape[1] if blocks else 1
    source = AudioSource(name, rate, channels, declared, generate, "fake")
    monkeypatch.setattr(audio, "open_audio", lambda path: source)
    return log


def column(values) -> np.ndarray:
    return np.asarray(values, np.float32)[:, None]


def test_without_a_header_length_the_count_decides_exactly_at_the_limit(monkeypatch):
    """1000 Hz, limit 2.5 s = 2500 samples: 2500 pass, the block that brings 2501 is refused."""
    fake_source(monkeypatch, [column(np.ones(1500)), column(np.ones(1000))], rate=1000)
    assert len(load_audio("x", 1000, max_seconds=2.5)) == 2500
    log = fake_source(monkeypatch, [column(np.ones(1500)), column(np.ones(1001)), column(np.ones(5000))], rate=1000)
    with pytest.raises(AudioError) as e:
        load_audio("x", 1000, max_seconds=2.5)
    assert str(e.value).startswith(
        "fake.wav lasts 3 s or more (decoding stopped there), longer than the 2.5 s limit: cut it shorter"
    )
    assert log["yielded"] == 2 and log["closed"]  # stopped at the block that passed the limit, decoder closed
    # a limit that is not a whole number of samples rounds down: 2.0004 s at 1000 Hz allows 2000 samples
    fake_source(monkeypatch, [column(np.ones(2001))], rate=1000)
    with pytest.raises(AudioError, match="or more"):
        load_audio("x", 1000, max_seconds=2.0004)


def test_a_header_over_the_limit_refuses_before_any_block(monkeypatch):
    log = fake_source(monkeypatch, [column(np.ones(100))], rate=1000, declared=3.0)
    with pytest.raises(AudioError, match=r"^fake\.wav lasts 3 s \(according to its header\), longer than the 2 s"):
        next(stream_audio("x", 1000, max_seconds=2))
    assert log["yielded"] == 0
    fake_source(monkeypatch, [column(np.ones(100))], rate=1000, declared=3.0)
    assert len(load_audio("x", 1000)) == 100  # no limit: the header's length is no reason to refuse


def test_a_consumer_that_stops_early_closes_the_decoder(monkeypatch):
    log = fake_source(monkeypatch, [column(np.ones(10))] * 5, rate=1000)
    stream = stream_audio("x", 1000)
    assert next(stream).tolist() == [1.0] * 10
    stream.close()
    assert log["closed"] and log["yielded"] == 1


def test_no_samples_at_all_is_an_error_after_the_stream(monkeypatch):
    fake_source(monkeypatch, [np.zeros((0, 1), np.float32)], rate=1000)
    with pytest.raises(AudioError, match=r"^fake\.wav holds no audio samples: record or export it again$"):
        load_audio("x", 1000)


def test_blocks_are_downmixed_one_by_one_and_never_empty(monkeypatch):
    stereo = np.array([[0.5, -0.5], [1.0, 0.0], [0.2, 0.4]], np.float32)
    fake_source(monkeypatch, [stereo, np.zeros((0, 2), np.float32), stereo[:1]], rate=1000)
    blocks = list(stream_audio("x", 1000))
    assert [b.tolist() for b in blocks] == [pytest.approx([0.0, 0.5, 0.3]), pytest.approx([0.0])]
    fake_source(monkeypatch, [column([0.1, 0.2, 0.3])], rate=1000)  # one channel: that channel, as it is
    assert [b.tolist() for b in stream_audio("x", 1000)] == [pytest.approx([0.1, 0.2, 0.3])]


def test_nan_positions_count_the_blocks_before(monkeypatch):
    fake_source(monkeypatch, [column(np.zeros(1000)), column([0.0, 0.0, np.inf])], rate=1000)
    with pytest.raises(
        AudioError, match=re.escape("fake.wav contains infinite samples, the first at 1.00 s (sample 1002)")
    ):
        load_audio("x", 1000)
