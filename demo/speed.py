"""How fast each model is on this server: one 10-s window of silence, timed once per model.

Live mode needs a model that tags a window in less than the update interval; what keeps up depends on the
machine (a free Space has 2 CPU cores), so the figure is measured here rather than quoted, and shown in the
live model picker ("MobileNetV1 · 25 ms"). Kept apart from demo/models.py: timing is live mode's concern.
"""

from __future__ import annotations

import statistics
import threading
import time

import numpy as np

TIMED_SECONDS = 10.0  # the PANNs training window: the figure the picker shows
REPEATS = 3  # timed runs after one warm-up (the first ONNX Runtime run allocates and is slower)


def time_per_window(tagger, seconds: float = TIMED_SECONDS, repeats: int = REPEATS) -> float:
    """Median seconds for `tagger` to tag `seconds` of silence, after one untimed warm-up run."""
    silence = np.zeros(round(seconds * tagger.sample_rate), np.float32)
    tagger.predict(silence, tagger.sample_rate)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        tagger.predict(silence, tagger.sample_rate)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def format_ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.0f} s"


class SpeedTable:
    """Seconds per 10-s window by picker key, measured once per model (the first time it is loaded)."""

    def __init__(self, timer=time_per_window):
        self.timer = timer
        self._seconds: dict[str, float] = {}
        self._lock = threading.Lock()  # two sessions loading one model time it once

    def measure(self, key: str, tagger) -> float:
        with self._lock:
            if key not in self._seconds:
                self._seconds[key] = self.timer(tagger)
            return self._seconds[key]

    def get(self, key: str) -> float | None:
        return self._seconds.get(key)

    def label(self, key: str, name: str) -> str:
        """The picker's text: 'MobileNetV1 · 25 ms', or the bare name until the model has been timed."""
        seconds = self.get(key)
        return name if seconds is None else f"{name} · {format_ms(seconds)}"

    def fastest(self, keys: list[str]) -> str | None:
        """The quickest timed key among `keys`; None when none has been timed."""
        timed = [k for k in keys if k in self._seconds]
        return min(timed, key=self._seconds.__getitem__) if timed else None

    def keeps_up(self, key: str, update_seconds: float) -> bool | None:
        seconds = self.get(key)
        return None if seconds is None else seconds <= update_seconds

    def note(self, key: str, name: str, update_seconds: float) -> str:
        """One line for the page: whether this model can give an answer every `update_seconds` here."""
        seconds = self.get(key)
        if seconds is None:
            return f"{name} has not been timed on this server yet; its speed shows once it is loaded."
        took = f"{name} takes {format_ms(seconds)} per 10-s window on this server"
        if seconds <= update_seconds:
            return f"{took}: it keeps up with an update every {update_seconds:g} s."
        return (
            f"⚠ {took}, longer than the {update_seconds:g}-s update interval: it cannot keep up, so updates "
            "will be skipped (each still describes the latest audio). Pick a faster model for smoother updates."
        )
