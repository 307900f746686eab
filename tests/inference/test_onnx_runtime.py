"""The ONNX Runtime backend: same answers as PyTorch for every architecture and length, a safe cache, fallbacks.

Weights are the suite's non-degenerate random checkpoints (conftest), so scores are spread out and
a wrong graph cannot hide behind all-0.5 answers. Embeddings are compared relative to their size
(they reach ~100); scores and frame scores absolutely.
"""

import logging

import numpy as np
import pytest
import torch

from panns_core import AudioConfig, Tagger
from panns_core.errors import BackendError, PannsError
from panns_core.inference import onnx_runtime as onnx_backend

SR = 32000
SCORE_TOLERANCE = 1e-4


def noise(batch: int, samples: int, seed: int = 0) -> np.ndarray:
    """Clips of different loudness (so batch rows differ) with a chirp in them."""
    rng = np.random.RandomState(seed)
    t = np.arange(samples) / SR
    x = rng.randn(batch, samples) * 0.05 + 0.3 * np.sin(2 * np.pi * (300 + 2000 * t) * t)
    return (x * np.linspace(1.0, 0.2, batch)[:, None]).astype(np.float32)


def assert_outputs_close(got: dict, expected: dict, what: str):
    assert sorted(got) == sorted(expected), what
    for name, want in expected.items():
        assert got[name].shape == want.shape, f"{what}: {name} {got[name].shape} vs {want.shape}"
        diff = float(np.abs(got[name] - want).max())
        scale = max(1.0, float(np.abs(want).max())) if name == "embedding" else 1.0
        assert diff <= SCORE_TOLERANCE * scale, f"{what}: {name} differs by {diff:.2e} (scale {scale:.0f})"


def assert_results_equal(a, b, what: str):
    """Two TaggingResults from different backends: the same object, numbers within tolerance."""
    assert type(a) is type(b) and a.labels is b.labels and a.model == b.model, what
    np.testing.assert_array_equal(a.window_starts, b.window_starts)
    assert (a.window_seconds, a.duration, a.frame_seconds) == (b.window_seconds, b.duration, b.frame_seconds)
    assert np.abs(a.scores - b.scores).max() <= SCORE_TOLERANCE, what
    assert np.abs(a.timeline - b.timeline).max() <= SCORE_TOLERANCE, what
    assert np.abs(a.embedding - b.embedding).max() <= SCORE_TOLERANCE * max(1.0, np.abs(b.embedding).max()), what
    assert (a.framewise is None) == (b.framewise is None), what
    if b.framewise is not None:
        assert a.framewise.shape == b.framewise.shape
        assert np.abs(a.framewise - b.framewise).max() <= SCORE_TOLERANCE, what


def backend_pair(checkpoint, cache, label_set="animal", **kwargs):
    """(PyTorch Tagger, ONNX Tagger) on the same weights; the graph is cached in `cache`."""
    torch_tagger = Tagger.from_pretrained(str(checkpoint), device="cpu", label_set=label_set, backend="torch", **kwargs)
    backend = onnx_backend.OnnxBackend.for_model(torch_tagger.model, cache=cache)
    onnx_tagger = Tagger(torch_tagger.model, device="cpu", label_set=label_set, backend=backend, **kwargs)
    return torch_tagger, onnx_tagger


# ---------------------------------------------------------------- quick: one export, small model
def test_mobilenet_onnx_answers_as_pytorch_for_short_and_one_second_clips(official_checkpoint, tmp_path):
    torch_tagger = Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")), device="cpu", backend="torch")
    monkey_cache = tmp_path / "cache"
    onnx_tagger = Tagger(
        torch_tagger.model,
        device="cpu",
        backend=onnx_backend.OnnxBackend.for_model(torch_tagger.model, cache=monkey_cache),
    )
    assert (torch_tagger.backend_name, onnx_tagger.backend_name) == ("torch", "onnx")
    # 0.1 s (padded outside the graph), 1 s, an odd length; 3 x 4.4 s runs as chunks of 2 + 1 clips
    for batch, samples in ((2, 3200), (2, 32000), (2, 33001), (3, 139_999)):
        x = noise(batch, samples, seed=samples)
        assert_outputs_close(onnx_tagger.backend.run(x), torch_tagger.backend.run(x), f"{samples} samples")
    # Through the Tagger: 527 outputs viewed on the 65 animal labels, the same result objects.
    clips = [noise(1, 32000)[0], noise(1, 3200, seed=1)[0]]
    for a, b in zip(onnx_tagger.predict_batch(clips, SR), torch_tagger.predict_batch(clips, SR)):
        assert_results_equal(a, b, "predict_batch")
        assert len(a.scores) == 65 and a.scores.std() > 0.01  # spread-out scores, not a constant
    assert list(monkey_cache.glob("onnx/MobileNetV1-*.onnx")) and not list(monkey_cache.rglob("*.tmp"))


# ---------------------------------------------------------------- quick: selection and fallbacks (no export)
def test_auto_falls_back_to_pytorch_with_one_warning_when_onnxruntime_is_missing(
    official_checkpoint, monkeypatch, caplog
):
    def missing():
        raise BackendError(
            "onnxruntime cannot be imported (No module named 'onnxruntime'); install it with `pip install onnxruntime`"
        )

    monkeypatch.setattr(onnx_backend, "_onnxruntime", missing)
    path = str(official_checkpoint("MobileNetV1"))
    with caplog.at_level(logging.WARNING, logger="panns_core"):
        tagger = Tagger.from_pretrained(path, device="cpu")  # backend="auto"
    assert tagger.backend_name == "torch"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "using PyTorch" in warnings[0].getMessage()
    assert "\n" not in warnings[0].getMessage()
    assert tagger.predict(noise(1, 32000)[0], SR).scores.std() > 0.01
    with pytest.raises(BackendError, match="pip install onnxruntime"):
        Tagger.from_pretrained(path, device="cpu", backend="onnx")


def test_auto_falls_back_when_the_export_fails(official_checkpoint, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise BackendError("exporting MobileNetV1 to ONNX failed: RuntimeError: planted")

    monkeypatch.setattr(onnx_backend, "export_onnx", broken)
    monkeypatch.setenv("PANNS_CACHE_DIR", str(official_checkpoint("MobileNetV1").parent / "empty-cache"))
    with caplog.at_level(logging.WARNING, logger="panns_core"):
        tagger = Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")), device="cpu")
    assert tagger.backend_name == "torch" and "planted" in caplog.text
    with pytest.raises(BackendError, match="planted"):
        Tagger(tagger.model, device="cpu", backend="onnx")


class BakedBatch(torch.nn.Module):
    """A custom model whose `view(len(x), ...)` the tracer records as the trace's batch size (2)."""

    classes_num, arch_name = 65, "BakedBatch"

    def __init__(self):
        super().__init__()
        self.audio = AudioConfig()
        self.weight = torch.nn.Parameter(torch.linspace(-2, 2, 65))

    def forward(self, x):  # (batch, samples)
        frames = x.shape[1] // 320
        energy = x[:, : frames * 320].view(len(x), frames, 320).abs().mean((1, 2))  # (batch,)
        scores = torch.sigmoid(energy[:, None] * 20 * self.weight)  # (batch, 65)
        return {"clipwise_output": scores, "embedding": energy[:, None].repeat(1, 4)}


def test_a_graph_that_baked_its_trace_shape_is_refused_and_auto_keeps_pytorch(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("PANNS_CACHE_DIR", str(tmp_path))
    with pytest.raises(BackendError, match="baked in a batch size or length|another size or length"):
        Tagger(BakedBatch(), device="cpu", backend="onnx")
    with caplog.at_level(logging.WARNING, logger="panns_core"):
        tagger = Tagger(BakedBatch(), device="cpu", window_seconds=1.0)
    assert tagger.backend_name == "torch" and "not used" in caplog.text
    clips = noise(3, SR)
    results = tagger.predict_batch(list(clips), SR)  # three windows at once: the batch the graph could not take
    assert len(results) == 3 and results[0].scores.max() > results[1].scores.max()
    assert not list(tmp_path.rglob("*.onnx"))  # nothing refused is left in the cache


def test_unwritable_cache_folder_falls_back_under_auto(official_checkpoint, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a-file-not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("PANNS_CACHE_DIR", str(blocker))
    with caplog.at_level(logging.WARNING, logger="panns_core"):
        tagger = Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")), device="cpu")
    assert tagger.backend_name == "torch" and "set PANNS_CACHE_DIR to a writable folder" in caplog.text


def test_backend_choice_rules(official_checkpoint, monkeypatch):
    tagger = Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")), device="cpu", backend="torch")
    monkeypatch.setattr(onnx_backend, "export_onnx", lambda *a, **k: pytest.fail("must not export"))
    # bf16 stays on PyTorch under auto, and is a clear error under onnx
    assert Tagger(tagger.model, device="cpu", precision="bf16").backend_name == "torch"
    with pytest.raises(BackendError, match="fp32 only"):
        Tagger(tagger.model, device="cpu", precision="bf16", backend="onnx")
    with pytest.raises(PannsError, match="auto, torch, onnx"):
        Tagger(tagger.model, device="cpu", backend="tensorrt")
    # another Tagger's backend object is shared as is (the demo's finer timeline view)
    assert Tagger(tagger.model, device="cpu", backend=tagger.backend).backend is tagger.backend


def test_thread_settings(monkeypatch):
    monkeypatch.delenv(onnx_backend.THREADS_ENV, raising=False)
    cores = onnx_backend.physical_cores()
    assert cores >= 1
    assert onnx_backend.default_threads() == cores
    assert onnx_backend.default_threads(concurrency=cores * 4) == 1  # never zero, never oversubscribed
    monkeypatch.setenv(onnx_backend.THREADS_ENV, "3")
    assert onnx_backend.default_threads(concurrency=2) == 3  # the knob wins
    monkeypatch.setenv(onnx_backend.THREADS_ENV, "many")
    with pytest.raises(BackendError, match="PANNS_ORT_THREADS"):
        onnx_backend.default_threads()


# ---------------------------------------------------------------- slow: every architecture, every length
@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


# (arch, classes): the five released architectures, and a 65-class head as our training writes.
MODELS = [
    ("Cnn14", 527),
    ("ResNet38", 527),
    ("Wavegram_Logmel_Cnn14", 527),
    ("MobileNetV1", 527),
    ("Cnn14_DecisionLevelMax", 527),
    ("Cnn14", 65),
]
# 0.1 s (padded before the graph); 139,999 (odd: 438 frames, Wavegram one step short, frames dropped by
# pooling); 10 s (1001 frames, Wavegram exactly aligned). DecisionLevelMax adds 317,120 samples (992 frames,
# a multiple of 32: no frames to repeat, unlike the traced length).
LENGTHS = [3200, 139_999, 320_000]


@pytest.mark.slow
@pytest.mark.parametrize("arch,classes", MODELS, ids=[f"{a}-{c}" for a, c in MODELS])
def test_every_architecture_matches_pytorch_at_every_length(arch, classes, official_checkpoint, onnx_cache):
    labels = "animal"
    torch_tagger, onnx_tagger = backend_pair(official_checkpoint(arch, classes), onnx_cache, label_set=labels)
    assert onnx_tagger.backend_name == "onnx"
    for samples in LENGTHS + ([317_120] if arch == "Cnn14_DecisionLevelMax" else []):
        for batch in (1, 2):
            x = noise(batch, samples, seed=samples + batch)
            assert_outputs_close(onnx_tagger.backend.run(x), torch_tagger.backend.run(x), f"{arch} {batch}x{samples}")
    # 25 s through the Tagger's windows (two full, one end-aligned) plus a short clip in the same call
    clips = [noise(1, 25 * SR, seed=25)[0], noise(1, 139_999, seed=3)[0]]
    for a, b in zip(onnx_tagger.predict_batch(clips, SR), torch_tagger.predict_batch(clips, SR)):
        assert_results_equal(a, b, arch)
    if arch == "Cnn14_DecisionLevelMax":
        long = onnx_tagger.predict(clips[0], SR)
        assert long.framewise.shape == (1 + 25 * SR // 320, 65) and long.framewise.std() > 0.01


# ---------------------------------------------------------------- slow: the cache
def count_exports(monkeypatch) -> list:
    calls = []
    real = onnx_backend.export_onnx

    def counting(*args, **kwargs):
        calls.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(onnx_backend, "export_onnx", counting)
    return calls


@pytest.mark.slow
def test_graph_is_exported_once_and_rebuilt_when_truncated_or_garbage(
    official_checkpoint, tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("PANNS_CACHE_DIR", str(tmp_path))
    exports = count_exports(monkeypatch)
    path = str(official_checkpoint("MobileNetV1"))
    clip = noise(1, 2 * SR)[0]
    expected = Tagger.from_pretrained(path, device="cpu", backend="torch").predict(clip, SR)

    with caplog.at_level(logging.WARNING, logger="panns_core"):
        first = Tagger.from_pretrained(path, device="cpu")
    assert first.backend_name == "onnx" and len(exports) == 1
    assert caplog.text.count("exporting MobileNetV1 to ONNX, once") == 1
    graph = first.backend.path
    assert graph.parent == tmp_path / "onnx" and graph.exists() and not list(tmp_path.rglob("*.tmp"))
    mtime = graph.stat().st_mtime_ns

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="panns_core"):
        again = Tagger.from_pretrained(path, device="cpu")
    assert again.backend_name == "onnx" and len(exports) == 1 and graph.stat().st_mtime_ns == mtime
    assert "ONNX" not in caplog.text  # later starts are silent

    good = graph.read_bytes()
    for damage in (good[: len(good) // 2], b"this is not an ONNX graph" * 100):
        graph.write_bytes(damage)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="panns_core"):
            rebuilt = Tagger.from_pretrained(path, device="cpu")
        assert rebuilt.backend_name == "onnx" and "cannot be used" in caplog.text
        assert graph.stat().st_size == len(good)
        assert_results_equal(rebuilt.predict(clip, SR), expected, "rebuilt graph")
    assert len(exports) == 3


@pytest.mark.slow
def test_stale_graph_of_another_exporter_is_replaced(official_checkpoint, tmp_path, monkeypatch):
    tagger = Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")), device="cpu", backend="torch")
    current = onnx_backend.cached_graph_path(tagger.model, tmp_path)
    stale = current.with_name(current.name.rsplit("-", 1)[0] + "-0123456789.onnx")
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an export by an older torch")
    backend = onnx_backend.OnnxBackend.for_model(tagger.model, cache=tmp_path)
    assert backend.path == current and current.exists() and not stale.exists()
    # a changed checkpoint is a different file: never answered by the old graph
    import torch

    with torch.no_grad():
        tagger.model.fc_audioset.bias.add_(1.0)
    assert onnx_backend.cached_graph_path(tagger.model, tmp_path) != current


@pytest.mark.slow
def test_cli_export_and_tag_backends(official_checkpoint, tmp_path, shared_dir):
    import csv

    from panns_core.cli.main import main

    path = str(official_checkpoint("MobileNetV1"))
    out = tmp_path / "mobilenet.onnx"
    assert main(["export", path, "--onnx", str(out)]) == 0
    session = onnx_backend.make_session(out, threads=1)
    tagger = Tagger.from_pretrained(path, device="cpu", backend="torch")
    x = noise(2, 3200)
    got = dict(
        zip(
            ["clipwise_output", "embedding"],
            session.run(["clipwise_output", "embedding"], {"waveform": onnx_backend.pad_to_minimum(x, 9920)}),
        )
    )
    assert_outputs_close(got, tagger.backend.run(x), "exported file")

    clip = min((shared_dir / "audio").rglob("*.wav"))
    tables = {}
    for backend in ("torch", "onnx"):
        csv_path = tmp_path / f"{backend}.csv"
        assert (
            main(["tag", str(clip), "--checkpoint", path, "--csv", str(csv_path), "--backend", backend, "--quiet"]) == 0
        )
        with open(csv_path) as f:
            tables[backend] = list(csv.DictReader(f))
    assert [r["label_1"] for r in tables["torch"]] == [r["label_1"] for r in tables["onnx"]]
    for a, b in zip(tables["torch"], tables["onnx"]):
        assert abs(float(a["score_1"]) - float(b["score_1"])) <= SCORE_TOLERANCE
