"""The Tagger on real recordings, on long ones, and on every kind of bad input."""

import csv
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import run_tag_cli

from panns_core import AudioError, PannsError, Tagger, create_model, register_model
from panns_core.audio.load import prepare_waveform
from panns_core.config import AudioConfig
from panns_core.labels.sets import ANIMAL


@pytest.fixture(scope="module")
def mobilenet_tagger(official_checkpoint):
    return Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")))


def all_clips(shared_dir):
    return sorted(p for p in (shared_dir / "audio").rglob("*") if p.suffix in (".wav", ".ogg", ".mp3", ".flac"))


@pytest.mark.slow
def test_every_shared_clip_is_tagged(shared_dir, mobilenet_tagger):
    clips = all_clips(shared_dir)
    assert len(clips) == 159
    for path in clips:
        result = mobilenet_tagger.predict_file(path)
        info = sf.info(str(path))
        assert result.scores.shape == (65,) and np.isfinite(result.scores).all(), path
        assert result.duration == pytest.approx(info.frames / info.samplerate, abs=0.01), path
        top = result.top(5)
        assert len(top) == 5 and top[0][2] >= top[-1][2] and top[0][1] in ANIMAL.mids


def test_result_api(shared_dir, mobilenet_tagger):
    result = mobilenet_tagger.predict_file(shared_dir / "audio" / "audioset_samples" / "Y-_2ITXZaxT0.wav")
    assert result.labels is ANIMAL and result.embedding.shape == (1024,)
    assert result.timeline.shape == (1, 65) and result.window_starts.tolist() == [0.0]
    assert [t[2] for t in result.top(65, threshold=0.5)] == sorted(result.scores[result.scores >= 0.5])[::-1]
    assert np.ptp(result.scores) > 0.05  # test weights give distinct scores, so the checks below can fail
    frame = result.to_frame()
    assert list(frame.columns) == ["mid", "display_name", "score"] and len(frame) == 65
    assert len(result.timeline_frame()) == 65


def test_file_and_array_paths_agree_and_audioset_view_selects_animal_rows(shared_dir, official_checkpoint):
    path = shared_dir / "audio" / "animal_clips" / "esc10" / "audio" / "dog_bark_1-100032-A.ogg"
    animal = Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")))
    full = Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")), label_set="audioset")
    wave, sr = sf.read(str(path), dtype="float32")
    a, b = animal.predict_file(path), animal.predict(wave, sr)
    np.testing.assert_allclose(a.scores, b.scores, atol=1e-5)
    viewed = full.predict(wave, sr).scores
    np.testing.assert_allclose(viewed[72:137], b.scores, atol=1e-6)
    assert not np.allclose(viewed[:65], b.scores, atol=1e-3)  # another slice would not match


def test_formats_rates_channels_and_integer_pcm():
    sr = 44100
    t = np.arange(sr) / sr
    tone = 0.5 * np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    out = prepare_waveform(np.stack([tone, tone], axis=1), sr)  # stereo (samples, channels)
    assert out.shape == (32000,) and out.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(out[1000:-1000]))
    assert abs(np.argmax(spectrum) * 32000 / len(out[1000:-1000]) - 1000) < 5  # a real resampler keeps the pitch
    pcm = (tone * 32767).astype(np.int16)
    np.testing.assert_allclose(prepare_waveform(pcm, sr), prepare_waveform(tone, sr), atol=1e-3)
    assert prepare_waveform(np.stack([tone, tone]), sr).shape == (32000,)  # (channels, samples)


def test_silence_is_allowed_and_scored(mobilenet_tagger):
    result = mobilenet_tagger.predict(np.zeros(32000, np.float32), 32000)
    assert np.isfinite(result.scores).all()
    assert mobilenet_tagger.predict(np.zeros(44100, np.float32), 44100.0).duration == pytest.approx(1.0)


@pytest.mark.parametrize(
    "wave, rate, match",
    [
        (np.zeros(0, np.float32), 32000, "empty"),
        (np.array([0.1, np.nan] * 100, np.float32), 32000, "NaN"),
        (np.array([0.1, np.inf] * 100, np.float32), 32000, "infinite"),
        (np.zeros(3200, np.float32), 0, "sample rate"),
        (np.zeros(3200, np.float32), 44100.5, "sample rate"),
        (np.zeros((2, 2, 2), np.float32), 32000, "1-D or 2-D"),
        (np.array(["a", "b"]), 32000, "dtype"),
    ],
)
def test_bad_arrays_raise_the_package_error(mobilenet_tagger, wave, rate, match):
    with pytest.raises(AudioError, match=match):
        mobilenet_tagger.predict(wave, rate)


def test_bad_files_raise_the_package_error(tmp_path, shared_dir, mobilenet_tagger):
    (tmp_path / "notes.wav").write_text("this is not audio\n" * 50)
    (tmp_path / "empty.ogg").write_bytes(b"")
    good = (shared_dir / "audio" / "animal_clips" / "esc10" / "audio" / "dog_bark_1-100032-A.ogg").read_bytes()
    (tmp_path / "cut.ogg").write_bytes(good[: len(good) // 3])
    sf.write(tmp_path / "nan.wav", np.array([0.1, np.nan] * 4000, np.float32), 32000, subtype="FLOAT")
    sf.write(tmp_path / "zero_frames.wav", np.zeros(0, np.float32), 32000)
    cases = {
        "notes.wav": "not a decodable",
        "empty.ogg": "empty",
        "nan.wav": "NaN",
        "missing.wav": "does not exist",
        "zero_frames.wav": "no audio|empty|not a decodable",
    }
    for name, match in cases.items():
        with pytest.raises(AudioError, match=match):
            mobilenet_tagger.predict_file(tmp_path / name)
    with pytest.raises(AudioError, match="folder"):
        mobilenet_tagger.predict_file(tmp_path)
    # a truncated Ogg keeps its intact pages (libsndfile counts only those): tagged, not a crash
    assert 1.0 < mobilenet_tagger.predict_file(tmp_path / "cut.ogg").duration < 4.0


def test_length_limit(mobilenet_tagger, official_checkpoint):
    limited = Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")), max_seconds=2)
    with pytest.raises(AudioError, match="longer than the 2 s limit"):
        limited.predict(np.zeros(32000 * 3, np.float32), 32000)


def test_windows_timeline_and_frames(official_checkpoint):
    tagger = Tagger.from_pretrained(str(official_checkpoint("Cnn14_DecisionLevelMax")), window_seconds=2.0)
    wave = np.random.RandomState(0).randn(32000 * 5 + 123).astype(np.float32) * 0.1
    result = tagger.predict(wave, 32000)
    assert result.window_starts.tolist() == pytest.approx([0.0, 2.0, (32000 * 5 + 123 - 64000) / 32000])
    assert result.timeline.shape == (3, 65)
    np.testing.assert_allclose(result.scores, result.timeline.max(axis=0))
    assert result.framewise.shape == (1 + (32000 * 5 + 123) // 320, 65) and result.frame_seconds == 0.01
    overlapping = Tagger.from_pretrained(
        str(official_checkpoint("Cnn14_DecisionLevelMax")), window_seconds=2.0, hop_seconds=1.0
    ).predict(wave, 32000)
    assert len(overlapping.window_starts) == 5


def test_predict_batch_matches_one_by_one(mobilenet_tagger):
    rng = np.random.RandomState(1)
    clips = [rng.randn(n).astype(np.float32) * 0.1 for n in (16000, 48000, 16000)]
    batch = mobilenet_tagger.predict_batch(clips, 16000)
    for clip, result in zip(clips, batch):
        np.testing.assert_allclose(result.scores, mobilenet_tagger.predict(clip, 16000).scores, atol=1e-5)


def test_bad_settings_are_package_errors(mobilenet_tagger):
    for kwargs in ({"window_seconds": 0}, {"hop_seconds": -1}, {"precision": "fp8"}, {"batch_size": 0}):
        with pytest.raises(PannsError):
            Tagger(mobilenet_tagger.model, **kwargs)
    if not torch.cuda.is_available():
        with pytest.raises(PannsError, match="no CUDA GPU"):
            Tagger(mobilenet_tagger.model, device="cuda")
    with pytest.raises(AudioError, match="at least one"):
        mobilenet_tagger.predict_batch([], 32000)


def test_65_class_model_cannot_be_viewed_on_527_labels():
    model = create_model("MobileNetV1", classes_num=65)
    with pytest.raises(PannsError, match="cannot be viewed"):
        Tagger(model, label_set="audioset")


def test_bf16_path_runs_and_stays_close(mobilenet_tagger):
    wave = np.random.RandomState(2).randn(32000 * 2).astype(np.float32) * 0.1
    fast = Tagger(mobilenet_tagger.model, precision="bf16").predict(wave, 32000)
    np.testing.assert_allclose(fast.scores, mobilenet_tagger.predict(wave, 32000).scores, atol=0.05)


class _Tiny(torch.nn.Module):
    """A model with the Tagger's interface but almost no compute: isolates the streaming logic."""

    embedding_size = 4

    def __init__(self, classes_num=527, audio=AudioConfig()):
        super().__init__()
        self.audio, self.fc = audio, torch.nn.Linear(4, classes_num)

    def pad_short(self, x):
        return x

    def forward(self, x):
        stats = torch.stack([x.mean(1), x.std(1), x.abs().amax(1), x.abs().mean(1)], dim=1)
        return {"clipwise_output": torch.sigmoid(self.fc(stats)), "embedding": stats}


register_model("TestTiny")(_Tiny)


@pytest.mark.slow
def test_one_hour_recording_streams_with_bounded_memory(tmp_path):
    """A 1-hour 8-kHz file is tagged window by window; peak Python memory stays far below the whole clip."""
    path = tmp_path / "hour.wav"
    rng = np.random.RandomState(0)
    with sf.SoundFile(path, "w", samplerate=8000, channels=1, subtype="PCM_16") as f:
        for _ in range(60):
            f.write((rng.randn(8000 * 60) * 0.1).astype(np.float32))
    tagger = Tagger(create_model("TestTiny"), batch_size=8)
    tracemalloc.start()
    result = tagger.predict_file(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    whole = 3600 * 32000 * 4  # the resampled clip in float32: 460 MB
    assert result.duration == pytest.approx(3600, abs=0.01) and result.timeline.shape == (360, 65)
    assert peak < whole / 5, f"peak {peak / 1e6:.0f} MB"


def test_cli_tags_a_folder_into_a_csv(tmp_path, shared_dir, official_checkpoint):
    folder = tmp_path / "recordings"
    folder.mkdir()
    for p in sorted((shared_dir / "audio" / "animal_clips" / "esc10" / "audio").glob("*.ogg"))[:3]:
        (folder / p.name).write_bytes(p.read_bytes())
    sf.write(folder / "long.wav", np.zeros(32000 * 25, np.float32), 32000)
    (folder / "broken.wav").write_text("not audio")
    out = tmp_path / "tags.csv"
    proc = run_tag_cli(
        str(folder), "--checkpoint", str(official_checkpoint("MobileNetV1")), "--csv", str(out), "--top", "3", "--quiet"
    )
    assert proc.returncode == 1, proc.stderr  # some inputs failed: every good row written, the exit code tells
    rows = list(csv.DictReader(open(out)))
    by_file = {}
    for row in rows:
        by_file.setdefault(row["file"].rsplit("/", 1)[1], []).append(row)
    assert len(by_file) == 5
    assert "not a decodable" in by_file["broken.wav"][0]["error"]
    assert [r["start"] for r in by_file["long.wav"]] == ["0.0", "10.0", "15.0"]  # one row per window
    good = [r for name, rs in by_file.items() if name.endswith(".ogg") for r in rs]
    assert len(good) == 3
    assert all(r["label_1"] in ANIMAL.names and float(r["score_1"]) >= float(r["score_3"]) for r in good)
    assert "1 of 5 files could not be tagged" in proc.stderr
    # every file failing is a failure of the command; bad options and names are one clear line
    only_bad = run_tag_cli(
        str(folder / "broken.wav"),
        "--checkpoint",
        str(official_checkpoint("MobileNetV1")),
        "--csv",
        str(tmp_path / "bad.csv"),
        "--quiet",
    )
    assert only_bad.returncode == 1
    for argv, message in (
        (["tag", str(folder), "--top", "0"], "must be at least 1"),
        (["download", "Cnn15"], "no released checkpoint named 'Cnn15'"),
    ):
        proc = subprocess.run([sys.executable, "-m", "panns_core", *argv], capture_output=True, text=True, timeout=60)
        assert proc.returncode != 0 and message in proc.stderr and "Traceback" not in proc.stderr
