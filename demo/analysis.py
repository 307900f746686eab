"""The prediction function behind the page's button: one clip in, everything the page shows out.

It holds no model code: decoding, resampling and inference are the core package's (`load_audio`,
`Tagger`); this turns a `Tagger` result into what a visitor reads (top labels with how far each can
be trusted, ontology paths, spectrogram, timeline, events of long clips (where each top class is
heard), CSVs, time and device).
Bad input raises `AudioError` with a message meant for the visitor; the page shows it and keeps serving.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from panns_core import Tagger
from panns_core.audio.load import load_audio
from panns_core.errors import AudioError
from panns_core.labels.ontology import ontology_path

from .events import EVENT_TABLE_COLUMNS, events_table
from .plots import spectrogram_image, timeline_frame
from .trust import NO_TRUST, ModelTrust, trust_cell

SILENCE_PEAK = 1e-4  # below this peak amplitude (about -80 dBFS) a clip counts as silent
TIMELINE_CLASSES = 5  # more lines than this make the timeline unreadable
DEFAULT_TOP_K = 5
DEFAULT_THRESHOLD = 0.1  # the page's slider starts here too: one value for the page, the API and the tests
TIMELINE_WINDOW = 2.0  # seconds: short enough to say when a dog barks, long enough for the CNNs
TIMELINE_HOP = 0.5
BACKEND_NAMES = {"onnx": "ONNX Runtime", "torch": "PyTorch"}  # for the summary line
MAX_TIMELINE_WINDOWS = 60  # on long clips the hop grows so the timeline pass never exceeds this many windows


@dataclass
class Analysis:
    """What the page shows for one clip."""

    top: dict[str, float]  # gr.Label value: display name -> score, best first
    ontology: str  # Markdown: each top label with its AP and ontology path
    spectrogram: np.ndarray  # RGB image of the log-mel spectrogram
    timeline: pd.DataFrame  # long format: seconds, class, score (for gr.LinePlot)
    csv_path: Path  # all 65 scores
    events: pd.DataFrame  # class, start_s, end_s, peak_score, mean_score: where each top class is heard
    events_csv: Path | None  # the same table as a file; None when there is none
    summary: str  # Markdown: time taken and device
    model_seconds: float  # time inside the tagger, both passes (decode and plots excluded)
    result: object = None  # the labels pass's TaggingResult (compare mode reuses it)


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


def format_threshold(threshold: float) -> str:
    """Every digit the visitor (or an API client) gave: 0.9999 must not read as 1.00."""
    return format(float(threshold), ".6g")


def _below(score: float, decimals: int) -> str:
    """`score` rounded down, so that a best score under the threshold never prints as reaching it."""
    return f"{math.floor(score * 10**decimals) / 10**decimals:.{decimals}f}"


def ontology_markdown(
    top: list[tuple[str, str, float]], threshold: float, best: tuple[str, str, float], trust: ModelTrust = NO_TRUST
) -> str:
    """A table of the top labels with the model's AP for each (source on hover) and their AudioSet
    ontology paths, or why there is none."""

    if not top:
        shown = format_threshold(threshold)
        decimals = min(6, max(3, len(shown.partition(".")[2])))
        return (
            f"No animal class scored {shown} or more; the highest was **{best[0]}** at "
            f"{_below(best[2], decimals)}. Lower the threshold to see more (the timeline too "
            "draws only classes that reach it)."
        )
    rows = ["| # | Class | Score | How far to trust it | Place in the ontology |", "|---|---|---|---|---|"]
    for rank, (name, mid, score) in enumerate(top, 1):
        rows.append(
            f"| {rank} | {name} | {score:.3f} | {trust_cell(trust.of(mid), score)} | {' > '.join(ontology_path(mid))} |"
        )
    return "\n".join(rows)


def write_scores_csv(result, out_dir: Path, stem: str) -> Path:
    """All scores of the label set, best first, as a CSV the visitor downloads."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stem}_animal_scores.csv"
    result.to_frame().sort_values("score", ascending=False, kind="stable").to_csv(path, index=False)
    return path


def timeline_hop(duration: float, window: float, hop: float) -> float:
    """`hop`, or a coarser one that keeps the timeline pass to MAX_TIMELINE_WINDOWS windows."""
    span = max(duration - window, 0.0)
    return max(hop, span / (MAX_TIMELINE_WINDOWS - 1))


def timeline_tagger(tagger: Tagger, duration: float, window: float, hop: float) -> Tagger | None:
    """A second view of `tagger`'s model (same weights, nothing loaded again) with the timeline's
    finer windows; None when the labels' own pass already is the timeline: frame scores, the same
    windows, or a clip no longer than one timeline window."""
    hop = timeline_hop(duration, window, hop)
    sr = tagger.sample_rate
    same = (round(window * sr), round(hop * sr)) == (tagger.window, tagger.hop)
    if same or duration <= window:
        return None
    return Tagger(
        tagger.model,
        label_set=getattr(tagger, "base_labels", tagger.labels),
        head_labels=tagger.head_labels,
        head=getattr(tagger, "head", None),  # a probe head's classes over time too
        head_mode=getattr(tagger, "head_mode", "add"),
        device=str(tagger.device),
        window_seconds=window,
        hop_seconds=hop,
        batch_size=tagger.batch_size,
        precision=tagger.precision,
        consistent=tagger.consistent,
        backend=tagger.backend,
    )  # shares the exported graph


def describe_timeline(result) -> str:
    if result.framewise is not None:
        return "frame by frame"
    n = len(result.window_starts)
    if n == 1:
        return "1 window (the whole clip)"
    step = float(np.median(np.diff(result.window_starts)))
    return f"{n} windows of {result.window_seconds:g} s every {step:.2g} s"


def write_events_csv(events: pd.DataFrame, out_dir: Path, stem: str) -> Path | None:
    if events.empty:
        return None
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stem}_events.csv"
    events.to_csv(path, index=False)
    return path


def analyse(path, tagger, *, max_seconds: float = 600.0, **options) -> Analysis:
    """Decode the clip at `path` and run `analyse_wave` on it (see there for the options)."""
    started = time.perf_counter()
    wave = read_clip(path, tagger.sample_rate, max_seconds)
    return analyse_wave(wave, Path(str(path)).stem or "clip", tagger, started=started, **options)


def analyse_wave(
    wave: np.ndarray,
    stem: str,
    tagger,
    *,
    top_k: int = DEFAULT_TOP_K,
    threshold: float = DEFAULT_THRESHOLD,
    out_dir: Path,
    timeline_window: float = TIMELINE_WINDOW,
    timeline_hop_seconds: float = TIMELINE_HOP,
    trust: ModelTrust = NO_TRUST,
    started: float | None = None,
) -> Analysis:
    """Run `tagger` on a decoded clip (at its sample rate) and build every output of the page.

    The labels, the CSV and the ontology come from the whole-clip scores of `tagger`'s windows;
    the timeline and the events from a second pass with short windows (unless the model gives
    frame scores). Events are listed only for a clip longer than one of `tagger`'s windows."""
    started = time.perf_counter() if started is None else started
    model_start = time.perf_counter()
    result = tagger.predict(wave, tagger.sample_rate)
    labels_seconds = time.perf_counter() - model_start

    over_time, timeline_seconds = result, 0.0
    if result.framewise is None:
        view = timeline_tagger(tagger, result.duration, timeline_window, timeline_hop_seconds)
        if view is not None:
            pass_start = time.perf_counter()
            over_time = view.predict(wave, tagger.sample_rate)
            timeline_seconds = time.perf_counter() - pass_start

    top = result.top(int(top_k), threshold=float(threshold))
    best = result.top(1)[0]
    timeline_mids = [mid for _, mid, _ in top[:TIMELINE_CLASSES]]  # only classes that reach the threshold
    csv_path = write_scores_csv(result, out_dir, stem)
    spectrogram = spectrogram_image(tagger.log_mel(wave))
    timeline = timeline_frame(over_time, timeline_mids)
    long_clip = len(wave) > tagger.window
    events = (
        events_table(over_time, [mid for _, mid, _ in top], float(threshold))
        if long_clip
        else pd.DataFrame(columns=EVENT_TABLE_COLUMNS)
    )
    total = time.perf_counter() - started
    model_ms = f"model {labels_seconds * 1000:.0f} ms" + (
        f" + {timeline_seconds * 1000:.0f} ms for the timeline" if over_time is not result else ""
    )
    summary = (
        f"**{tagger.arch}** on **{tagger.device}** ({BACKEND_NAMES.get(tagger.backend_name, tagger.backend_name)}): "
        f"{model_ms}, "
        f"with decoding and pictures {total * 1000:.0f} ms, clip {result.duration:.1f} s, "
        f"timeline {describe_timeline(over_time)}."
    )
    return Analysis(
        top={name: float(score) for name, _, score in top},
        ontology=ontology_markdown(top, threshold, best, trust),
        spectrogram=spectrogram,
        timeline=timeline,
        csv_path=csv_path,
        events=events,
        events_csv=write_events_csv(events, out_dir, stem),
        summary=summary,
        model_seconds=labels_seconds + timeline_seconds,
        result=result,
    )
