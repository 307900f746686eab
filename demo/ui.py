"""The page: widgets, their layout, and the wiring to the demo's functions.

Everything that computes lives elsewhere (analysis, models, plots); the handlers here only
translate between widgets and those functions, turn the package's errors into `gr.Error`
messages for the visitor, and keep the app-layer state (loaded taggers, CSV folder).
"""
from __future__ import annotations

import shutil
import tempfile
import time
import uuid
from pathlib import Path

import gradio as gr

from panns_core.errors import PannsError

from .analysis import DEFAULT_THRESHOLD, DEFAULT_TOP_K, analyse
from .config import DemoConfig
from .examples import find_examples
from .gpu import on_gpu
from .models import ModelChoice, TaggerCache, can_fetch, failure_message, fetch, how_to_get, is_ready

CSV_KEEP_SECONDS = 3600  # score files older than this are removed when the next one is written

INTRO = """# Which animal is that?
Upload a recording (WAV, FLAC, OGG, MP3) or use the microphone. The PANNs audio tagger scores the
**65 animal classes** of AudioSet, shows where each top class sits in the AudioSet ontology and
*when* in the clip it is heard."""


class DemoState:
    """What the handlers share across requests: the picker's entries, the loaded taggers, a CSV folder."""

    def __init__(self, config: DemoConfig, choices: list[ModelChoice], cache: TaggerCache | None = None):
        self.config = config
        self.choices = {c.key: c for c in choices}
        self.cache = cache or TaggerCache(config.max_loaded, window_seconds=config.window_seconds,
                                          hop_seconds=config.hop_seconds)
        self.csv_root = Path(tempfile.mkdtemp(prefix="panns_demo_"))

    def choice(self, key: str) -> ModelChoice:
        if key not in self.choices:
            raise gr.Error(f"Unknown model {key!r}; pick one from the list.")
        return self.choices[key]

    def csv_dir(self) -> Path:
        """A fresh folder per request (two visitors' files of the same name never collide);
        folders older than CSV_KEEP_SECONDS go first, so a long-running Space does not fill its disk."""
        cutoff = time.time() - CSV_KEEP_SECONDS
        for old in self.csv_root.iterdir():
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        return self.csv_root / uuid.uuid4().hex


def model_status(state: DemoState, key: str) -> tuple[str, dict, dict]:
    """Markdown about the chosen model, and whether the analyse and fetch buttons can be used.
    The fetch button shows only when a fetch can work (never offline, never for a local file)."""
    choice = state.choice(key)
    if is_ready(choice):
        return choice.about, gr.update(interactive=True), gr.update(visible=False)
    return (f"{choice.about}\n\n{how_to_get(choice)}", gr.update(interactive=False),
            gr.update(visible=can_fetch(choice)))


def not_ready_message(choice: ModelChoice) -> str:
    """Why an API client (the page's button is off then) gets no answer, and how to fix it."""
    fetch_hint = " Or choose it in the page and press Fetch weights." if can_fetch(choice) else ""
    return how_to_get(choice) + fetch_hint


RESULT_COUNT = 6  # labels, ontology, spectrogram, timeline, CSV, summary


def clear_results():
    """Empties every result before a run, so a failed run never leaves the previous clip's results
    beside its error message."""
    return (None,) * RESULT_COUNT


def make_predict(state: DemoState):
    """The button's handler: clip + settings -> the six outputs, errors as `gr.Error`."""

    @on_gpu
    def predict(audio_path, key, top_k, threshold):
        choice = state.choice(key)
        if not is_ready(choice):  # analysing never starts a download: that is the fetch button's job
            raise gr.Error(not_ready_message(choice), print_exception=False)
        cfg = state.config
        try:
            tagger = state.cache.get(choice)
            result = analyse(audio_path, tagger, top_k=int(top_k), threshold=float(threshold),
                             max_seconds=cfg.max_seconds, out_dir=state.csv_dir(),
                             timeline_window=cfg.timeline_window, timeline_hop_seconds=cfg.timeline_hop)
        except PannsError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        return (result.top, result.ontology, result.spectrogram, result.timeline,
                str(result.csv_path), result.summary)

    return predict


def make_fetch(state: DemoState):
    """The fetch button's handler: download the chosen weights with a progress bar in the page."""

    def fetch_weights(key, progress=gr.Progress(track_tqdm=True)):
        choice = state.choice(key)
        progress(0, desc=f"Fetching {choice.label}")
        try:
            fetch(choice)
        except PannsError as exc:
            raise gr.Error(failure_message(choice, exc), print_exception=False) from exc
        return model_status(state, key)

    return fetch_weights


def build_demo(state: DemoState) -> gr.Blocks:
    cfg = state.config
    keys = list(state.choices)
    first_status, first_button, first_fetch = model_status(state, keys[0])
    # Gradio's own copies of uploads and answers are dropped after an hour, for the same reason.
    with gr.Blocks(title="PANNs animal sounds", delete_cache=(CSV_KEEP_SECONDS, CSV_KEEP_SECONDS)) as demo:
        gr.Markdown(INTRO)
        with gr.Row():
            with gr.Column(scale=1):
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Clip", elem_id="clip")
                model = gr.Dropdown(choices=[(c.label, c.key) for c in state.choices.values()],
                                    value=keys[0], label="Model")
                status = gr.Markdown(first_status)
                fetch_button = gr.Button("Fetch weights", visible=first_fetch["visible"])
                with gr.Row():
                    top_k = gr.Slider(1, 20, value=DEFAULT_TOP_K, step=1, label="Top classes shown")
                    threshold = gr.Slider(0.0, 1.0, value=DEFAULT_THRESHOLD, step=0.01, label="Score threshold")
                run = gr.Button("Analyse", variant="primary", interactive=first_button["interactive"])
                clips = find_examples(cfg.examples_dir)
                if clips:
                    gr.Examples(examples=[[str(c)] for c in clips], inputs=[audio], label="Example clips")
            with gr.Column(scale=1):
                labels = gr.Label(label="Top animal classes", num_top_classes=20, elem_id="labels")
                summary = gr.Markdown(elem_id="summary")
                csv = gr.File(label="All 65 scores (CSV)")
        ontology = gr.Markdown()
        # No fixed height: with one, Gradio's chart keeps its size and clips the legend below it,
        # leaving visitors unable to tell the lines apart.
        timeline = gr.LinePlot(x="seconds", y="score", color="class", y_lim=[0, 1],
                               label="Top classes over time (those at or above the threshold)",
                               elem_id="timeline")
        spectrogram = gr.Plot(label="Log-mel spectrogram", elem_id="spectrogram")

        # Page-only events: kept out of the API (only the analysis is an endpoint for clients).
        status_outputs = [status, run, fetch_button]
        model.change(lambda k: model_status(state, k), inputs=model, outputs=status_outputs,
                     api_visibility="private")
        demo.load(lambda k: model_status(state, k), inputs=model, outputs=status_outputs, api_visibility="private")
        fetch_button.click(make_fetch(state), inputs=model, outputs=status_outputs, concurrency_limit=1,
                           api_visibility="private")
        results = [labels, ontology, spectrogram, timeline, csv, summary]
        run.click(clear_results, outputs=results, api_visibility="private", queue=False).then(
            make_predict(state), inputs=[audio, model, top_k, threshold], outputs=results,
            api_name="analyse", concurrency_limit=cfg.concurrency)
    demo.queue(max_size=cfg.queue_size)
    return demo
