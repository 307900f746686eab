"""The prediction function behind the page's button: one clip in, everything the page shows out.

It holds no model code: decoding, resampling and inference are the core package's (`load_audio`,
`Tagger`); this turns a `Tagger` result into what a visitor reads (top labels, ontology paths,
spectrogram, timeline, CSV, time and device). Bad input raises `AudioError` with a message
meant for the visitor; the page shows it and keeps serving.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from panns_core.audio import load_audio
from panns_core.errors import AudioError
from panns_core.ontology import ontology_path

from .plots import spectrogram_figure, timeline_frame

SILENCE_PEAK = 1e-4     # below this peak amplitude (about -80 dBFS) a clip counts as silent
TIMELINE_CLASSES = 5    # more lines than this make the timeline unreadable


@dataclass
class Analysis:
    """What the page shows for one clip."""

    top: dict[str, float]          # gr.Label value: display name -> score, best first
    ontology: str                  # Markdown: each top label with its ontology path
    spectrogram: object            # matplotlib Figure of the log-mel spectrogram
    timeline: pd.DataFrame         # long format: seconds, class, score (for gr.LinePlot)
    csv_path: Path                 # all 65 scores
    summary: str                   # Markdown: time taken and device
    model_seconds: float           # time inside the tagger (decode and plots excluded)


def read_clip(path: str | Path | None, sample_rate: int, max_seconds: float) -> np.ndarray:
    """Decode to mono float32 at `sample_rate`; refuse what cannot be analysed, with a reason."""
    if path is None or str(path) == "":
        raise AudioError("No clip given: upload a recording or use the microphone first.")
    # The core refuses missing, empty, undecodable, corrupt and over-long files (the length from the
    # header, before decoding); silence is valid audio to it, but nothing to show a visitor.
    wave = load_audio(path, sample_rate=sample_rate, max_seconds=max_seconds)
    if float(np.max(np.abs(wave))) < SILENCE_PEAK:
        raise AudioError("The clip is silent: there is nothing to recognise.")
    return wave


def ontology_markdown(top: list[tuple[str, str, float]], threshold: float, best: tuple[str, str, float]) -> str:
    """A table of the top labels with their AudioSet ontology paths, or why there is none."""
    if not top:
        return (f"No animal class scored {threshold:.2f} or more; the highest was "
                f"**{best[0]}** at {best[2]:.3f}. Lower the threshold to see more.")
    rows = ["| # | Class | Score | Place in the ontology |", "|---|---|---|---|"]
    for rank, (name, mid, score) in enumerate(top, 1):
        rows.append(f"| {rank} | {name} | {score:.3f} | {' > '.join(ontology_path(mid))} |")
    return "\n".join(rows)


def write_scores_csv(result, out_dir: Path, stem: str) -> Path:
    """All scores of the label set, best first, as a CSV the visitor downloads."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stem}_animal_scores.csv"
    result.to_frame().sort_values("score", ascending=False, kind="stable").to_csv(path, index=False)
    return path


def analyse(path, tagger, *, top_k: int = 5, threshold: float = 0.1, max_seconds: float = 600.0,
            out_dir: Path) -> Analysis:
    """Run `tagger` on the clip at `path` and build every output of the page."""
    started = time.perf_counter()
    wave = read_clip(path, tagger.sample_rate, max_seconds)
    model_start = time.perf_counter()
    result = tagger.predict(wave, tagger.sample_rate)
    model_seconds = time.perf_counter() - model_start

    top = result.top(int(top_k), threshold=float(threshold))
    best = result.top(1)[0]
    timeline_mids = [mid for _, mid, _ in result.top(min(int(top_k), TIMELINE_CLASSES))]
    stem = Path(str(path)).stem or "clip"
    csv_path = write_scores_csv(result, out_dir, stem)
    spectrogram = spectrogram_figure(tagger.log_mel(wave), result.duration)
    timeline = timeline_frame(result, timeline_mids)
    total = time.perf_counter() - started
    kind = "frame by frame" if result.framewise is not None else f"{len(result.window_starts)} window(s)"
    summary = (f"**{tagger.arch}** on **{tagger.device}**: model {model_seconds * 1000:.0f} ms, "
               f"with decoding and pictures {total * 1000:.0f} ms, clip {result.duration:.1f} s, timeline {kind}.")
    return Analysis(
        top={name: float(score) for name, _, score in top},
        ontology=ontology_markdown(top, threshold, best),
        spectrogram=spectrogram,
        timeline=timeline,
        csv_path=csv_path,
        summary=summary,
        model_seconds=model_seconds,
    )
