"""Entry point: `python demo/app.py [--host H] [--port P] [--checkpoint NAME_OR_PATH [--arch ARCH]]`.

Also the `app_file` of a Hugging Face Space, which runs it with no arguments (settings then
come from environment variables, see demo/config.py). It sets the no-telemetry environment
before Gradio is imported, fetches the default weights with a progress bar (or says why it
cannot), builds the page and serves it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Before anything imports gradio or huggingface_hub: no analytics, no telemetry.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

# Run as a script (and on a Space) the repository root is not on sys.path; the app needs
# `demo` and `panns_core` from this checkout, installed or not.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from demo.config import parse_config  # noqa: E402


def prepare_first_model(state, fetch_allowed: bool) -> None:
    """Fetch the first choice's weights if allowed (progress on the terminal) and load them, so the
    first visitor waits for neither; when that fails, say why and how to fix it, and serve anyway."""
    import traceback

    from demo.models import failure_message, how_to_get, is_ready
    from panns_core.errors import PannsError

    choice = next(iter(state.choices.values()))
    if not is_ready(choice) and not fetch_allowed:
        print(f"{choice.label}: weights not here and fetching is off.\n{how_to_get(choice)}", file=sys.stderr)
        return
    if not is_ready(choice):
        print(f"Fetching {choice.label} weights (first start) ...", flush=True)
    try:
        state.cache.get(choice)
    except PannsError as exc:
        message = failure_message(choice, exc)
    except Exception as exc:
        traceback.print_exc()
        message = f"{type(exc).__name__}: {exc} (a bug in the loader; please report it)"
    else:
        return
    state.failures[choice.key] = message
    print(
        f"Could not prepare {choice.label}: {message}\nThe app starts anyway and shows this in the page.",
        file=sys.stderr,
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    config = parse_config(argv)
    from demo.models import DemoConfigError, list_choices
    from demo.ui import DemoState, build_demo

    try:
        state = DemoState(config, list_choices(config.default_checkpoint, config.checkpoint, config.checkpoint_arch))
    except DemoConfigError as exc:  # a setting names no checkpoint at all: nothing sensible to serve
        raise SystemExit(f"error: {exc}") from None
    prepare_first_model(state, config.fetch_at_start)
    demo = build_demo(state)
    demo.launch(
        server_name=config.host, server_port=config.port, max_file_size=config.max_file_size, footer_links=["api"]
    )


if __name__ == "__main__":
    main()
