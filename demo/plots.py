"""Pictures of one result: the log-mel spectrogram and the timeline of the top classes.

Figures are built with matplotlib's object API (no pyplot), so concurrent requests never
share a global current figure. The timeline is a long-format table for `gr.LinePlot`, with
its length capped so that a ten-minute clip does not ship tens of thousands of points.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

MAX_POINTS = 600  # per class on the timeline; longer series are max-pooled down to this


def spectrogram_figure(log_mel: np.ndarray, duration: float) -> Figure:
    """log_mel (frames, mel_bins) -> a figure with time in seconds across and mel bins up."""
    fig = Figure(figsize=(9, 2.6), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(log_mel.T, origin="lower", aspect="auto", cmap="magma",
                      extent=(0.0, max(duration, 1e-3), 0, log_mel.shape[1]), interpolation="nearest")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("mel bin")
    fig.colorbar(image, ax=ax, label="log power", pad=0.01)
    return fig


def _pool_max(values: np.ndarray, times: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """values (n, classes), times (n,) -> at most `max_points` rows; a peak never disappears."""
    n = len(times)
    if n <= max_points:
        return values, times
    edges = np.linspace(0, n, max_points + 1).astype(int)
    pooled = np.maximum.reduceat(values, edges[:-1], axis=0)
    return pooled, times[edges[:-1]]


def timeline_frame(result, mids: list[str]) -> pd.DataFrame:
    """Scores of the classes `mids` over time, long format (seconds, class, score).

    Frame by frame when the model gives frames; else one point per analysis window at its
    centre, or, for a clip analysed as a single window, a flat line across the whole clip."""
    cols = [result.labels.index_of(mid) for mid in mids]
    names = [result.labels.names[c] for c in cols]
    if result.framewise is not None:
        values = np.asarray(result.framewise)[:, cols]                       # (frames, k)
        times = np.arange(len(values)) * float(result.frame_seconds)
        values, times = _pool_max(values, times, MAX_POINTS)
    else:
        values = np.asarray(result.timeline)[:, cols]                         # (windows, k)
        starts = np.asarray(result.window_starts, dtype=float)
        if len(starts) == 1:
            times = np.array([0.0, float(result.duration)])
            values = np.repeat(values, 2, axis=0)
        else:
            times = np.minimum(starts + result.window_seconds / 2, result.duration)
            values, times = _pool_max(values, times, MAX_POINTS)
    return pd.DataFrame({
        "seconds": np.tile(times, len(cols)),
        "class": np.repeat(names, len(times)),
        "score": values.T.reshape(-1).astype(float),
    })
