"""Command line and environment settings of the demo, resolved once at start.

Kept free of Gradio and torch imports so the settings (and the Spaces conventions in them)
can be tested and printed without starting anything heavy.

A Hugging Face Space runs `python demo/app.py` with no arguments, so every option can also
come from an environment variable (set as a Space "Variable"); an explicit argument wins.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_CHECKPOINT = "Cnn14"
# The general models compare mode runs by default: the released checkpoints the PANNs paper compares.
DEFAULT_COMPARE = ("Cnn14", "ResNet38", "Wavegram_Logmel_Cnn14")
REPO_RESULTS = Path(__file__).resolve().parents[1] / "results"
LOCAL_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


@dataclass(frozen=True)
class DemoConfig:
    """Everything the app needs to know before it builds its page."""

    host: str
    port: int
    default_checkpoint: str  # released checkpoint offered first and fetched at start
    checkpoint: str | None  # weights given at start: a .pth path, owner/repo, hf://owner/repo/file.pth
    checkpoint_arch: str | None  # its architecture (--arch), when the file does not say
    compare: tuple[str, ...]  # released checkpoints compare mode runs (plus --checkpoint when given)
    results_dir: Path  # where the per-class AP shown beside each class comes from
    examples_dir: Path | None
    max_seconds: float  # longest clip accepted
    window_seconds: float  # analysis window of the tagger (PANNs were trained on 10 s)
    hop_seconds: float | None  # step between windows (None: the window, no overlap)
    timeline_window: float  # the timeline's own, finer windows (a 10-s window says nothing about *when*)
    timeline_hop: float  # their step; made coarser on long clips so the extra pass stays bounded
    max_loaded: int  # models kept in memory at once
    max_file_size: str  # upload limit handed to Gradio, e.g. "200mb"
    concurrency: int  # inference requests run at once; the rest wait in the queue
    queue_size: int  # waiting requests beyond this are refused, not piled up in memory
    fetch_at_start: bool  # fetch the first model's weights before serving (a local file needs none)
    on_space: bool
    backend: str = "auto"  # what runs the models: auto (ONNX Runtime on CPU), torch or onnx
    thresholds: Path | None = None  # a thresholds file (`panns calibrate`): each score marked against its class's own
    head: Path | None = None  # a probe head (`panns probe fit`): its classes added to the model it was fit on


def _env(name: str) -> str | None:
    """`name` from the environment; an empty value counts as unset (a Space shows unset Variables as "")."""
    return os.environ.get(name) or None


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name}={raw!r} is not a number") from None


def _bind_address(args_host: str | None, args_port: int | None, on_space: bool) -> tuple[str, int]:
    """Spaces route traffic to 0.0.0.0 on GRADIO_SERVER_PORT; locally we stay on loopback."""
    host = args_host or os.environ.get("GRADIO_SERVER_NAME") or ("0.0.0.0" if on_space else LOCAL_HOST)
    port = args_port
    if port is None:
        raw = os.environ.get("GRADIO_SERVER_PORT", "")
        try:
            port = int(raw) if raw else DEFAULT_PORT
        except ValueError:
            raise SystemExit(f"GRADIO_SERVER_PORT={raw!r} is not a port number") from None
    return host, port


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python demo/app.py",
        description="Try the PANNs animal-sound tagger in the browser (65 AudioSet animal classes).",
    )
    p.add_argument("--host", help=f"address to listen on (default {LOCAL_HOST}; 0.0.0.0 on a Space)")
    p.add_argument("--port", type=int, help=f"port (default {DEFAULT_PORT}, or GRADIO_SERVER_PORT)")
    # One vocabulary with the CLI and training: --checkpoint names weights, --arch an architecture.
    p.add_argument(
        "--default-checkpoint",
        default=_env("PANNS_DEMO_DEFAULT_CHECKPOINT") or DEFAULT_CHECKPOINT,
        help="released checkpoint offered first and fetched at start (default %(default)s)",
    )
    p.add_argument(
        "--checkpoint",
        default=_env("PANNS_DEMO_CHECKPOINT"),
        help="weights to offer first: a released name (Cnn14), a .pth file, a Hugging Face repo "
        "owner/repo, or hf://owner/repo/file.pth",
    )
    p.add_argument(
        "--arch",
        dest="checkpoint_arch",
        default=_env("PANNS_DEMO_ARCH"),
        help="architecture of --checkpoint (e.g. Cnn14, MobileNetV1), only for a file that does not record it",
    )
    p.add_argument(
        "--compare",
        default=_env("PANNS_DEMO_COMPARE") or ",".join(DEFAULT_COMPARE),
        help="released checkpoints that compare mode runs, comma-separated (default %(default)s); "
        "--checkpoint is added to them",
    )
    p.add_argument(
        "--results",
        dest="results_dir",
        default=_env("PANNS_DEMO_RESULTS") or str(REPO_RESULTS),
        help="results folder holding the per-class AP shown beside each class (default: the repository's)",
    )
    p.add_argument(
        "--examples",
        dest="examples_dir",
        default=os.environ.get("PANNS_DEMO_EXAMPLES") or None,
        help="folder of example clips to list (default demo/examples when it has any)",
    )
    p.add_argument(
        "--max-seconds",
        type=float,
        default=_env_float("PANNS_DEMO_MAX_SECONDS", 600.0),
        help="longest clip accepted, in seconds (default %(default)s)",
    )
    p.add_argument(
        "--window-seconds",
        type=float,
        default=_env_float("PANNS_DEMO_WINDOW_SECONDS", 10.0),
        help="analysis window; shorter windows give a finer timeline (default %(default)s)",
    )
    p.add_argument(
        "--hop-seconds",
        type=float,
        default=_env_float("PANNS_DEMO_HOP_SECONDS", 0.0) or None,
        help="step between windows (default: the window length)",
    )
    p.add_argument(
        "--timeline-window",
        type=float,
        default=_env_float("PANNS_DEMO_TIMELINE_WINDOW", 2.0),
        help="window of the timeline's own pass, in seconds (default %(default)s); give the same "
        "window and hop as --window-seconds/--hop-seconds to draw the labels' windows instead",
    )
    p.add_argument(
        "--timeline-hop",
        type=float,
        default=_env_float("PANNS_DEMO_TIMELINE_HOP", 0.5),
        help="step of the timeline's windows (default %(default)s; coarser on long clips)",
    )
    p.add_argument(
        "--max-loaded",
        type=int,
        default=int(_env_float("PANNS_DEMO_MAX_LOADED", 3)),
        help="models kept in memory at once (default %(default)s: the three of compare mode; "
        "fewer bounds memory further, compare mode then reloads models in turn)",
    )
    p.add_argument(
        "--max-file-size",
        default=os.environ.get("PANNS_DEMO_MAX_FILE_SIZE", "200mb"),
        help="largest upload accepted (default %(default)s)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=int(_env_float("PANNS_DEMO_CONCURRENCY", 2)),
        help="inference requests run at once (default %(default)s)",
    )
    p.add_argument(
        "--queue-size",
        type=int,
        default=int(_env_float("PANNS_DEMO_QUEUE_SIZE", 64)),
        help="requests allowed to wait (default %(default)s)",
    )
    p.add_argument(
        "--backend",
        choices=["auto", "torch", "onnx"],
        default=os.environ.get("PANNS_DEMO_BACKEND", "auto"),
        help="what runs the models: auto (ONNX Runtime on CPU, exported once and cached; PyTorch on a "
        "GPU), torch or onnx (default %(default)s)",
    )
    p.add_argument(
        "--thresholds",
        default=os.environ.get("PANNS_DEMO_THRESHOLDS") or None,
        help="thresholds file from `panns calibrate`: marks each score against its class's own threshold",
    )
    p.add_argument(
        "--head",
        default=os.environ.get("PANNS_DEMO_HEAD") or None,
        help="probe head from `panns probe fit`: its classes are added to the model it was fit on",
    )
    p.add_argument(
        "--no-fetch",
        dest="fetch_at_start",
        action="store_false",
        help="do not fetch the default weights at start (offline start)",
    )
    return p


def parse_config(argv: list[str] | None = None) -> DemoConfig:
    """Parse `argv` (None: sys.argv) with environment fallbacks; bad values exit with a message."""
    parser = build_parser()
    args = parser.parse_args(argv)
    on_space = bool(os.environ.get("SPACE_ID"))
    host, port = _bind_address(args.host, args.port, on_space)
    if not 0 < port < 65536:
        parser.error(f"--port {port} is not a port number")
    if args.max_seconds <= 0:
        parser.error("--max-seconds must be positive")
    if args.window_seconds <= 0 or (args.hop_seconds is not None and args.hop_seconds <= 0):
        parser.error("--window-seconds and --hop-seconds must be positive")
    if args.timeline_window <= 0 or args.timeline_hop <= 0:
        parser.error("--timeline-window and --timeline-hop must be positive")
    if args.concurrency < 1 or args.queue_size < 1 or args.max_loaded < 1:
        parser.error("--concurrency, --queue-size and --max-loaded must be at least 1")
    if args.checkpoint_arch and not args.checkpoint:
        parser.error("--arch names the architecture of --checkpoint; give --checkpoint too")
    for option, value in (("--thresholds", args.thresholds), ("--head", args.head)):
        if value and not Path(value).is_file():
            parser.error(f"{option} {value}: no such file")
    compare = tuple(name.strip() for name in args.compare.split(",") if name.strip())
    examples = Path(args.examples_dir) if args.examples_dir else Path(__file__).resolve().parent / "examples"
    return DemoConfig(
        host=host,
        port=port,
        default_checkpoint=args.default_checkpoint,
        checkpoint=args.checkpoint,
        checkpoint_arch=args.checkpoint_arch,
        compare=compare,
        results_dir=Path(args.results_dir),
        examples_dir=examples,
        max_seconds=args.max_seconds,
        window_seconds=args.window_seconds,
        hop_seconds=args.hop_seconds,
        timeline_window=args.timeline_window,
        timeline_hop=args.timeline_hop,
        max_loaded=args.max_loaded,
        max_file_size=args.max_file_size,
        concurrency=args.concurrency,
        queue_size=args.queue_size,
        # a file on this disk needs no fetch; a released name or a Hub address does
        fetch_at_start=args.fetch_at_start and not (args.checkpoint and Path(args.checkpoint).is_file()),
        on_space=on_space,
        backend=args.backend,
        thresholds=Path(args.thresholds) if args.thresholds else None,
        head=Path(args.head) if args.head else None,
    )
