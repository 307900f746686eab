"""One inference object for every front end (CLI, demo, training evaluation, notebooks).

A Tagger owns a model, its label view and device; it turns any clip into a TaggingResult:
clip scores, an embedding, a per-window timeline and, for Cnn14_DecisionLevelMax, frame scores.
Long recordings are cut into windows (10 s by default) and run in small batches, so memory stays
bounded by the window and batch size, not by the recording's length.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import torch

from panns_core.audio.load import check_length, prepare_waveform, stream_audio
from panns_core.device import pick_device
from panns_core.errors import AudioError, ConfigError, PannsError
from panns_core.inference.backends import select_backend
from panns_core.inference.heads import ProbeHead, load_head, weights_digest
from panns_core.labels.ontology import make_consistent
from panns_core.labels.sets import LabelSet, get_label_set, labels_for_head, view
from panns_core.weights.checkpoints import LoadedCheckpoint, load_checkpoint


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first; ties keep label order (the lower index first).

    The one ranking rule: `TaggingResult.top`, the CLI's CSV and every front end use it, so tied classes
    come out in the same order everywhere.
    """
    return np.argsort(-np.asarray(scores), kind="stable")[: max(int(k), 0)]


@dataclass
class TaggingResult:
    """Scores of one clip over a label set. `scores` is in label order; `top` sorts them."""

    labels: LabelSet
    scores: np.ndarray  # (n_labels,) clip-level: max over windows
    embedding: np.ndarray  # (embedding_size,) mean over windows
    timeline: np.ndarray  # (n_windows, n_labels)
    window_starts: np.ndarray  # (n_windows,) seconds
    window_seconds: float
    duration: float  # seconds of audio seen
    framewise: Optional[np.ndarray] = None  # (frames, n_labels), Cnn14_DecisionLevelMax only
    frame_seconds: Optional[float] = None  # time between framewise rows
    source: Optional[str] = None
    model: str = ""
    extra: dict = field(default_factory=dict)

    def top(self, k: int = 5, threshold: float = 0.0) -> List[Tuple[str, str, float]]:
        """The k best labels scoring at least `threshold`, as (display_name, mid, score)."""
        order = top_indices(self.scores, k)
        return [
            (self.labels.names[i], self.labels.mids[i], float(self.scores[i]))
            for i in order
            if self.scores[i] >= threshold
        ]

    def to_frame(self):
        """All scores as a table (label order): mid, display_name, score."""
        import pandas as pd

        return pd.DataFrame(
            {"mid": self.labels.mids, "display_name": self.labels.names, "score": self.scores.astype(float)}
        )

    def timeline_frame(self):
        """Per-window scores as a long table: start, end, mid, display_name, score."""
        import pandas as pd

        n = len(self.window_starts)
        return pd.DataFrame(
            {
                "start": np.repeat(self.window_starts, len(self.labels)),
                "end": np.repeat(np.minimum(self.window_starts + self.window_seconds, self.duration), len(self.labels)),
                "mid": np.tile(self.labels.mids, n),
                "display_name": np.tile(self.labels.names, n),
                "score": self.timeline.reshape(-1).astype(float),
            }
        )


class _Accumulator:
    """Collects the windows of one clip and folds them into a TaggingResult."""

    def __init__(self, frame_hop: int):
        self.starts, self.scores, self.embeddings, self.frames = [], [], [], []
        self.frame_hop = frame_hop

    def add(self, start: int, scores, embedding, frames):
        self.starts.append(start)
        self.scores.append(scores)
        self.embeddings.append(embedding)
        if frames is not None:
            self.frames.append(frames)

    def framewise(self, total: int) -> Optional[np.ndarray]:
        """Place each window's frames on the recording's frame grid; overlaps keep the max."""
        if not self.frames:
            return None
        grid = np.zeros((1 + total // self.frame_hop, self.frames[0].shape[1]), np.float32)
        for start, frames in zip(self.starts, self.frames):
            first = round(start / self.frame_hop)
            rows = frames[: max(0, len(grid) - first)]
            np.maximum(grid[first : first + len(rows)], rows, out=grid[first : first + len(rows)])
        return grid


class Tagger:
    """Tag animal sounds (or all AudioSet classes) in clips of any length, format and rate.

    `model` is any PannsModel (or a model with its surface: `audio`, `classes_num`, `forward`);
    `label_set` is the classes to report ('animal', 'audioset' or a LabelSet), viewed through the
    head labels (what the model's outputs mean; default: the known set of its head's width).
    """

    def __init__(
        self,
        model: torch.nn.Module,
        label_set="animal",
        device="auto",
        window_seconds: float = 10.0,
        hop_seconds: Optional[float] = None,
        batch_size: int = 8,
        precision: str = "fp32",
        consistent: bool = False,
        max_seconds: Optional[float] = None,
        info: Optional[LoadedCheckpoint] = None,
        head_labels: Optional[LabelSet] = None,
        backend="auto",
        threads: Optional[int] = None,
        head=None,
        head_mode: str = "add",
    ):
        """`backend`: 'auto' (ONNX Runtime on CPU in fp32 when it works, else PyTorch), 'torch', 'onnx', or
        another Tagger's `backend` object to share its exported graph; `threads`: ONNX Runtime intra-op
        threads (default $PANNS_ORT_THREADS, else the physical cores; see panns_core.onnx_backend);
        `head`: a probe head file (or ProbeHead) from `panns probe fit`, whose classes are scored from the
        embedding and reported beside the label set (`head_mode='add'`) or instead of it ('only')."""
        self.device = pick_device(device)
        self.model = model.to(self.device).eval()
        self.arch = getattr(model, "arch_name", type(model).__name__)
        self.sample_rate = model.audio.sample_rate
        if head_labels is None:
            head_labels = info.head_labels if info is not None else labels_for_head(model.classes_num, source=self.arch)
        self.head_labels = head_labels
        # A head whose labels are not a known set (generic class_i, a labels file) reports them as they are.
        self.labels = get_label_set(label_set) if head_labels.indices.count(-1) == 0 else head_labels
        columns = view(head_labels, self.labels)
        self.output_index = None if columns is None else np.asarray(columns)
        if window_seconds <= 0 or (hop_seconds is not None and hop_seconds <= 0):
            raise ConfigError(f"window and hop must be positive seconds, got {window_seconds} and {hop_seconds}")
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        self.window = round(window_seconds * self.sample_rate)
        self.hop = round((hop_seconds or window_seconds) * self.sample_rate)
        self.batch_size = batch_size
        if precision not in ("fp32", "bf16"):
            raise ConfigError(f"precision must be 'fp32' or 'bf16', got {precision!r}")
        self.precision = precision
        self.backend = select_backend(backend, self.model, self.device, precision, threads)
        self.backend_name = self.backend.name  # 'torch' or 'onnx': what actually runs the model
        self.consistent = consistent
        self.max_seconds = max_seconds
        self.info = info  # the LoadedCheckpoint the model came from, if any
        self.base_labels = self.labels  # the checkpoint's classes reported, without a head's
        self.head: Optional[ProbeHead] = None
        self.head_mode = head_mode
        if head is not None:
            self.attach_head(head, head_mode)

    def attach_head(self, head, head_mode: str) -> None:
        """Check the head belongs to these weights, then widen (or replace) the reported labels with its classes."""
        if head_mode not in ("add", "only"):
            raise ConfigError(f"head_mode must be 'add' or 'only', got {head_mode!r}")
        self.head = head if isinstance(head, ProbeHead) else load_head(head)
        where = str(self.info.path) if self.info is not None else "this model"
        self.head.check_base(weights_digest(self.model), self.arch, where)
        own = self.head.labels
        if head_mode == "only":
            self.labels = own
        else:
            base = self.labels
            self.labels = LabelSet(
                f"{base.name}+head", base.indices + own.indices, base.mids + own.mids, base.names + own.names
            )

    # ---------------------------------------------------------------- construction
    @classmethod
    def from_pretrained(
        cls,
        checkpoint,
        arch: Optional[str] = None,
        label_set="animal",
        head_labels=None,
        device="auto",
        progress: bool = True,
        **kwargs,
    ) -> Tagger:
        """A checkpoint by anything `resolve_source` takes: a released name ('Cnn14'), a .pth path,
        `owner/repo` or hf://owner/repo/file. `arch` names a bare file's architecture; `head_labels`
        names the outputs of a head that matches no known label set (a CSV/JSON file)."""
        loaded = load_checkpoint(checkpoint, arch=arch, progress=progress, head_labels=head_labels)
        return cls(loaded.model, label_set=label_set, device=device, info=loaded, **kwargs)

    # ---------------------------------------------------------------- public API
    def predict(self, waveform, sample_rate: int) -> TaggingResult:
        return self.predict_batch([waveform], sample_rate)[0]

    def predict_batch(self, waveforms: Sequence, sample_rate: int) -> List[TaggingResult]:
        """Several in-memory clips; windows of equal length from different clips share batches."""
        if len(waveforms) == 0:
            raise AudioError("predict_batch needs at least one waveform")
        clips = [
            prepare_waveform(w, sample_rate, self.sample_rate, what=f"waveform {i}") for i, w in enumerate(waveforms)
        ]
        self._check_length(max(len(c) for c in clips) / self.sample_rate, "waveform")
        results = self._run(
            [(i, iter([c])) for i, c in enumerate(clips)], names=[f"waveform {i}" for i in range(len(clips))]
        )
        return [results[i] for i in range(len(clips))]

    def predict_file(self, path) -> TaggingResult:
        """Decode (any format), resample, downmix and tag a file, streaming long ones."""
        stream = stream_audio(path, self.sample_rate, max_seconds=self.max_seconds)
        result = self._run([(0, stream)], names=[str(path)])[0]
        result.source = str(path)
        return result

    def log_mel(self, waveform: np.ndarray) -> np.ndarray:
        """(frames, mel_bins) log-mel of a clip at the model's rate, before its normalisation: for display."""
        x = torch.as_tensor(np.asarray(waveform, np.float32), device=self.device)
        return self.model.display_log_mel(x).float().cpu().numpy()

    # ---------------------------------------------------------------- internals
    def _check_length(self, seconds: float, what: str):
        check_length(seconds, self.max_seconds, what)

    def _windows(self, blocks: Iterable[np.ndarray]) -> Iterator[Tuple[int, np.ndarray, int]]:
        """(start, window, total_so_far) over a stream of blocks; the last window is aligned to the end.

        Keeps at most one window plus one block in memory.
        """
        buffer, buffer_start, pos, total, emitted, last_end = np.zeros(0, np.float32), 0, 0, 0, False, 0
        for block in blocks:
            buffer = np.concatenate([buffer, block])
            total += len(block)
            while pos + self.window <= total:
                yield pos, buffer[pos - buffer_start : pos - buffer_start + self.window], total
                emitted, last_end = True, pos + self.window
                pos += self.hop
            keep_from = max(buffer_start, min(pos, total - self.window))
            buffer, buffer_start = buffer[keep_from - buffer_start :], keep_from
        if total == 0:
            return
        if not emitted:
            yield 0, buffer, total  # a clip shorter than one window is one window
        elif last_end < total:
            yield total - self.window, buffer[-self.window :], total

    def _forward(self, batch: List[np.ndarray]):
        out = self.backend.run(np.stack(batch))  # (batch, samples) -> the model's outputs as numpy
        scores, frames = out["clipwise_output"], out.get("framewise_output")
        if self.output_index is not None:
            scores = scores[:, self.output_index]
            frames = frames[..., self.output_index] if frames is not None else None
        return scores, out["embedding"], frames if frames is not None else [None] * len(batch)

    def _run(self, streams, names: Sequence[str]) -> dict:
        """Run every window of every (clip_id, blocks) stream, batching equal-length windows.

        `names[clip_id]` names the clip in errors.
        """
        accs, totals, pending = {}, {}, []

        def flush():
            if pending:
                scores, embeddings, frames = self._forward([w for _, _, w in pending])
                self._check_finite_outputs(pending, names, scores, embeddings, frames)
                for (cid, start, _), s, e, f in zip(pending, scores, embeddings, frames):
                    accs[cid].add(start, s, e, f)
                pending.clear()

        for cid, blocks in streams:
            accs[cid] = _Accumulator(self.model.audio.hop_size)
            for start, window, total in self._windows(blocks):
                if pending and (len(pending) == self.batch_size or len(pending[0][2]) != len(window)):
                    flush()
                pending.append((cid, start, window.copy()))
                totals[cid] = total
        flush()
        return {cid: self._result(acc, totals.get(cid, 0)) for cid, acc in accs.items()}

    def _check_finite_outputs(self, pending, names, scores, embeddings, frames):
        """A NaN must never become a score: name the clip and window, and say what in the audio caused it."""
        finite = np.isfinite(scores).all(axis=1) & np.isfinite(embeddings).all(axis=1)
        if frames[0] is not None:
            finite &= np.isfinite(frames).all(axis=(1, 2))
        if finite.all():
            return
        cid, start, window = pending[int(np.argmin(finite))]
        peak = float(np.max(np.abs(window)))
        cause = (
            f"its samples reach {peak:.3g}, far outside [-1, 1]: normalise the audio and try again"
            if peak > 1
            else "the audio there is ordinary, so the model or its checkpoint is broken: try another"
        )
        error = AudioError if peak > 1 else PannsError
        raise error(
            f"{names[cid]}: the model's scores for the window at {start / self.sample_rate:.2f} s are "
            f"not finite; {cause}"
        )

    def _result(self, acc: _Accumulator, total: int) -> TaggingResult:
        if not acc.scores:
            raise AudioError("the audio holds no samples")
        timeline = np.stack(acc.scores)
        framewise = acc.framewise(total)
        if self.consistent:
            base_mids = self.base_labels.mids
            timeline = make_consistent(timeline, base_mids)
            framewise = make_consistent(framewise, base_mids) if framewise is not None else None
        if self.head is not None:  # the head's classes, window by window from each window's embedding
            own = self.head.scores(np.stack(acc.embeddings))
            timeline = own if self.head_mode == "only" else np.concatenate([timeline, own], axis=1)
            framewise = None  # a head scores windows, not frames
        sr = self.sample_rate
        return TaggingResult(
            labels=self.labels,
            scores=timeline.max(axis=0),
            embedding=np.mean(acc.embeddings, axis=0),
            timeline=timeline,
            window_starts=np.asarray(acc.starts, float) / sr,
            window_seconds=min(self.window, total) / sr,
            duration=total / sr,
            framewise=framewise,
            frame_seconds=self.model.audio.hop_size / sr if framewise is not None else None,
            model=self.arch,
        )
