"""Read line charts back from a raster image (matplotlib figures): axes, legend colours, line values.

Everything positional comes from the image: panels are the rectangles drawn by long dark spines,
tick marks are the short dark strokes just outside the spines, grid lines are long grey rows or
columns inside a panel, a legend frame is a rectangle of long light-grey runs and its entries are
the short saturated swatches inside it. Only the tick labels' *values* are given by the caller (we
do not OCR text): `Axis` is then the least-squares line through (tick pixel, tick value).

A line is followed by its colour: per pixel column, the rows whose colour is within a tolerance of
the line's colour, grouped into runs (a line crossing a column steeply covers several rows); the
value at an evaluated iteration is where the two straight segments on either side of that
iteration meet (a vertex is where lines join, cross and hide each other, so reading the segments a
few pixels away is more robust than reading the vertex column itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

DARK = 150  # R+G+B below this is a spine or tick stroke
WHITE = np.array([255.0, 255.0, 255.0])


def load_rgb(path) -> np.ndarray:
    """The image as an (H, W, 3) float array (alpha dropped: the study's PNGs are opaque)."""
    with Image.open(Path(path)) as im:
        return np.asarray(im.convert("RGB"), dtype=float)


def _runs(indices: np.ndarray, gap: int = 1) -> list[tuple[int, int]]:
    """Consecutive runs (first, last) in a sorted index array; `gap` is the largest step within a run."""
    if len(indices) == 0:
        return []
    breaks = np.nonzero(np.diff(indices) > gap)[0]
    starts = np.r_[indices[0], indices[breaks + 1]]
    ends = np.r_[indices[breaks], indices[-1]]
    return list(zip(starts.tolist(), ends.tolist()))


@dataclass(frozen=True)
class Box:
    """A panel's spines, in pixels: left/right columns, top/bottom rows."""

    left: int
    right: int
    top: int
    bottom: int


def find_panels(img: np.ndarray, min_fraction: float = 0.15) -> list[Box]:
    """Panels as rectangles of dark spines, in reading order (top to bottom, left to right).

    A spine row is a row where a dark run is longer than `min_fraction` of the image width; a spine
    column likewise. Each pair (top, bottom) of spine rows and (left, right) of spine columns whose
    four sides are dark forms a panel."""
    dark = img.sum(axis=2) < DARK
    h, w = dark.shape
    rows = [r for r in range(h) if _longest_run(dark[r]) > min_fraction * w]
    cols = [c for c in range(w) if _longest_run(dark[:, c]) > min_fraction * h]
    rows = [a for a, _ in _runs(np.array(rows))]
    cols = [a for a, _ in _runs(np.array(cols))]
    boxes = []
    for top, bottom in zip(rows[0::2], rows[1::2]):
        for left, right in zip(cols[0::2], cols[1::2]):
            sides = (
                dark[top, left:right].mean(),
                dark[bottom, left:right].mean(),
                dark[top:bottom, left].mean(),
                dark[top:bottom, right].mean(),
            )
            if min(sides) > 0.9:
                boxes.append(Box(left, right, top, bottom))
    return boxes


def _longest_run(mask: np.ndarray) -> int:
    runs = _runs(np.nonzero(mask)[0])
    return max((b - a + 1 for a, b in runs), default=0)


@dataclass(frozen=True)
class Axis:
    """value = slope * pixel + intercept, fitted through the tick marks; `residual_px` is the worst tick's misfit."""

    slope: float
    intercept: float
    residual_px: float
    tick_pixels: tuple[float, ...]

    def value(self, pixel):
        return self.slope * np.asarray(pixel, dtype=float) + self.intercept

    def pixel(self, value):
        return (np.asarray(value, dtype=float) - self.intercept) / self.slope


def tick_pixels(img: np.ndarray, box: Box, which: str) -> list[float]:
    """Centres of the tick marks outside a panel's bottom spine ('x') or left spine ('y').

    A tick is a short dark stroke in the 2..4 pixels beyond the spine; its centre is the mean of its
    pixel run."""
    dark = img.sum(axis=2) < DARK
    if which == "x":
        band = dark[box.bottom + 2 : box.bottom + 5, box.left - 2 : box.right + 3].all(axis=0)
        offset = box.left - 2
    else:
        band = dark[box.top - 2 : box.bottom + 3, box.left - 3 : box.left].all(axis=1)
        offset = box.top - 2
    return [offset + (a + b) / 2 for a, b in _runs(np.nonzero(band)[0])]


def calibrate(pixels, values, what: str) -> Axis:
    """Fit value = slope * pixel + intercept; refuse when tick marks and labels do not pair up."""
    pixels = np.asarray(pixels, dtype=float)
    values = np.asarray(values, dtype=float)
    if len(pixels) != len(values):
        raise ValueError(
            f"{what}: found {len(pixels)} tick marks at {pixels.tolist()} for {len(values)} tick labels "
            f"{values.tolist()}"
        )
    slope, intercept = np.polyfit(pixels, values, 1)
    residual = np.abs((values - intercept) / slope - pixels).max()
    if residual > 1.5:
        raise ValueError(f"{what}: tick marks are not evenly spaced (worst misfit {residual:.2f} px)")
    return Axis(float(slope), float(intercept), float(residual), tuple(pixels.tolist()))


def grid_lines(
    img: np.ndarray, box: Box, which: str, grey: float = 178.0, tol: float = 8.0, min_fraction: float = 0.5
) -> list[int]:
    """Inner grid lines of a panel: rows ('y') or columns ('x') mostly of one neutral grey."""
    inner = img[box.top + 1 : box.bottom, box.left + 1 : box.right]
    neutral = np.abs(inner - grey).max(axis=2) < tol
    share = neutral.mean(axis=1 if which == "y" else 0)
    offset = box.top + 1 if which == "y" else box.left + 1
    return [offset + round((a + b) / 2) for a, b in _runs(np.nonzero(share > min_fraction)[0])]


def legend_frame(
    img: np.ndarray, region: Box, lightest: float = 236.0, darkest: float = 195.0, min_len: int = 40
) -> Box | None:
    """A legend's frame within a region: its top and bottom edges are the first and last rows with a long run
    of matplotlib's light-grey frame colour; its sides are where those runs start and end. (The sides
    themselves are interrupted by grid lines showing through the translucent legend.)"""
    area = img[region.top : region.bottom + 1, region.left : region.right + 1]
    neutral = (area.max(axis=2) - area.min(axis=2)) < 3
    edge = neutral & (area[..., 0] >= darkest) & (area[..., 0] <= lightest)
    spans = []
    for r in range(edge.shape[0]):
        runs = [(a, b) for a, b in _runs(np.nonzero(edge[r])[0]) if b - a + 1 >= min_len]
        if runs:
            spans.append((r, min(a for a, _ in runs), max(b for _, b in runs)))
    if len(spans) < 2:
        return None
    return Box(
        region.left + min(s[1] for s in spans),
        region.left + max(s[2] for s in spans),
        region.top + spans[0][0],
        region.top + spans[-1][0],
    )


def legend_swatches(img: np.ndarray, frame: Box, min_len: int = 15, margin: int = 3) -> list[tuple[int, np.ndarray]]:
    """Legend entries inside a frame, top to bottom: (row, colour) of each horizontal run of at least
    `min_len` pixels of one non-white colour (text strokes are shorter, the frame is outside the margin)."""
    found = []
    for y in range(frame.top + margin, frame.bottom - margin + 1):
        row = img[y, frame.left + margin : frame.right - margin + 1]
        inked = row.min(axis=1) < 235
        for a, b in _runs(np.nonzero(inked)[0]):
            colours = row[a : b + 1]
            uniform = b - a + 1 >= min_len and np.abs(colours - colours[len(colours) // 2]).max() < 2
            if uniform and (not found or y - found[-1][0] > 2):
                found.append((y, colours[len(colours) // 2]))
    return found


def faint(colour: np.ndarray, alpha: float) -> np.ndarray:
    """The colour a line drawn with `alpha` over white shows."""
    return alpha * np.asarray(colour, dtype=float) + (1 - alpha) * WHITE


def column_hits(
    img: np.ndarray,
    box: Box,
    colour,
    tol: float,
    exclude: list[Box] = (),
    avoid=None,
    avoid_tol: float = 30.0,
    avoid_px: int = 2,
) -> dict[int, list[float]]:
    """Per pixel column inside the panel: centres of the runs of pixels within `tol` of `colour`.

    `exclude` boxes (a legend) are skipped. `avoid` is another colour (the solid line whose
    anti-aliased edge looks like its own faint series): matches within `avoid_px` rows of it are dropped."""
    inner = img[box.top + 1 : box.bottom, box.left + 1 : box.right]
    match = np.sqrt(((inner - np.asarray(colour, dtype=float)) ** 2).sum(axis=2)) < tol
    if avoid is not None:
        near = np.sqrt(((inner - np.asarray(avoid, dtype=float)) ** 2).sum(axis=2)) < avoid_tol
        grown = near.copy()
        for d in range(1, avoid_px + 1):
            grown[d:] |= near[:-d]
            grown[:-d] |= near[d:]
        match &= ~grown
    for ex in exclude:
        match[
            max(ex.top - box.top - 1, 0) : ex.bottom - box.top, max(ex.left - box.left - 1, 0) : ex.right - box.left
        ] = False
    hits = {}
    for c in range(match.shape[1]):
        runs = _runs(np.nonzero(match[:, c])[0])
        if runs:
            hits[box.left + 1 + c] = [box.top + 1 + (a + b) / 2 for a, b in runs]
    return hits


def value_at(
    track: dict[int, float], x: float, half_width: float, skip: float = 3.0, max_disagree: float = 6.0
) -> float | None:
    """The row where the segments left and right of column x meet at x (mean of the two fits; one side
    alone at the ends; the column itself when neither side has 3 points). None when the two sides
    miss each other by more than `max_disagree` pixels: the colour was not one straight line there
    (hidden under others, or mistaken for another), so the value cannot be read."""
    estimates = []
    for lo, hi in ((x - half_width, x - skip), (x + skip, x + half_width)):
        cols = [c for c in track if lo <= c <= hi]
        if len(cols) >= 3:
            slope, intercept = np.polyfit(cols, [track[c] for c in cols], 1)
            estimates.append(slope * x + intercept)
    if len(estimates) == 2 and abs(estimates[0] - estimates[1]) > max_disagree:
        return None
    if estimates:
        return float(np.mean(estimates))
    near = [track[c] for c in track if abs(c - x) <= skip]
    return float(np.mean(near)) if near else None


def single_track(hits: dict[int, list[float]]) -> dict[int, float]:
    """Columns where the colour forms exactly one run: the line's centre row there."""
    return {c: rows[0] for c, rows in hits.items() if len(rows) == 1}


def split_tracks(hits: dict[int, list[float]]) -> tuple[dict[int, float], dict[int, float]]:
    """Two lines of one colour: (upper, lower) centre rows in the columns where both are seen apart."""
    upper = {c: min(rows) for c, rows in hits.items() if len(rows) == 2}
    lower = {c: max(rows) for c, rows in hits.items() if len(rows) == 2}
    return upper, lower


def last_column(hits: dict[int, list[float]], min_gap: int = 25) -> int | None:
    """The rightmost column of the line's main stretch: other lines hide it for a few pixels here and
    there, so only stray pixels beyond a gap of `min_gap` columns are ignored."""
    cols = sorted(hits)
    if not cols:
        return None
    runs = _runs(np.array(cols), gap=min_gap)
    longest = max(runs, key=lambda r: r[1] - r[0])
    return longest[1]
