"""The page: widgets, their layout, and the wiring to the demo's functions.

Everything that computes lives elsewhere (analysis, models, plots); the handlers here only
translate between widgets and those functions, turn the package's errors into `gr.Error`
messages for the visitor, and keep the app-layer state (loaded taggers, CSV folder).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import gradio as gr

from panns_core.errors import PannsError, WeightsUnavailableError
from panns_core.inference.onnx_runtime import default_threads
from panns_core.inference.thresholds import read_thresholds

from .analysis import DEFAULT_THRESHOLD, DEFAULT_TOP_K, analyse_wave, read_clip
from .compare import answer, comparison_frame, comparison_markdown
from .config import DemoConfig
from .examples import find_examples
from .gpu import on_gpu
from .live import build_live_tab
from .models import (
    ModelChoice,
    TaggerCache,
    can_fetch,
    compare_keys,
    failure_message,
    fetch,
    how_to_get,
    is_ready,
)
from .trust import AP_MEANING, LOW_AP, ModelTrust, TrustIndex

CSV_KEEP_SECONDS = 3600  # score files older than this are removed when the next one is written

INTRO = """# Which animal is that?
Upload a recording (WAV, FLAC, OGG, MP3), use the microphone or click an example. The PANNs audio
tagger scores the **65 animal classes** of AudioSet, says how far each answer can be trusted, shows
where each top class sits in the AudioSet ontology and *when* in the clip it is heard. Turn on
**Compare models** to hear what several models make of the same clip."""


class DemoState:
    """What the handlers share across requests: the picker's entries, the loaded taggers, a CSV folder."""

    def __init__(self, config: DemoConfig, choices: list[ModelChoice], cache: TaggerCache | None = None):
        self.config = config
        self.choices = {c.key: c for c in choices}
        self.compare_keys = compare_keys(config.compare, choices, config.checkpoint)
        # Requests run `concurrency` at a time: each ONNX Runtime session gets its share of the cores.
        self.cache = cache or TaggerCache(
            config.max_loaded,
            window_seconds=config.window_seconds,
            hop_seconds=config.hop_seconds,
            backend=config.backend,
            threads=default_threads(concurrency=config.concurrency),
            head=getattr(config, "head", None),
        )
        self.thresholds = read_thresholds(config.thresholds) if getattr(config, "thresholds", None) else {}
        self.trust_index = TrustIndex(config.results_dir)
        self.failures: dict[str, str] = {}  # picker key -> why its weights did not load (shown in the page)
        self.csv_root = Path(tempfile.mkdtemp(prefix="panns_demo_"))

    def tagger(self, key: str):
        """The loaded tagger of a ready choice; a failure is remembered for the page's status line.
        Never downloads: a choice that is not ready raises WeightsUnavailableError saying how to get it."""
        choice = self.choice(key)
        if not is_ready(choice):
            raise WeightsUnavailableError(how_to_get(choice))
        try:
            tagger = self.cache.get(choice)
        except PannsError as exc:
            self.failures[key] = failure_message(choice, exc)
            raise
        except Exception as exc:  # a loader bug: remembered for the page too, raised with its traceback
            self.failures[key] = f"{type(exc).__name__}: {exc} (a bug in the loader; please report it)"
            raise
        self.failures.pop(key, None)
        return tagger

    def trust(self, key: str, tagger) -> ModelTrust:
        """Per-class AP for this choice, with the classes' own thresholds when the demo was given a file."""
        return self._trust_of_runs(key, tagger).with_thresholds(self.thresholds)

    def _trust_of_runs(self, key: str, tagger) -> ModelTrust:
        """Per-class AP for this choice: the paper's for a released model, a matching run's for a file."""
        choice = self.choice(key)
        if choice.pretrained:
            return self.trust_index.for_released(choice.source)
        info = getattr(tagger, "info", None) or {}
        get = info.get if isinstance(info, dict) else lambda name, default=None: getattr(info, name, default)
        config = get("config") or {}
        run_id = (config.get("fit") or {}).get("run_id") if isinstance(config, dict) else None
        return self.trust_index.for_checkpoint(get("path") or choice.source, run_id)

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
    if is_ready(choice) and key in state.failures:  # here but unusable: say why (the button stays, to retry)
        return (
            f"{choice.about}\n\n**Could not load these weights:** {state.failures[key]}",
            gr.update(interactive=True),
            gr.update(visible=False),
        )
    if is_ready(choice):
        return choice.about, gr.update(interactive=True), gr.update(visible=False)
    return (
        f"{choice.about}\n\n{how_to_get(choice)}",
        gr.update(interactive=False),
        gr.update(visible=can_fetch(choice)),
    )


def not_ready_message(choice: ModelChoice) -> str:
    """Why an API client (the page's button is off then) gets no answer, and how to fix it."""
    fetch_hint = " Or choose it in the page and press Fetch weights." if can_fetch(choice) else ""
    return how_to_get(choice) + fetch_hint


RESULT_COUNT = 10  # labels, ontology, spectrogram, timeline, CSV, events, events CSV, comparison (2), summary


def clear_results():
    """Empties every result before a run, so a failed run never leaves the previous clip's results
    beside its error message."""
    return (None,) * RESULT_COUNT


def short_name(choice: ModelChoice) -> str:
    """The picker's label without its note: a released name, or a checkpoint's file name."""
    return choice.label.split(" (")[0]


def compare_order(state: DemoState) -> list[str]:
    """Compare-mode keys with the already loaded models first, so that with fewer loaded-model slots
    than compared models each run loads as few as it can (LRU would otherwise reload every one)."""
    loaded = set(state.cache.loaded_keys())
    return sorted(state.compare_keys, key=lambda k: k not in loaded)


def run_compare(state: DemoState, wave, sample_rate: int, top_k: int, threshold: float, known: dict | None = None):
    """Every compare-mode model on the decoded clip; (Markdown, table) in the configured order.
    `known`: results the page already has, by key (the chosen model's is not computed twice)."""
    known = known or {}

    def load(key):
        tagger = state.tagger(key)
        return tagger, state.trust(key, tagger)

    answers = {
        key: answer(key, short_name(state.choice(key)), load, wave, sample_rate, top_k, threshold, known.get(key))
        for key in compare_order(state)
    }
    ordered = [answers[k] for k in state.compare_keys]
    return comparison_markdown(ordered, threshold), comparison_frame(ordered)


def make_predict(state: DemoState):
    """The button's handler: clip + settings -> the page's outputs, errors as `gr.Error`."""

    @on_gpu
    def predict(audio_path, key, top_k, threshold, compare=False):
        choice = state.choice(key)
        if not is_ready(choice):  # analysing never starts a download: that is the fetch button's job
            raise gr.Error(not_ready_message(choice), print_exception=False)
        cfg = state.config
        try:
            tagger = state.tagger(key)
            started = time.perf_counter()
            wave = read_clip(audio_path, tagger.sample_rate, cfg.max_seconds)  # decoded once for every model
            result = analyse_wave(
                wave,
                Path(str(audio_path)).stem or "clip",
                tagger,
                top_k=int(top_k),
                threshold=float(threshold),
                out_dir=state.csv_dir(),
                timeline_window=cfg.timeline_window,
                timeline_hop_seconds=cfg.timeline_hop,
                trust=state.trust(key, tagger),
                started=started,
            )
        except PannsError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        comparison, table = "", None
        if compare:
            comparison, table = run_compare(
                state, wave, tagger.sample_rate, int(top_k), float(threshold), known={key: result.result}
            )
        return (
            result.top,
            result.ontology,
            result.spectrogram,
            result.timeline,
            str(result.csv_path),
            result.events,
            str(result.events_csv) if result.events_csv else None,
            comparison,
            table,
            result.summary,
        )

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


def example_path(clip: Path) -> str:
    """Relative to the working folder when inside it: a Space serves files from its repository folder
    and the page then shows no machine's absolute path."""
    try:
        return os.path.relpath(clip) if clip.resolve().is_relative_to(Path.cwd().resolve()) else str(clip)
    except ValueError:
        return str(clip)


def compare_label(state: DemoState) -> str:
    names = ", ".join(short_name(state.choice(k)) for k in state.compare_keys)
    return f"Compare models ({names})"


def build_demo(state: DemoState) -> gr.Blocks:
    cfg = state.config
    keys = list(state.choices)
    first_status, first_button, first_fetch = model_status(state, keys[0])
    # Gradio's own copies of uploads and answers are dropped after an hour, for the same reason.
    with gr.Blocks(title="PANNs animal sounds", delete_cache=(CSV_KEEP_SECONDS, CSV_KEEP_SECONDS)) as demo:
        gr.Markdown(INTRO)
        # Clip mode and live mode are two tabs; the clip widgets keep their place in this function.
        clip_mode = ExitStack()
        clip_mode.enter_context(gr.Tab("Clip", id="clip-mode", elem_id="clip-mode"))
        with gr.Row():
            with gr.Column(scale=1):
                audio = gr.Audio(sources=["upload", "microphone"], type="filepath", label="Clip", elem_id="clip")
                model = gr.Dropdown(
                    choices=[(c.label, c.key) for c in state.choices.values()], value=keys[0], label="Model"
                )
                status = gr.Markdown(first_status)
                fetch_button = gr.Button("Fetch weights", visible=first_fetch["visible"])
                with gr.Row():
                    top_k = gr.Slider(1, 20, value=DEFAULT_TOP_K, step=1, label="Top classes shown")
                    threshold = gr.Slider(0.0, 1.0, value=DEFAULT_THRESHOLD, step=0.01, label="Score threshold")
                compare = gr.Checkbox(False, label=compare_label(state), elem_id="compare")
                run = gr.Button("Analyse", variant="primary", interactive=first_button["interactive"])
                clips = find_examples(cfg.examples_dir)
                examples = None
                if clips:
                    examples = gr.Examples(
                        examples=[[example_path(c)] for c in clips],
                        inputs=[audio],
                        label="Example clips (click one to analyse it)",
                        api_visibility="private",
                        elem_id="examples",
                    )
            with gr.Column(scale=1):
                labels = gr.Label(label="Top animal classes", num_top_classes=20, elem_id="labels")
                summary = gr.Markdown(elem_id="summary")
                csv = gr.File(label="All 65 scores (CSV)")
        comparison = gr.Markdown(elem_id="comparison")
        with gr.Accordion("Comparison as a table", open=False):
            comparison_table = gr.Dataframe(label="One row per model and class", elem_id="comparison-table")
        ontology = gr.Markdown(elem_id="ontology")
        gr.Markdown(AP_MEANING + f" (Cut-off: AP below {LOW_AP:g}.)")
        with gr.Row():
            events = gr.Dataframe(
                label="Where each top class is heard (clips longer than one window)", elem_id="events", scale=3
            )
            events_csv = gr.File(label="Events (CSV)", scale=1)
        # No fixed height: with one, Gradio's chart keeps its size and clips the legend below it,
        # leaving visitors unable to tell the lines apart.
        timeline = gr.LinePlot(
            x="seconds",
            y="score",
            color="class",
            y_lim=[0, 1],
            label="Top classes over time (those at or above the threshold)",
            elem_id="timeline",
        )
        spectrogram = gr.Image(
            label="Log-mel spectrogram (time across, low to high frequencies upwards)",
            elem_id="spectrogram",
            interactive=False,
            format="png",
        )

        # Page-only events: kept out of the API (only the analysis is an endpoint for clients).
        status_outputs = [status, run, fetch_button]
        model.change(lambda k: model_status(state, k), inputs=model, outputs=status_outputs, api_visibility="private")
        demo.load(lambda k: model_status(state, k), inputs=model, outputs=status_outputs, api_visibility="private")
        fetch_button.click(
            make_fetch(state), inputs=model, outputs=status_outputs, concurrency_limit=1, api_visibility="private"
        )
        results = [
            labels,
            ontology,
            spectrogram,
            timeline,
            csv,
            events,
            events_csv,
            comparison,
            comparison_table,
            summary,
        ]
        predict = make_predict(state)
        inputs = [audio, model, top_k, threshold, compare]
        run.click(clear_results, outputs=results, api_visibility="private", queue=False).then(
            predict,
            inputs=inputs,
            outputs=results,
            api_name="analyse",
            concurrency_limit=cfg.concurrency,
            concurrency_id="analyse",
        )
        if examples is not None:  # one click on an example analyses it with the page's settings
            examples.load_input_event.then(clear_results, outputs=results, api_visibility="private", queue=False).then(
                predict, inputs=inputs, outputs=results, api_visibility="private", concurrency_id="analyse"
            )
        clip_mode.close()
        with gr.Tab("Live (microphone)", id="live-mode", elem_id="live-mode"):
            build_live_tab(state)
    demo.queue(max_size=cfg.queue_size)
    return demo
