"""Tagging a live stream (a microphone, a sound card, a network feed) as it arrives, without Gradio.

Audio comes in blocks of any size, rate and channel count; a `RollingBuffer` mono-mixes and resamples
them to the model's rate (one continuous soxr stream per input rate, so block edges leave no clicks) and
keeps exactly the latest window. A `LiveTagger` tags that window at most every `update_seconds`; when
tagging is slower than that, updates are skipped instead of queued, so the answer always describes the
latest audio and a slow machine falls behind by one update, never by minutes. Its history keeps only the
last `history_seconds` of scores, so memory stays bounded however long it listens.

    live = LiveTagger(Tagger.from_pretrained("MobileNetV1"), window_seconds=5)
    live.feed(block, 48000)          # cheap: safe in a sound card's callback
    update = live.update()           # None when not due yet or another update is running
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import numpy as np

from panns_core.audio.decode import check_rate, pcm_to_float
from panns_core.audio.load import check_finite
from panns_core.errors import AudioError, ConfigError

__all__ = ["LIVE_WINDOWS", "LiveTagger", "LiveUpdate", "RollingBuffer"]

LIVE_WINDOWS = (2.0, 5.0, 10.0)  # the window lengths offered to listeners, seconds
MIN_SECONDS = 1.0  # audio needed before the first update (a shorter clip says little and some models refuse it)


def block_to_mono(block, what: str = "audio block") -> np.ndarray:
    """One block -> float32 mono. 2-D blocks are (frames, channels), as sound cards and Gradio give them.

    Not `to_float_mono`'s guess of the shorter axis: a 3-frame stereo block would be read the wrong way.
    """
    x = pcm_to_float(np.asarray(block), what)
    if x.ndim == 2:
        x = x.mean(axis=1, dtype=np.float32)
    elif x.ndim != 1:
        raise AudioError(f"{what} must be 1-D or 2-D (frames, channels), got shape {x.shape}")
    return np.ascontiguousarray(x, dtype=np.float32)


class RollingBuffer:
    """The latest `seconds` of a stream at `sample_rate`, fed with blocks of any rate and channel count.

    Memory is one window (a ring) plus the resampler's small state, whatever the stream's length.
    Thread-safe: feeds from a callback thread and reads from another never see a half-written block.
    """

    def __init__(self, seconds: float, sample_rate: int):
        if not seconds > 0:
            raise ConfigError(f"the live window must be positive seconds, got {seconds}")
        self.sample_rate = int(sample_rate)
        self.capacity = max(1, round(seconds * self.sample_rate))
        self._ring = np.zeros(self.capacity, np.float32)
        self._end = 0  # where the next sample goes in the ring
        self.total = 0  # samples (at the model's rate) written since the start
        self._resampler = None
        self._input_rate: Optional[int] = None
        self._lock = threading.Lock()

    @property
    def seconds(self) -> float:
        return self.capacity / self.sample_rate

    @property
    def filled(self) -> int:
        return min(self.total, self.capacity)

    def _to_model_rate(self, x: np.ndarray, rate: int) -> np.ndarray:
        if rate != self._input_rate:  # a new source (or its rate changed): a fresh continuous stream
            self._input_rate = rate
            self._resampler = None
            if rate != self.sample_rate:
                import soxr

                self._resampler = soxr.ResampleStream(rate, self.sample_rate, 1, dtype="float32", quality="HQ")
        return self._resampler.resample_chunk(x) if self._resampler is not None else x

    def feed(self, block, sample_rate: int) -> int:
        """Append a block (any size, rate, channels, int PCM or float); returns samples added at the model's rate.

        Bad blocks (NaN, wrong shape, a rate of 0) raise AudioError and leave the buffer as it was.
        """
        rate = check_rate(sample_rate, "audio block")
        if np.asarray(block).size == 0:
            return 0
        x = check_finite(block_to_mono(block), "audio block", rate)
        with self._lock:
            resampled = self._to_model_rate(x, rate)
            self._write(resampled)
            return len(resampled)

    def _write(self, x: np.ndarray) -> None:
        n = len(x)
        if n == 0:
            return
        self.total += n
        if n >= self.capacity:
            self._ring[:] = x[-self.capacity :]
            self._end = 0
            return
        first = min(n, self.capacity - self._end)
        self._ring[self._end : self._end + first] = x[:first]
        self._ring[: n - first] = x[first:]
        self._end = (self._end + n) % self.capacity

    def latest(self) -> np.ndarray:
        """A copy of the buffered audio, oldest first: (filled,) samples at the model's rate."""
        with self._lock:
            if self.total < self.capacity:
                return self._ring[: self.total].copy()
            return np.concatenate([self._ring[self._end :], self._ring[: self._end]])

    def clear(self) -> None:
        with self._lock:
            self._end, self.total = 0, 0
            self._resampler, self._input_rate = None, None


@dataclass(frozen=True)
class LiveUpdate:
    """One tagging of the window: scores over the label set, when it was heard and how long tagging took."""

    scores: np.ndarray  # (n_labels,)
    heard_until: float  # seconds of stream audio at the window's end
    window_seconds: float  # audio actually tagged (less than the window until it has filled)
    compute_seconds: float  # time spent tagging
    labels: object  # the tagger's LabelSet

    def top(self, k: int = 5) -> List[Tuple[str, str, float]]:
        """The k best classes as (display_name, mid, score)."""
        order = np.argsort(-self.scores, kind="stable")[:k]
        return [(self.labels.names[i], self.labels.mids[i], float(self.scores[i])) for i in order]


class LiveTagger:
    """A Tagger listening to a stream: a rolling window, updates at most every `update_seconds`, a bounded history.

    `feed` only buffers (cheap enough for a sound card's callback); `update` tags the window when one is due
    and no other update is running, and otherwise returns None at once (a skipped update, counted in
    `skipped`): the latest audio wins over a queue of stale windows. `feed_and_update` does both, for a
    caller (such as a web handler) that gets audio and wants an answer in one call.
    """

    def __init__(
        self,
        tagger,
        window_seconds: float = 10.0,
        update_seconds: float = 1.0,
        history_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not update_seconds > 0 or not history_seconds > 0:
            raise ConfigError(f"update and history must be positive seconds, got {update_seconds}, {history_seconds}")
        self.tagger = tagger
        self.sample_rate = tagger.sample_rate
        self.buffer = RollingBuffer(window_seconds, self.sample_rate)
        self.update_seconds = float(update_seconds)
        self.history_seconds = float(history_seconds)
        self.clock = clock
        # Updates are at least `update_seconds` apart, so this many cover the history; the cap holds even if
        # the stream's clock jumps.
        self._history: deque = deque(maxlen=int(np.ceil(history_seconds / update_seconds)) + 1)
        self._busy = threading.Lock()
        self._next_due = -np.inf
        self._regular_due = -np.inf  # when the next update would be without the slow-model drain
        self._drain_skip_counted = False
        self.updates = 0
        self.skipped = 0  # updates given up: another was running, or the model was too slow for the interval
        self.last: Optional[LiveUpdate] = None

    @property
    def labels(self):
        return self.tagger.labels

    def feed(self, block, sample_rate: int) -> int:
        return self.buffer.feed(block, sample_rate)

    def due(self) -> bool:
        return self.clock() >= self._next_due and self.buffer.filled >= min(
            self.buffer.capacity, MIN_SECONDS * self.sample_rate
        )

    def update(self, force: bool = False) -> Optional[LiveUpdate]:
        """Tag the latest window if an update is due (or `force`) and none is running; else None."""
        if not (force or self.due()):
            self._count_drain_skip()
            return None
        if not self._busy.acquire(blocking=False):
            self.skipped += 1
            return None
        try:
            if self.buffer.filled == 0:
                return None
            started = self.clock()
            heard_until = self.buffer.total / self.sample_rate
            window = self.buffer.latest()
            result = self.tagger.predict(window, self.sample_rate)
            finished = self.clock()
            taken = finished - started
            # A model slower than the interval gets half an interval after each update to drain what
            # arrived meanwhile, so the next update sees the latest audio instead of the next stale block.
            self._regular_due = started + self.update_seconds
            self._next_due = max(self._regular_due, finished + self.update_seconds / 2)
            self._drain_skip_counted = False
            update = LiveUpdate(
                scores=np.asarray(result.scores, np.float32),
                heard_until=heard_until,
                window_seconds=len(window) / self.sample_rate,
                compute_seconds=taken,
                labels=self.labels,
            )
            self._remember(update)
            self.updates += 1
            self.last = update
            return update
        finally:
            self._busy.release()

    def _count_drain_skip(self) -> None:
        """An update a fast model would have given now, given up to drain what arrived: counted once."""
        if not self._drain_skip_counted and self._regular_due <= self.clock() < self._next_due:
            self.skipped += 1
            self._drain_skip_counted = True

    def feed_and_update(self, block, sample_rate: int) -> Optional[LiveUpdate]:
        self.feed(block, sample_rate)
        return self.update()

    def _remember(self, update: LiveUpdate) -> None:
        self._history.append(update)
        while self._history and self._history[0].heard_until < update.heard_until - self.history_seconds:
            self._history.popleft()

    @property
    def history(self) -> List[LiveUpdate]:
        return list(self._history)

    def top_mids(self, k: int = 5) -> List[str]:
        """The k classes scoring highest anywhere in the history (the ones worth drawing)."""
        if not self._history:
            return []
        peak = np.max([u.scores for u in self._history], axis=0)
        return [self.labels.mids[i] for i in np.argsort(-peak, kind="stable")[:k]]

    def history_frame(self, k: Optional[int] = 5):
        """The history as a long table (seconds, mid, display_name, score), one row per update and class.

        `seconds` is the stream time at the window's end; `k` keeps the classes that peaked highest
        (None: every class)."""
        import pandas as pd

        updates = self.history
        mids = list(self.labels.mids) if k is None else self.top_mids(k)
        columns = [self.labels.index_of(mid) for mid in mids]
        rows = [
            (u.heard_until, mid, self.labels.names[c], float(u.scores[c]))
            for u in updates
            for mid, c in zip(mids, columns)
        ]
        return pd.DataFrame(rows, columns=["seconds", "mid", "display_name", "score"])

    def write_csv(self, path, k: Optional[int] = 5):
        """The history table as CSV at `path`; returns the path."""
        self.history_frame(k).to_csv(path, index=False)
        return path

    def reset(self) -> None:
        """Forget the audio and the history (a new recording starts from silence)."""
        with self._busy:
            self.buffer.clear()
            self._history.clear()
            self._next_due = -np.inf
            self.last = None
