"""Live mode: the microphone streams to the server, which tags the latest window about once a second.

A thin wire around `panns_core.inference.live.LiveTagger`: each visitor's session holds one LiveTagger (its
rolling window and last minute of scores) in a `gr.State`, freed when the visitor stops, leaves or the
state expires. The stream handler feeds each chunk and answers only when an update was due and ran; the
rest of the time it sends nothing (`gr.skip()`), so a slow model skips updates instead of queueing them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import gradio as gr
import pandas as pd

from panns_core.errors import PannsError
from panns_core.inference.live import LIVE_WINDOWS, LiveTagger

from .analysis import DEFAULT_THRESHOLD, DEFAULT_TOP_K, ontology_markdown
from .speed import SpeedTable, format_ms

UPDATE_SECONDS = 1.0  # at most one answer a second per visitor
STREAM_EVERY = 0.5  # the browser sends a chunk this often
TIME_LIMIT = 300  # seconds one visitor may stream at a time: nobody holds the live queue for good
STATE_TTL = TIME_LIMIT + 120  # a session's buffer is dropped this long after its last chunk, whatever happened
CHART_CLASSES = 5

LIVE_NOTE = (
    "**Live mode** tags what your microphone hears, about once a second, over the last few seconds of sound "
    "held in this server's memory: nothing is recorded or stored, and the audio is forgotten when you stop "
    f"or leave (at most {TIME_LIMIT // 60} minutes at a time)."
)


@dataclass
class LiveSession:
    """One visitor's listening: the model's picker key, and its LiveTagger (window + last minute)."""

    key: str
    live: LiveTagger
    trust: object

    def close(self) -> None:
        self.live.reset()


def free_session(session: LiveSession | None) -> None:
    """gr.State's delete_callback: the visitor left or the state expired; drop the audio now."""
    if session is not None:
        session.close()


def picker_choices(state, speeds: SpeedTable) -> list[tuple[str, str]]:
    from .ui import short_name

    return [(speeds.label(key, short_name(choice)), key) for key, choice in state.choices.items()]


def default_live_key(state, speeds: SpeedTable) -> str:
    """The fastest timed model; before any is timed, a ready MobileNetV1, else the page's first model."""
    from .models import is_ready

    keys = list(state.choices)
    fastest = speeds.fastest(keys)
    if fastest is not None:
        return fastest
    ready = [k for k in keys if is_ready(state.choices[k])]
    mobile = [k for k in ready if (state.choices[k].arch or "") == "MobileNetV1"]
    return (mobile or ready or keys)[0]


def time_loaded_models(state, speeds: SpeedTable) -> None:
    """Time every model already in memory (at start: the first model the app loaded)."""
    for key in state.cache.loaded_keys():
        try:
            speeds.measure(key, state.tagger(key))
        except PannsError:
            continue


def speed_note(state, speeds: SpeedTable, key: str) -> str:
    from .ui import short_name

    return speeds.note(key, short_name(state.choice(key)), UPDATE_SECONDS)


def live_chart(session: LiveSession) -> pd.DataFrame:
    """The last minute of the top classes, long format for gr.LinePlot (seconds, class, score)."""
    frame = session.live.history_frame(CHART_CLASSES)
    return frame.rename(columns={"display_name": "class"})[["seconds", "class", "score"]]


def live_status(session: LiveSession, note: str = "") -> str:
    live, update = session.live, session.live.last
    history = live.history
    span = history[-1].heard_until - history[0].heard_until if history else 0.0
    text = (
        f"Update {live.updates} · heard {update.heard_until:.1f} s · window {update.window_seconds:.1f} s · "
        f"{live.tagger.arch} took {format_ms(update.compute_seconds)} · skipped {live.skipped} · "
        f"timeline: {len(history)} points over {span:.0f} s"
    )
    return text + (f"\n\n{note}" if note else "")


def make_live_handlers(state, speeds: SpeedTable):
    """(start, stream, stop) handlers bound to the app's state and speed table."""
    lock = threading.Lock()  # session creation: the first chunk and a fast second one must not both load

    def new_session(key: str, window) -> LiveSession:
        try:
            tagger = state.tagger(key)
        except PannsError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        speeds.measure(key, tagger)
        live = LiveTagger(tagger, window_seconds=float(window), update_seconds=UPDATE_SECONDS)
        return LiveSession(key, live, state.trust(key, tagger))

    def start(key, window):
        with lock:
            session = new_session(key, window)
        return session, None, "", None, "Listening… the first answer comes after a second of sound.", None

    def stream(chunk, session, key, window):
        if chunk is None:
            return (gr.skip(),) * 5
        sample_rate, samples = chunk
        with lock:
            if session is None or session.key != key or session.live.buffer.seconds != float(window):
                session = new_session(key, window)
        try:
            update = session.live.feed_and_update(samples, sample_rate)
        except PannsError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        if update is None:
            return session, gr.skip(), gr.skip(), gr.skip(), gr.skip()
        top = update.top(DEFAULT_TOP_K)
        shown = [t for t in top if t[2] >= DEFAULT_THRESHOLD]
        slow = update.compute_seconds > UPDATE_SECONDS
        note = speed_note(state, speeds, session.key) if slow else ""
        return (
            session,
            {name: score for name, _, score in top},
            ontology_markdown(shown, DEFAULT_THRESHOLD, top[0], session.trust),
            live_chart(session),
            live_status(session, note),
        )

    def stop(session):
        """The microphone stopped: the last minute stays on the chart and goes into a CSV; the audio is dropped."""
        if session is None or not session.live.history:
            return None, None, None, "Stopped before the first answer: nothing to show."
        out = state.csv_dir()
        out.mkdir(parents=True, exist_ok=True)
        path = session.live.write_csv(out / "live_last_minute.csv", k=CHART_CLASSES)
        chart, status = live_chart(session), live_status(session) + "\n\nStopped: the last minute is below and as CSV."
        session.close()
        return None, chart, str(path), status

    return start, stream, stop


def build_live_tab(state) -> None:
    """The live tab's widgets and events; call inside a `gr.Tab` of the page's Blocks."""
    speeds = SpeedTable()
    time_loaded_models(state, speeds)
    first = default_live_key(state, speeds)
    gr.Markdown(LIVE_NOTE, elem_id="live-note")
    with gr.Row():
        with gr.Column(scale=1):
            mic = gr.Audio(sources=["microphone"], type="numpy", streaming=True, label="Microphone", elem_id="live-mic")
            model = gr.Dropdown(
                choices=picker_choices(state, speeds),
                value=first,
                label="Model (time per 10-s window on this server)",
                elem_id="live-model",
            )
            window = gr.Radio(
                [(f"{w:g} s", w) for w in LIVE_WINDOWS], value=LIVE_WINDOWS[-1], label="Listen to the last"
            )
            speed = gr.Markdown(speed_note(state, speeds, first), elem_id="live-speed")
        with gr.Column(scale=1):
            labels = gr.Label(label="Now hearing", num_top_classes=DEFAULT_TOP_K, elem_id="live-labels")
            status = gr.Markdown(elem_id="live-status")
            csv = gr.File(label="Last minute (CSV)", elem_id="live-csv")
    trust = gr.Markdown(elem_id="live-trust")
    chart = gr.LinePlot(
        x="seconds", y="score", color="class", y_lim=[0, 1], label="Last minute: top classes", elem_id="live-chart"
    )
    session = gr.State(None, time_to_live=STATE_TTL, delete_callback=free_session)

    start, stream, stop = make_live_handlers(state, speeds)
    private = {"api_visibility": "private"}

    def picked(key):
        return speed_note(state, speeds, key)

    def refresh(key):  # models timed since the page was built show their figure
        return gr.update(choices=picker_choices(state, speeds)), speed_note(state, speeds, key)

    model.change(picked, inputs=model, outputs=speed, **private)
    model.focus(refresh, inputs=model, outputs=[model, speed], **private)
    mic.start_recording(start, inputs=[model, window], outputs=[session, labels, trust, chart, status, csv], **private)
    mic.stream(
        stream,
        inputs=[mic, session, model, window],
        outputs=[session, labels, trust, chart, status],
        stream_every=STREAM_EVERY,
        time_limit=TIME_LIMIT,
        concurrency_limit=state.config.concurrency,
        concurrency_id="live",
        show_progress="hidden",
        **private,
    )
    mic.stop_recording(stop, inputs=session, outputs=[session, chart, csv, status], **private)
