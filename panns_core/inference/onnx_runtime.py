"""The ONNX Runtime path: export a model to ONNX once, cache the graph, run it with tuned threads.

Export uses PyTorch's TorchScript-based exporter (`dynamo=False`, opset 17) with dynamic batch and
sample axes. It was chosen over the torch.export-based exporter because it exports the same
graphs (identical scores) in a few seconds rather than over a minute on a small CPU, and needs
no extra package. Shape-dependent steps are kept correct for every clip length:
  * zero-padding of clips shorter than 32 STFT frames happens here, outside the graph
    (the model's own `pad_short` then does nothing, whatever length the graph was traced at);
  * Wavegram's time alignment is branch-free in the model, so it is traced as shape arithmetic;
  * Cnn14_DecisionLevelMax's frame fitting is traced at a length whose frame count is not a
    multiple of 32, so the graph holds the general "repeat the last segment" path, which also
    gives the right answer (zero repeats) when the count is a multiple of 32.
The tests compare against PyTorch at 0.1 s, 139,999 samples, 10 s and long inputs for every
released architecture.

The cached graph lives in `<cache folder>/onnx/` (PANNS_CACHE_DIR), named after the model's
weights digest and the exporter's settings and versions, so a changed checkpoint or a new torch
makes a new file. It is written to a temporary file, fsync'd, loaded and checked against PyTorch,
then renamed; a cached file that ONNX Runtime cannot load is exported again.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from panns_core.errors import BackendError
from panns_core.weights.cache import cache_dir

OPSET = 17
EXPORTER = "torchscript-v2"  # bump when the export recipe or its checks change: old cached graphs then go stale
INPUT = "waveform"
THREADS_ENV = "PANNS_ORT_THREADS"
VERIFY_TOLERANCE = 1e-4  # largest score difference against PyTorch accepted for a fresh export
# Audio per ONNX Runtime call. Its CPU kernels slow down per clip when a batch's activations outgrow the
# caches (Cnn14, 2 threads: 8 x 10 s in one call took 2.3x as long per clip as one 10-s clip per call),
# so a batch is run in chunks of about this much audio; short windows still share a call.
RUN_SECONDS = 10

log = logging.getLogger(__name__)


# ---------------------------------------------------------------- threads
def physical_cores() -> int:
    """Physical cores this process may use (hyper-threads share one core's arithmetic units)."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return max(1, usable)
    cores, physical = set(), "0"
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "physical id":
            physical = value.strip()
        elif key.strip() == "core id":
            cores.add((physical, value.strip()))
    return max(1, min(usable, len(cores) or usable))


def default_threads(concurrency: int = 1) -> int:
    """Intra-op threads for one ONNX Runtime session: $PANNS_ORT_THREADS, else physical cores / concurrency.

    An app that runs `concurrency` requests at once passes it, so that the sessions together use
    each core once instead of oversubscribing it.
    """
    text = os.environ.get(THREADS_ENV, "").strip()
    if text:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise BackendError(f"${THREADS_ENV} must be a whole number of threads of at least 1, got {text!r}")
        return value
    return max(1, physical_cores() // max(1, concurrency))


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError as e:  # missing, or a wheel that does not fit this machine
        raise BackendError(f"onnxruntime cannot be imported ({e}); install it with `pip install onnxruntime`") from None
    return onnxruntime


def make_session(path: Path, threads: int | None = None):
    """An ONNX Runtime CPU session on `path`: `threads` intra-op threads (default: `default_threads()`), 1 inter-op.

    Idle worker threads do not spin, so that sessions of several models or requests that wait do
    not burn the cores that the busy one needs.
    """
    ort = _onnxruntime()
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only: the optimiser's notes are not for users
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


# ---------------------------------------------------------------- cache key
def weights_digest(model: torch.nn.Module) -> str:
    """sha256 over the architecture, front-end settings and every weight and buffer (the checkpoint's content)."""
    h = hashlib.sha256()
    audio = getattr(model, "audio", None)
    h.update(repr((getattr(model, "arch_name", type(model).__name__), audio)).encode())
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(f"{name}:{t.dtype}:{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy())
    return h.hexdigest()


def exporter_tag() -> str:
    """What besides the weights decides the graph's bytes: recipe, opset, torch version."""
    return hashlib.sha256(f"{EXPORTER}:{OPSET}:{torch.__version__}".encode()).hexdigest()[:10]


def cached_graph_path(model: torch.nn.Module, cache: Path | None = None) -> Path:
    arch = getattr(model, "arch_name", type(model).__name__)
    return Path(cache or cache_dir()) / "onnx" / f"{arch}-{weights_digest(model)[:24]}-{exporter_tag()}.onnx"


# ---------------------------------------------------------------- export
def trace_samples(model: torch.nn.Module) -> int:
    """10 s of audio, nudged so the STFT frame count is not a multiple of 32 (see the module docstring)."""
    audio = model.audio
    samples = 10 * audio.sample_rate
    if (1 + samples // audio.hop_size) % 32 == 0:
        samples += audio.hop_size
    return samples


def min_samples(model: torch.nn.Module) -> int:
    return int(getattr(model, "min_samples", 0))


def chunk_samples(model: torch.nn.Module) -> int:
    return RUN_SECONDS * model.audio.sample_rate


def pad_to_minimum(batch: np.ndarray, minimum: int) -> np.ndarray:
    """Zero-pad (batch, samples) at the end up to `minimum` samples, as the model's `pad_short` does."""
    missing = minimum - batch.shape[-1]
    return np.pad(batch, ((0, 0), (0, missing))) if missing > 0 else batch


def _check_input(model: torch.nn.Module) -> np.ndarray:
    """Three 1-s noise clips at different levels: neither the batch (2) nor the length (10 s) of the trace,
    so a graph that baked either in (a `view(len(x), ...)` in a custom model) fails here, not in use."""
    rng = np.random.RandomState(0)
    levels = np.array([[0.1], [0.01], [0.05]], np.float32)
    x = rng.randn(3, model.audio.sample_rate).astype(np.float32) * levels
    return pad_to_minimum(x, min_samples(model))


def _verify(session, model: torch.nn.Module, names: list[str], path: Path) -> None:
    """The fresh graph answers the check clips as PyTorch does, every output, or it is not used."""
    x = _check_input(model)
    with torch.no_grad():
        expected = {k: v.numpy() for k, v in model(torch.from_numpy(x)).items()}
    try:
        got = dict(zip(names, session.run(names, {INPUT: x})))
    except Exception as e:  # ONNX Runtime's own error types: a shape the graph cannot take
        raise BackendError(
            f"the ONNX export in {path} fails on a batch of another size or length ({e}); not used"
        ) from None
    for name in names:
        if got[name].shape != expected[name].shape:
            raise BackendError(
                f"the ONNX export in {path} gives {name} of shape {got[name].shape} where PyTorch gives "
                f"{expected[name].shape}: it baked in a batch size or length; not used"
            )
        scale = max(1.0, float(np.abs(expected[name]).max())) if name == "embedding" else 1.0
        diff = float(np.abs(got[name] - expected[name]).max()) / scale
        if not diff <= VERIFY_TOLERANCE:
            raise BackendError(f"the ONNX export in {path} differs from PyTorch by {diff:.2e} in {name}; not used")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def export_onnx(model: torch.nn.Module, path, threads: int | None = None):
    """Export `model` (on CPU) to `path`: written to a temporary file, fsync'd, loaded, checked, renamed.

    Returns the checked ONNX Runtime session, ready to use. Raises BackendError if any step fails;
    `path` is then left as it was.
    """
    try:
        import onnx  # noqa: F401  (torch's exporter needs it to write the graph)
    except ImportError as e:
        raise BackendError(f"exporting to ONNX needs the onnx package ({e}); `pip install onnx`") from None
    path = Path(path)
    model = model.eval()
    with torch.no_grad():
        names = list(model(torch.from_numpy(_check_input(model))).keys())
    x = torch.zeros(2, trace_samples(model)).normal_(generator=torch.Generator().manual_seed(0)) * 0.1
    dynamic = {INPUT: {0: "batch", 1: "samples"}, **{n: {0: "batch"} for n in names}}
    if "framewise_output" in names:
        dynamic["framewise_output"] = {0: "batch", 1: "frames"}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    except OSError as e:
        raise BackendError(
            f"cannot write the ONNX graph into {path.parent} ({e}); set PANNS_CACHE_DIR to a writable folder"
        ) from None
    os.close(fd)
    try:
        try:
            with warnings.catch_warnings(), torch.no_grad():
                warnings.simplefilter("ignore")  # the tracer's notes: the tests check the result instead
                torch.onnx.export(
                    model,
                    (x,),
                    tmp,
                    dynamo=False,
                    opset_version=OPSET,
                    input_names=[INPUT],
                    output_names=names,
                    dynamic_axes=dynamic,
                    do_constant_folding=True,
                )
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())  # the bytes are on disk before the final name points at them
            session = make_session(Path(tmp), threads)
        except BackendError:
            raise
        except Exception as e:
            raise BackendError(
                f"exporting {getattr(model, 'arch_name', 'the model')} to ONNX failed: {type(e).__name__}: {e}"
            ) from None
        _verify(session, model, names, path)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide the file from other users
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return session


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _remove_stale(path: Path) -> None:
    """Delete graphs of the same weights made by another exporter version (they would never be used again)."""
    stem = path.name.rsplit("-", 1)[0]
    for old in path.parent.glob(f"{stem}-*.onnx"):
        if old != path:
            try:
                old.unlink()
            except OSError:
                pass


# ---------------------------------------------------------------- backend
class OnnxBackend:
    """Runs an exported graph with ONNX Runtime on CPU; same inputs and outputs as the PyTorch model."""

    name = "onnx"

    def __init__(self, session, minimum_samples: int, path: Path | None = None, chunk_samples: int = 320_000):
        self.session = session
        self.min_samples = minimum_samples
        self.chunk_samples = chunk_samples  # samples per ONNX Runtime call (see RUN_SECONDS)
        self.path = path
        self.output_names = [o.name for o in session.get_outputs()]
        inputs = [i.name for i in session.get_inputs()]
        if inputs != [INPUT] or not {"clipwise_output", "embedding"} <= set(self.output_names):
            raise BackendError(
                f"{path or 'the ONNX graph'} is not a PANNs export (inputs {inputs}, outputs {self.output_names})"
            )

    @classmethod
    def for_model(cls, model: torch.nn.Module, threads: int | None = None, cache: Path | None = None) -> OnnxBackend:
        """The cached graph of `model`, exported on first use (once), rebuilt when unreadable."""
        _onnxruntime()  # fail fast, before hashing or exporting, when ONNX Runtime is missing
        path = cached_graph_path(model, cache)
        if path.exists():
            try:
                return cls(make_session(path, threads), min_samples(model), path, chunk_samples(model))
            except Exception as e:
                log.warning(
                    "cached ONNX graph %s cannot be used (%s); exporting it again",
                    path,
                    str(e).splitlines()[0][:200] if str(e) else type(e).__name__,
                )
        log.warning("exporting %s to ONNX, once (cached at %s)", getattr(model, "arch_name", "model"), path)
        session = export_onnx(model, path, threads)
        _remove_stale(path)
        return cls(session, min_samples(model), path, chunk_samples(model))

    def run(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        x = pad_to_minimum(np.ascontiguousarray(batch, np.float32), self.min_samples)  # (batch, samples)
        rows = max(1, self.chunk_samples // x.shape[1])
        parts = [self.session.run(self.output_names, {INPUT: x[i : i + rows]}) for i in range(0, len(x), rows)]
        return {name: np.concatenate([p[k] for p in parts]) for k, name in enumerate(self.output_names)}
