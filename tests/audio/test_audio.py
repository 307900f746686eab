"""Decoding within limits in every format, and one error policy for every bad input (issue 13).

Each test here failed on the code before the issue was fixed: damaged WAV headers escaped as
ZeroDivisionError/ValueError, NaN positions were reported as "near 0.00 s", M4A/WebM were decoded whole
before the length limit refused them, streamed FLAC "lasted 288230376151712 s", huge amplitudes became
NaN scores, and the CLI wrote `nan` and exited 0.
"""

import csv
import struct

import numpy as np
import pytest
import soundfile as sf
from conftest import run_tag_cli
from encoded_audio import encode, tone

from panns_core import AudioError, Tagger
from panns_core.audio import decode
from panns_core.audio.load import audio_info, load_audio, stream_audio


@pytest.fixture(scope="module")
def tagger(official_checkpoint):
    return Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")))


def strength_at(x: np.ndarray, hz: float, rate: int = 32000) -> float:
    """Spectral magnitude at `hz` relative to the strongest component (1.0: the loudest tone)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return spectrum[round(hz * len(x) / rate)] / spectrum.max()


# ------------------------------------------------------------------------------------------ headers
@pytest.mark.parametrize("rate", [0, 4_000_000_000])
def test_wav_header_with_an_impossible_rate_is_an_audio_error(tmp_path, rate):
    good = tmp_path / "good.wav"
    sf.write(good, tone(1, 44100)[:, 0], 44100, subtype="PCM_16")
    data = bytearray(good.read_bytes())
    data[24:28] = struct.pack("<I", rate)  # 'fmt ' chunk: sample rate, then bytes per second
    data[28:32] = struct.pack("<I", rate * 2 % 2**32)
    bad = tmp_path / f"rate{rate}.wav"
    bad.write_bytes(bytes(data))
    with pytest.raises(AudioError, match=rf"rate{rate}\.wav .*declares a sample rate of {rate} Hz.*re-encode"):
        load_audio(bad)
    assert audio_info(bad) == (None, None)


def test_implausible_rates_are_refused_before_any_resampling(tmp_path, tagger):
    low = tmp_path / "one_hertz.wav"
    sf.write(low, np.zeros(100, np.float32), 1000)
    data = bytearray(low.read_bytes())
    data[24:32] = struct.pack("<II", 1, 4)  # 1 Hz: 100 samples would become 3.2 million at 32 kHz
    low.write_bytes(bytes(data))
    with pytest.raises(AudioError, match=r"one_hertz\.wav: the sample rate must be .* between 1000 and 2000000, got 1"):
        load_audio(low)
    for rate in (1, 999, 4e9, -8000, float("nan")):
        with pytest.raises(AudioError, match="sample rate"):
            tagger.predict(np.zeros(1000, np.float32), rate)


def test_empty_text_and_missing_files_name_the_file(tmp_path):
    (tmp_path / "empty.m4a").write_bytes(b"")
    (tmp_path / "passwd.webm").write_text("root:x:0:0:root:/root:/bin/bash\n" * 20)
    cases = {
        "empty.m4a": "empty.m4a is empty",
        "passwd.webm": "passwd.webm is not a decodable audio file",
        "nothing.wav": "nothing.wav does not exist",
    }
    for name, message in cases.items():
        with pytest.raises(AudioError, match=message):
            load_audio(tmp_path / name)


def test_a_video_container_without_audio_is_refused(tmp_path):
    import av

    path = tmp_path / "silent_film.webm"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libvpx", rate=10)
        stream.width, stream.height, stream.pix_fmt = 32, 32, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((32, 32, 3), i * 40, np.uint8), format="rgb24")
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    with pytest.raises(AudioError, match=r"silent_film\.webm has no audio stream"):
        load_audio(path)


# ------------------------------------------------------------------------------------------ samples
def test_nan_and_inf_are_reported_where_they_are(tmp_path, tagger):
    wave = tone(3, 32000)[:, 0]
    wave[49920] = np.nan  # 1.56 s
    path = tmp_path / "late_nan.wav"
    sf.write(path, wave, 32000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"late_nan.wav contains NaN samples, the first at 1\.56 s \(sample 49920\)"):
        tagger.predict_file(path)
    with pytest.raises(AudioError, match=r"waveform 0 contains NaN samples, the first at 1\.56 s"):
        tagger.predict(wave, 32000)
    # stereo: +inf and -inf in different channels must not be reported as the NaN their mean would be
    stereo = tone(2, 16000, channels=2)
    stereo[25000, 0], stereo[25000, 1] = np.inf, -np.inf
    with pytest.raises(AudioError, match=r"infinite samples, the first at 1\.56 s"):
        tagger.predict(stereo, 16000)
    sf.write(tmp_path / "late_inf.wav", stereo, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"late_inf.wav contains infinite samples, the first at 1\.56 s"):
        load_audio(tmp_path / "late_inf.wav")


def test_huge_amplitudes_never_become_scores(tmp_path, tagger):
    loud = tone(2, 32000)[:, 0] * 1e18
    with pytest.raises(AudioError, match=r"waveform 0: the model's scores .* not finite; its samples reach 3e\+17"):
        tagger.predict(loud, 32000)
    path = tmp_path / "loud.wav"
    sf.write(path, loud, 32000, subtype="FLOAT")
    with pytest.raises(AudioError, match=rf"{path}: the model's scores for the window at 0\.00 s are not finite"):
        tagger.predict_file(path)
    # one loud clip in a batch is named; ordinary clips beside it are not blamed
    with pytest.raises(AudioError, match="waveform 1: "):
        tagger.predict_batch([tone(2, 32000)[:, 0], loud], 32000)


@pytest.mark.slow  # a subprocess: imports torch and loads the model again
def test_cli_writes_the_rows_it_can_and_fails_naming_the_bad_clip(tmp_path, official_checkpoint):
    folder = tmp_path / "clips"
    folder.mkdir()
    sf.write(folder / "a_good.wav", tone(2, 32000)[:, 0], 32000)
    sf.write(folder / "b_loud.wav", tone(2, 32000)[:, 0] * 1e18, 32000, subtype="FLOAT")
    out = tmp_path / "tags.csv"
    proc = run_tag_cli(
        str(folder), "--checkpoint", str(official_checkpoint("MobileNetV1")), "--csv", str(out), "--quiet"
    )
    assert proc.returncode == 1, proc.stderr
    assert "b_loud.wav: the model's scores" in proc.stderr and "Traceback" not in proc.stderr
    with open(out, newline="") as f:
        rows = {row["file"].rsplit("/", 1)[1]: row for row in csv.DictReader(f)}
    assert rows["a_good.wav"]["error"] == "" and 0 < float(rows["a_good.wav"]["score_1"]) <= 1
    assert rows["b_loud.wav"]["score_1"] == "" and "not finite" in rows["b_loud.wav"]["error"]
    assert "nan" not in out.read_text().lower()


# ------------------------------------------------------------------------------------------ formats
@pytest.mark.parametrize("suffix", ["flac", "wav", "mp3", "ogg", "m4a", "webm"])
def test_every_format_decodes_to_the_right_pitch_and_length(tmp_path, suffix):
    for streamed in (False, True):
        if suffix == "m4a" and streamed:
            continue  # MP4 needs a seekable output (ffmpeg refuses it on a pipe too)
        path = encode(
            tmp_path / f"tone{int(streamed)}.{suffix}", tone(3, 44100, channels=2, freq=1000), 44100, streamed=streamed
        )
        x = load_audio(path)
        assert 2.98 < len(x) / 32000 < 3.07, (suffix, streamed, len(x) / 32000)
        assert np.isfinite(x).all() and np.abs(x).max() < 0.6  # no garbage past the real end
        middle = x[3200 : 3200 + 64000]  # 2 s: 1 Hz bins
        assert strength_at(middle, 1000) > 0.5 and strength_at(middle, 1100) > 0.5  # both channels, right pitch
        assert strength_at(middle, 1050) < 0.1


def test_streamed_flac_without_a_length_decodes_like_the_original(tmp_path):
    wave = tone(3, 44100, channels=2, freq=700)
    original = encode(tmp_path / "seekable.flac", wave, 44100)
    piped = encode(tmp_path / "piped.flac", wave, 44100, streamed=True)
    assert sf.info(str(piped)).frames > 2**62  # libsndfile: "unknown length", the bug's 288230376151712 s
    assert audio_info(piped) == (44100, None)
    np.testing.assert_allclose(load_audio(piped), load_audio(original), atol=1e-6)
    with pytest.raises(
        AudioError,
        match=r"piped.flac lasts \d+ s or more \(decoding stopped there\), longer than "
        r"the 2 s limit",
    ):
        load_audio(piped, max_seconds=2)


def test_the_soundfile_path_is_not_padded_with_garbage(tmp_path):
    """A streamed MP3's header promises more frames than it holds; SoundFile.blocks filled them with
    uninitialised memory (NaN or noise), so the clip got a garbage tail."""
    path = encode(tmp_path / "piped.mp3", tone(3, 44100, amplitude=0.25), 44100, streamed=True)
    assert decode.open_audio(path).decoder == "soundfile"
    x = load_audio(path)
    assert np.isfinite(x).all() and np.abs(x[-3200:]).max() < 0.3


# ------------------------------------------------------------------------------------------ limits
@pytest.fixture
def frames_decoded(monkeypatch):
    """Counts the samples PyAV decodes, to prove a refused file was not decoded to its end."""
    counted = []
    original = decode._frame_samples

    def counting(frame, channels, what):
        samples = original(frame, channels, what)
        counted.append(len(samples))
        return samples

    monkeypatch.setattr(decode, "_frame_samples", counting)
    monkeypatch.setattr(decode, "BLOCK_SECONDS", 1)
    return counted


@pytest.mark.parametrize("suffix", ["m4a", "webm"])
def test_a_long_file_is_refused_by_its_header_before_decoding(tmp_path, suffix, frames_decoded, official_checkpoint):
    path = encode(tmp_path / f"long.{suffix}", tone(20, 48000), 48000)
    with pytest.raises(
        AudioError,
        match=rf"long.{suffix} lasts 20 s \(according to its header\), longer than "
        r"the 5 s limit: cut it shorter",
    ):
        load_audio(path, max_seconds=5)
    assert sum(frames_decoded) == 0
    limited = Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")), max_seconds=5)
    with pytest.raises(AudioError, match="longer than the 5 s limit"):
        limited.predict_file(path)


def test_a_file_without_a_length_is_refused_as_soon_as_decoding_passes_the_limit(tmp_path, frames_decoded):
    path = encode(tmp_path / "piped.webm", tone(20, 48000), 48000, streamed=True)
    assert audio_info(path) == (48000, None)
    with pytest.raises(
        AudioError,
        match=r"piped.webm lasts \d s or more \(decoding stopped there\), longer than the "
        r"2 s limit",
    ):
        for _ in stream_audio(path, max_seconds=2):
            pass
    assert 2 * 48000 < sum(frames_decoded) <= 3.1 * 48000  # the limit plus at most one (1-second) block


def test_a_file_lying_about_its_length_is_still_stopped(tmp_path, frames_decoded):
    """A WebM whose header claims 1 s but holds 20 s: the count, not the header, decides."""
    path = encode(tmp_path / "liar.webm", tone(20, 48000), 48000)
    data = bytearray(path.read_bytes())
    at = data.find(b"\x44\x89")  # Matroska 'Duration' element: ID 0x4489, then a size byte, then a float
    size = data[at + 2] & 0x7F
    assert size in (4, 8)
    data[at + 3 : at + 3 + size] = struct.pack(">f" if size == 4 else ">d", 1000.0)  # in ms: 1 s
    path.write_bytes(bytes(data))
    assert audio_info(path)[1] == pytest.approx(1.0)
    with pytest.raises(AudioError, match="or more \\(decoding stopped there\\)"):
        load_audio(path, max_seconds=2)
    assert sum(frames_decoded) <= 3.1 * 48000


def test_truncated_files_give_what_they_hold_or_an_audio_error(tmp_path):
    for suffix in ("m4a", "webm", "flac", "mp3", "ogg"):
        path = encode(tmp_path / f"whole.{suffix}", tone(4, 48000), 48000)
        data = path.read_bytes()
        cut = tmp_path / f"cut.{suffix}"
        cut.write_bytes(data[: len(data) // 2])
        try:
            x = load_audio(cut)
        except AudioError as e:
            assert "cut." + suffix in str(e)
        else:
            assert np.isfinite(x).all() and len(x) <= 4.1 * 32000
