"""The Tagger's bookkeeping, checked against models whose answers are known: which labels a result names
and in which order, which model outputs become which scores, how windows are batched, what a broken model
is told apart from broken audio, and what a result's tables hold.

Every model here is a probe of a few tensor operations run by PyTorch on the CPU, so each test takes
milliseconds.
"""

import itertools
import re

import numpy as np
import pytest
import torch

from panns_core import AudioError, ConfigError, PannsError, Tagger
from panns_core.config import AudioConfig
from panns_core.device import pick_device
from panns_core.inference import tagger as tagger_module
from panns_core.inference.tagger import TaggingResult, top_indices
from panns_core.labels.sets import ANIMAL, AUDIOSET, LabelSet
from panns_core.models.registry import is_registered, register_model

SR = 32000


class Probe(torch.nn.Module):
    """clipwise[k] = the window's sample k; embedding = (first, last sample); framewise (optional) = the
    clipwise scores again on every row. Records the shape of every batch it is given. Without an
    `arch_name` the Tagger names it by its class."""

    def __init__(self, classes_num=len(ANIMAL), frames=False, nan=None, arch_name=None, audio=AudioConfig()):
        super().__init__()
        if arch_name:
            self.arch_name = arch_name
        self.audio, self.classes_num, self.frames, self.nan = audio, classes_num, frames, nan
        self.batches = []

    def pad_short(self, x):
        return x

    def forward(self, x):  # (batch, samples)
        self.batches.append(tuple(x.shape))
        out = {"clipwise_output": x[:, : self.classes_num].clone(), "embedding": torch.stack([x[:, 0], x[:, -1]], 1)}
        if self.frames:
            rows = 1 + x.shape[1] // self.audio.hop_size
            out["framewise_output"] = x[:, None, : self.classes_num].expand(-1, rows, -1).clone()
        if self.nan is not None:  # windows whose first sample is above the threshold get a NaN in `nan`
            bad = x[:, 0] > 0.3
            out[self.nan][bad] = float("nan")
        return out


def tagger(model=None, **kwargs) -> Tagger:
    return Tagger(model if model is not None else Probe(), device="cpu", backend="torch", **kwargs)


def ramp(n: int) -> np.ndarray:
    return (np.arange(n) / n * 0.5).astype(np.float32)


# ------------------------------------------------------------------------------------------ TaggingResult
THREE = LabelSet("three", (-1, -1, -1), ("/m/a", "/m/b", "/m/c"), ("Ant", "Bee", "Cow"))


def result_with(scores) -> TaggingResult:
    scores = np.asarray(scores, np.float32)
    return TaggingResult(ANIMAL, scores, np.zeros(2), scores[None], np.zeros(1), 10.0, 10.0)


def test_the_csv_and_the_api_rank_tied_classes_the_same_way(tmp_path):
    """One ranking rule (top_indices): `panns tag`'s CSV rows once listed ties in reverse label order."""
    from panns_core.cli.tag import result_rows

    scores = np.zeros(len(ANIMAL))
    scores[[4, 9, 30, 2]] = [0.6, 0.6, 0.6, 0.9]
    result = result_with(scores)
    api = [mid for _, mid, _ in result.top(6)]
    assert api == [ANIMAL.mids[i] for i in (2, 4, 9, 30, 0, 1)]
    (row,) = result_rows(tmp_path / "clip.wav", result, 6, per_window=False)
    assert [row[f"mid_{r}"] for r in range(1, 7)] == api
    timeline = np.stack([scores, scores[::-1]])
    windowed = TaggingResult(ANIMAL, timeline.max(0), np.zeros(2), timeline, np.array([0.0, 10.0]), 10.0, 20.0)
    for row, window_scores in zip(result_rows(tmp_path / "clip.wav", windowed, 4, per_window=True), timeline):
        assert [row[f"mid_{r}"] for r in range(1, 5)] == [ANIMAL.mids[i] for i in top_indices(window_scores, 4)]
    assert top_indices(scores, 0).tolist() == [] and top_indices(scores, 100).tolist() == sorted(
        range(len(ANIMAL)), key=lambda i: -scores[i]
    )


def test_top_sorts_by_score_keeps_label_order_among_ties_and_cuts_at_k_and_threshold():
    scores = np.zeros(len(ANIMAL))
    scores[[3, 5, 10, 20, 7]] = [0.9, 0.7, 0.7, 0.7, 0.2]
    result = result_with(scores)
    expected = sorted(range(len(ANIMAL)), key=lambda i: -scores[i])  # Python's sort is stable
    assert [mid for _, mid, _ in result.top(65)] == [ANIMAL.mids[i] for i in expected]
    assert result.top() == [(ANIMAL.names[i], ANIMAL.mids[i], pytest.approx(scores[i])) for i in (3, 5, 10, 20, 7)]
    assert [ANIMAL.mids.index(m) for _, m, _ in result.top(8)] == [3, 5, 10, 20, 7, 0, 1, 2]  # zeros count too
    assert [ANIMAL.mids.index(m) for _, m, _ in result.top(10, threshold=0.7)] == [3, 5, 10, 20]  # at it: kept
    assert [ANIMAL.mids.index(m) for _, m, _ in result.top(2, threshold=0.5)] == [3, 5]
    assert all(type(s) is float for _, _, s in result.top())


def test_result_tables_hold_each_labels_scores_and_each_windows_span():
    timeline = np.array([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]], np.float32)
    result = TaggingResult(
        THREE, timeline.max(0), np.zeros(2), timeline, np.array([0.0, 2.0, 3.5]), 2.0, 5.0, model="m"
    )
    frame = result.to_frame()
    assert frame["mid"].tolist() == ["/m/a", "/m/b", "/m/c"] and frame["display_name"].tolist() == ["Ant", "Bee", "Cow"]
    assert frame["score"].dtype == np.float64 and frame["score"].tolist() == pytest.approx([0.7, 0.8, 0.9])
    table = result.timeline_frame()
    assert list(table.columns) == ["start", "end", "mid", "display_name", "score"]
    assert table["start"].tolist() == [0.0] * 3 + [2.0] * 3 + [3.5] * 3
    assert table["end"].tolist() == [2.0] * 3 + [4.0] * 3 + [5.0] * 3  # the last window ends with the clip
    assert table["mid"].tolist() == ["/m/a", "/m/b", "/m/c"] * 3
    assert table["display_name"].tolist() == ["Ant", "Bee", "Cow"] * 3
    assert table["score"].dtype == np.float64
    assert table["score"].tolist() == pytest.approx(timeline.ravel().tolist())  # row by row


# ------------------------------------------------------------------------------------------ settings
def test_settings_are_checked_with_messages_that_name_the_value():
    with pytest.raises(ConfigError, match=r"^window and hop must be positive seconds, got 10.0 and 0$"):
        tagger(hop_seconds=0)
    with pytest.raises(ConfigError, match=r"got -1 and None"):
        tagger(window_seconds=-1)
    with pytest.raises(ConfigError, match=r"^batch_size must be at least 1, got 0$"):
        tagger(batch_size=0)
    with pytest.raises(ConfigError, match=r"^precision must be 'fp32' or 'bf16', got 'fp16'$"):
        tagger(precision="fp16")
    one = tagger(batch_size=1, window_seconds=1.0)
    assert one.backend_name == "torch" and not one.consistent and one.max_seconds is None and one.info is None
    one.predict(ramp(3 * SR), SR)
    assert one.model.batches == [(1, SR)] * 3


def test_the_result_names_the_architecture_or_the_models_class():
    assert tagger(Probe(arch_name="Cnn99")).predict(ramp(SR), SR).model == "Cnn99"
    assert tagger().predict(ramp(SR), SR).model == "Probe"


# ------------------------------------------------------------------------------------------ labels
def test_a_full_audioset_model_reports_every_output_or_the_animal_block():
    wave = ramp(SR)
    full = tagger(Probe(len(AUDIOSET)), label_set="audioset").predict(wave, SR)
    assert full.labels is AUDIOSET
    np.testing.assert_array_equal(full.scores, wave[: len(AUDIOSET)])
    animal = tagger(Probe(len(AUDIOSET))).predict(wave, SR)
    assert animal.labels is ANIMAL
    np.testing.assert_array_equal(animal.scores, wave[72:137])


def test_a_head_of_unknown_width_keeps_its_own_generic_labels_named_after_the_architecture():
    with pytest.warns(UserWarning, match=r"^Probe predicts 10 classes, which match no known label set"):
        t = tagger(Probe(10), label_set="animal")
    result = t.predict(ramp(SR), SR)
    assert result.labels.names == tuple(f"class_{i}" for i in range(10))
    np.testing.assert_array_equal(result.scores, ramp(SR)[:10])
    named = tagger(Probe(3), head_labels=THREE).predict(ramp(SR), SR)  # labels given with the model
    assert named.labels is THREE and [m for _, m, _ in named.top(1)] == ["/m/c"]


def test_from_pretrained_passes_its_options_to_the_loader_and_keeps_the_checkpoints_labels(monkeypatch):
    calls = []

    class Loaded:
        model, head_labels = Probe(3), THREE

    def load(checkpoint, **kwargs):
        calls.append((checkpoint, kwargs))
        return Loaded

    monkeypatch.setattr(tagger_module, "load_checkpoint", load)
    t = Tagger.from_pretrained("ckpt.pth", device="cpu", backend="torch", arch="A", head_labels="l.csv")
    assert calls[-1] == ("ckpt.pth", {"arch": "A", "progress": True, "head_labels": "l.csv"})
    assert t.info is Loaded and t.labels is THREE and t.head_labels is THREE
    Tagger.from_pretrained("ckpt.pth", "OldName", device="cpu", backend="torch", progress=False)
    assert calls[-1] == ("ckpt.pth", {"arch": "OldName", "progress": False, "head_labels": None})
    t = Tagger.from_pretrained("x", device="cpu", backend="torch", label_set="audioset", window_seconds=1.0)
    assert t.window == SR  # other options reach the Tagger
    assert t.predict(ramp(SR), SR).top(1)[0][1] == "/m/c"


def test_the_probes_own_checkpoint_round_trip(tmp_path):
    """A real (tiny) registered architecture saved as a bare state dict, with a labels file for its 3 outputs."""
    if not is_registered("MutThreeHead"):

        @register_model("MutThreeHead")
        class ThreeHead(torch.nn.Module):
            def __init__(self, classes_num=3, audio=AudioConfig()):
                super().__init__()
                self.audio, self.fc_audioset = audio, torch.nn.Linear(1, classes_num)

            def forward(self, x):
                return {
                    "clipwise_output": torch.sigmoid(self.fc_audioset(x.mean(1, keepdim=True))),
                    "embedding": x[:, :2],
                }

    from panns_core import create_model

    model = create_model("MutThreeHead", classes_num=3)
    with torch.no_grad():
        model.fc_audioset.weight.zero_()
        model.fc_audioset.bias.copy_(torch.tensor([-2.0, 3.0, 0.0]))
    torch.save({"model": model.state_dict()}, tmp_path / "three.pth")
    (tmp_path / "zoo.csv").write_text("mid,display_name\n/m/a,Ant\n/m/b,Bee\n/m/c,Cow\n")
    t = Tagger.from_pretrained(
        str(tmp_path / "three.pth"), arch="MutThreeHead", head_labels=str(tmp_path / "zoo.csv"), backend="torch"
    )
    result = t.predict(np.zeros(SR, np.float32), SR)
    assert [name for name, _, _ in result.top(3)] == ["Bee", "Cow", "Ant"] and result.model == "MutThreeHead"
    assert t.info is not None and t.info.head_labels.names == ("Ant", "Bee", "Cow")


# ------------------------------------------------------------------------------------------ batching
def test_equal_windows_share_batches_of_at_most_batch_size():
    t = tagger(window_seconds=1.0, batch_size=3)
    result = t.predict(ramp(7 * SR), SR)
    assert t.model.batches == [(3, SR), (3, SR), (1, SR)]
    np.testing.assert_allclose(result.window_starts, np.arange(7.0))
    wave = ramp(7 * SR)  # the embedding is the mean over windows of each window's (first, last) sample
    firsts, lasts = wave[0::SR], wave[SR - 1 :: SR]
    np.testing.assert_allclose(result.embedding, [firsts.mean(), lasts.mean()], rtol=1e-6)


def test_clips_of_different_lengths_never_share_a_batch_and_results_stay_in_order():
    t = tagger(batch_size=8)
    clips = [ramp(SR), ramp(SR) + 0.1, ramp(SR // 2), ramp(SR) + 0.2]
    results = t.predict_batch(clips, SR)
    assert t.model.batches == [(2, SR), (1, SR // 2), (1, SR)]
    for clip, result in zip(clips, results):
        np.testing.assert_array_equal(result.scores, clip[:65])
        assert result.duration == len(clip) / SR and result.window_seconds == len(clip) / SR


def test_the_longest_clip_of_a_batch_decides_the_length_limit():
    t = tagger(max_seconds=2)
    assert t.max_seconds == 2
    with pytest.raises(AudioError, match=r"^waveform lasts 3 s, longer than the 2 s limit"):
        t.predict_batch([ramp(SR), ramp(3 * SR)], SR)
    assert [r.duration for r in t.predict_batch([ramp(SR), ramp(2 * SR)], SR)] == [1.0, 2.0]


# ------------------------------------------------------------------------------------------ files and streams
def test_predict_file_names_its_source(tmp_path):
    import soundfile as sf

    path = tmp_path / "clip.wav"
    sf.write(path, ramp(SR), SR, subtype="FLOAT")
    result = tagger().predict_file(path)
    assert result.source == str(path) and result.duration == 1.0
    np.testing.assert_array_equal(result.scores, ramp(SR)[:65])


def test_a_stream_that_yields_no_audio_is_an_error_not_an_empty_result(monkeypatch):
    monkeypatch.setattr(tagger_module, "stream_audio", lambda path, rate, max_seconds=None: iter([]))
    with pytest.raises(AudioError, match="^the audio holds no samples$"):
        tagger().predict_file("nothing.wav")


def test_the_file_limit_reaches_the_decoder(monkeypatch):
    seen = {}

    def stream(path, rate, max_seconds=None):
        seen.update(path=path, rate=rate, max_seconds=max_seconds)
        yield ramp(SR)

    monkeypatch.setattr(tagger_module, "stream_audio", stream)
    tagger(max_seconds=7).predict_file("a.wav")
    assert seen == {"path": "a.wav", "rate": SR, "max_seconds": 7}


def test_log_mel_hands_the_model_a_float32_tensor_and_returns_numpy():
    class Shower(Probe):
        def display_log_mel(self, x):
            self.given = x
            return (x[:, None] * 2).double()

    t = tagger(Shower())
    mel = t.log_mel(np.array([0.5, -1.0, 2.0]))
    assert isinstance(mel, np.ndarray) and mel.dtype == np.float32
    np.testing.assert_array_equal(mel, [[1.0], [-2.0], [4.0]])
    assert t.model.given.dtype == torch.float32 and t.model.given.device == t.device


# ------------------------------------------------------------------------------------------ frames
def test_short_clip_results_say_how_much_audio_they_saw_and_have_no_frame_rows_without_frames():
    result = tagger().predict(ramp(SR // 2), SR)
    assert result.duration == 0.5 and result.window_seconds == 0.5 and result.window_starts.tolist() == [0.0]
    assert result.framewise is None and result.frame_seconds is None
    lifted = tagger(consistent=True).predict(ramp(SR // 2), SR)  # consistent scores need no frame rows either
    assert lifted.framewise is None and lifted.frame_seconds is None
    framed = tagger(Probe(frames=True)).predict(ramp(SR // 2), SR)
    assert framed.frame_seconds == 0.01 and framed.framewise.shape == (1 + (SR // 2) // 320, 65)
    assert framed.framewise.dtype == np.float32  # the model's precision: an hour of rows stays half the size


def test_overlapping_windows_keep_the_larger_frame_score():
    """Windows of 1 s every 0.5 s on a ramp: each window's rows hold (in class 0) its first sample, so where two
    overlap the later (higher) one must win; the end-aligned window starts off the frame grid and rounds to the
    nearest row."""
    total = 2 * SR + 4040  # starts 0, 0.5, 1.0 s and the end-aligned one at sample 36040: row 112.625 -> 113
    wave = ramp(total)
    result = tagger(Probe(frames=True), window_seconds=1.0, hop_seconds=0.5).predict(wave, SR)
    starts = [0, 16000, 32000, total - SR]
    assert result.window_starts.tolist() == [s / SR for s in starts]
    frames = result.framewise[:, 0]
    assert len(frames) == 1 + total // 320
    expected = np.zeros(len(frames), np.float32)
    for s in starts:
        first = round(s / 320)
        expected[first : first + 101] = np.maximum(expected[first : first + 101], wave[s])
    np.testing.assert_array_equal(frames, expected)
    assert frames[113] == wave[total - SR] and frames[112] == wave[32000]  # the rounding shows here
    assert frames[-1] == wave[total - SR]  # the end window's rows past the recording's last row are dropped


# ------------------------------------------------------------------------------------------ NaN outputs
@pytest.mark.parametrize("output", ["clipwise_output", "embedding", "framewise_output"])
def test_a_model_that_answers_nan_on_ordinary_audio_is_called_broken(output):
    wave = np.full(6 * SR, 0.1, np.float32)
    wave[4 * SR :] = 0.4  # the third 2-s window is still ordinary audio (peak 0.4)
    t = tagger(Probe(frames=True, nan=output), window_seconds=2.0)
    with pytest.raises(PannsError) as e:
        t.predict(wave, SR)
    assert type(e.value) is PannsError
    assert str(e.value) == (
        "waveform 0: the model's scores for the window at 4.00 s are not finite; the audio there is ordinary, "
        "so the model or its checkpoint is broken: try another"
    )


def test_nan_scores_on_audio_beyond_full_scale_blame_the_audio_and_a_peak_of_one_does_not():
    wave = np.full(4 * SR, 0.1, np.float32)
    wave[2 * SR] = 1.5
    with pytest.raises(AudioError) as e:
        tagger(Probe(nan="clipwise_output"), window_seconds=2.0).predict_batch([np.zeros(SR, np.float32), wave], SR)
    assert str(e.value) == (
        "waveform 1: the model's scores for the window at 2.00 s are not finite; its samples reach 1.5, "
        "far outside [-1, 1]: normalise the audio and try again"
    )
    wave[2 * SR] = 1.0  # exactly full scale is ordinary audio
    with pytest.raises(PannsError, match="model or its checkpoint is broken") as e:
        tagger(Probe(nan="clipwise_output"), window_seconds=2.0).predict(wave, SR)
    assert type(e.value) is PannsError


# ------------------------------------------------------------------------------------------ defaults and devices
def test_default_windows_are_10_s_and_default_batches_hold_8():
    t = tagger()
    result = t.predict(ramp(25 * SR), SR)
    assert result.window_starts.tolist() == [0.0, 10.0, 15.0] and t.model.batches == [(3, 10 * SR)]
    t = tagger(window_seconds=1.0)
    t.predict(ramp(20 * SR), SR)
    assert t.model.batches == [(8, SR), (8, SR), (4, SR)]
    assert tagger(precision="bf16").precision == "bf16"


class Weighted(Probe):
    """A probe with a buffer, to see where the Tagger put the model."""

    def __init__(self):
        super().__init__()
        self.register_buffer("anchor", torch.zeros(1))

    def display_log_mel(self, x):
        self.given = x
        return torch.zeros(1, 1)


def test_the_model_and_the_log_mel_input_go_to_the_device_asked_for(monkeypatch):
    t = Tagger(Weighted(), device="meta", backend="torch")
    assert t.device.type == "meta" and t.model.anchor.device.type == "meta"
    t.log_mel(np.zeros(4, np.float32))
    assert t.model.given.device.type == "meta"

    class Loaded:
        model, head_labels = Weighted(), ANIMAL

    monkeypatch.setattr(tagger_module, "load_checkpoint", lambda checkpoint, **kwargs: Loaded)
    assert Tagger.from_pretrained("x", device="meta", backend="torch").model.anchor.device.type == "meta"


class Recorder:
    """A backend object (what `backend=` may be besides a name): runs the probe, records what it was given."""

    name = "recorder"

    def __init__(self, model):
        self.model, self.seen = model, []

    def run(self, batch):
        self.seen.append((batch.dtype, batch.shape))
        with torch.no_grad():
            return {k: v.numpy() for k, v in self.model(torch.from_numpy(batch)).items()}


def test_a_backend_object_is_used_as_it_is_and_gets_float32_batches_of_whole_windows(tmp_path):
    import soundfile as sf

    backend = Recorder(Probe())
    t = Tagger(Probe(), device="cpu", backend=backend, window_seconds=1.0)
    assert t.backend is backend and t.backend_name == "recorder"
    t.predict(ramp(SR // 2), SR)  # shorter than a window
    t.predict(ramp(2 * SR + 100), SR)  # two windows and an end-aligned one
    sf.write(tmp_path / "a.wav", ramp(3 * SR), SR, subtype="FLOAT")
    t.predict_file(tmp_path / "a.wav")
    assert backend.seen == [
        (np.float32, (1, SR // 2)),
        (np.float32, (3, SR)),
        (np.float32, (3, SR)),
    ]


def test_auto_on_cpu_runs_onnx_runtime_with_the_threads_asked_for():
    t = Tagger(Probe(arch_name="MutOnnxProbe"), device="cpu", threads=2)
    assert t.backend_name == "onnx"
    assert t.backend.session.get_session_options().intra_op_num_threads == 2
    np.testing.assert_array_equal(t.predict(ramp(SR), SR).scores, ramp(SR)[:65])


def test_errors_name_the_clip_of_a_batch_or_the_file(tmp_path):
    import soundfile as sf

    bad = ramp(SR)
    bad[100] = np.nan
    with pytest.raises(AudioError, match=r"^waveform 1 contains NaN samples, the first at 0\.00 s \(sample 100\)"):
        tagger().predict_batch([ramp(SR), bad], SR)
    path = tmp_path / "loud.wav"
    sf.write(path, np.full(SR, 0.5, np.float32), SR, subtype="FLOAT")  # ordinary audio, a model that answers NaN
    with pytest.raises(
        PannsError, match="^" + re.escape(f"{path}: the model's scores for the window at 0.00 s are not finite")
    ):
        tagger(Probe(nan="clipwise_output")).predict_file(path)


def test_from_pretrained_reports_the_label_set_asked_for(monkeypatch):
    class Loaded:
        model, head_labels = Probe(len(AUDIOSET)), AUDIOSET

    monkeypatch.setattr(tagger_module, "load_checkpoint", lambda checkpoint, **kwargs: Loaded)
    full = Tagger.from_pretrained("x", label_set="audioset", device="cpu", backend="torch")
    assert full.labels is AUDIOSET
    np.testing.assert_array_equal(full.predict(ramp(SR), SR).scores, ramp(SR)[:527])
    assert Tagger.from_pretrained("x", device="cpu", backend="torch").labels is ANIMAL  # the default view


# ------------------------------------------------------------------------------------------ more paths
ANIMAL_ROOT = ANIMAL.index_of("/m/0jbk")  # Animal: every other class of the set lies below it


def test_consistent_scores_and_frame_rows_put_animal_above_everything_below_it():
    """On a ramp the probe scores Animal (first in the set) lowest; lifted, it is the best of its descendants."""
    wave = ramp(2 * SR)
    raw = tagger(Probe(frames=True)).predict(wave, SR)
    lifted = tagger(Probe(frames=True), consistent=True).predict(wave, SR)
    assert raw.scores[ANIMAL_ROOT] == raw.scores.min() < raw.scores.max()
    assert lifted.scores[ANIMAL_ROOT] == lifted.scores.max() == raw.scores.max()
    np.testing.assert_array_equal(lifted.timeline[:, ANIMAL_ROOT], raw.timeline.max(axis=1))
    assert raw.framewise[:, ANIMAL_ROOT].max() < raw.framewise.max()
    np.testing.assert_array_equal(lifted.framewise[:, ANIMAL_ROOT], raw.framewise.max(axis=1))
    np.testing.assert_array_equal(lifted.timeline[0], lifted.scores)  # one window: the timeline is the clip


def test_a_viewed_model_keeps_its_frame_rows_for_the_viewed_classes():
    wave = ramp(SR)
    result = tagger(Probe(len(AUDIOSET), frames=True)).predict(wave, SR)
    assert result.framewise.shape == (101, 65)
    np.testing.assert_array_equal(result.framewise, np.tile(wave[72:137], (101, 1)))


def test_a_16_khz_model_gets_its_own_rate():
    """Clips are resampled to the model's rate, whatever it is: 16 kHz in, nothing changed; 32 kHz in, halved."""
    model = Probe(audio=AudioConfig(sample_rate=16000, hop_size=160))
    t = tagger(model)
    at_16k = t.predict(ramp(16000), 16000)
    np.testing.assert_array_equal(at_16k.scores, ramp(16000)[:65])
    assert at_16k.duration == 1.0 and model.batches == [(1, 16000)]
    assert t.predict_batch([ramp(SR)], SR)[0].duration == 1.0 and model.batches[-1] == (1, 16000)


def test_windows_cut_across_many_short_blocks_hold_their_own_samples(monkeypatch):
    """A stream of 0.3-s blocks, 1-s windows every 0.4 s: windows start inside blocks and span several."""
    total = 3 * SR + 1000
    wave = ramp(total)
    cuts = [*range(0, total, 9600), total]
    blocks = [wave[a:b] for a, b in itertools.pairwise(cuts)]
    monkeypatch.setattr(tagger_module, "stream_audio", lambda path, rate, max_seconds=None: iter(blocks))
    result = tagger(window_seconds=1.0, hop_seconds=0.4).predict_file("blocks.wav")
    starts = [0, 12800, 25600, 38400, 51200, 64000, total - SR]
    assert result.window_starts.tolist() == [s / SR for s in starts] and result.duration == total / SR
    for row, start in zip(result.timeline, starts):
        np.testing.assert_array_equal(row, wave[start : start + 65])
    np.testing.assert_allclose(result.embedding[1], np.mean([wave[s + SR - 1] for s in starts]), rtol=1e-6)


def test_messages_and_defaults_of_the_settings():
    assert Tagger(Probe(), backend="torch").device == pick_device("auto")
    with pytest.raises(ConfigError, match=r"got 0 and None"):
        tagger(window_seconds=0)
    with pytest.raises(AudioError, match=r"^predict_batch needs at least one waveform$"):
        tagger().predict_batch([], SR)
