"""Pictures of one result: the log-mel spectrogram and the timeline of the top classes.

The spectrogram is a plain RGB image (colours looked up in a table, no figure drawn): a
matplotlib figure rendered to PNG cost more than a quarter of the model's own time per request.
The timeline is a long-format table for `gr.LinePlot`, with its length capped so that a
ten-minute clip does not ship tens of thousands of points.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps

MAX_POINTS = 600  # per class on the timeline; longer series are max-pooled down to this
MAX_COLUMNS = 1000  # spectrogram frames across; longer clips are averaged down to this
ROW_HEIGHT = 2  # pixels per mel bin, so 64 bins make a 128-pixel-high picture
_MAGMA = (colormaps["magma"](np.linspace(0.0, 1.0, 256))[:, :3] * 255).astype(np.uint8)  # (256, 3)


def spectrogram_image(log_mel: np.ndarray) -> np.ndarray:
    """log_mel (frames, mel_bins) -> uint8 RGB image (mel_bins * ROW_HEIGHT, <= MAX_COLUMNS, 3):
    time across, low bins at the bottom, loudness in the magma colours (1st..99th percentile)."""
    frames = len(log_mel)
    if frames > MAX_COLUMNS:
        edges = np.linspace(0, frames, MAX_COLUMNS + 1).astype(int)
        log_mel = np.add.reduceat(log_mel, edges[:-1], axis=0) / np.diff(edges)[:, None]
    low, high = np.percentile(log_mel, [1, 99])
    level = np.clip((log_mel - low) / max(high - low, 1e-6), 0.0, 1.0)
    index = (level.T[::-1] * 255).astype(np.uint8)  # (mel_bins, columns), high bins on top
    return np.repeat(_MAGMA[index], ROW_HEIGHT, axis=0)


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
        values = np.asarray(result.framewise)[:, cols]  # (frames, k)
        times = np.arange(len(values)) * float(result.frame_seconds)
        values, times = _pool_max(values, times, MAX_POINTS)
    else:
        values = np.asarray(result.timeline)[:, cols]  # (windows, k)
        starts = np.asarray(result.window_starts, dtype=float)
        if len(starts) == 1:
            times = np.array([0.0, float(result.duration)])
            values = np.repeat(values, 2, axis=0)
        else:
            times = np.minimum(starts + result.window_seconds / 2, result.duration)
            values, times = _pool_max(values, times, MAX_POINTS)
    return pd.DataFrame(
        {
            "seconds": np.tile(times, len(cols)),
            "class": np.repeat(names, len(times)),
            "score": values.T.reshape(-1).astype(float),
        }
    )
