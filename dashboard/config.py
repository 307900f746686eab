"""Where the dashboard reads results from.

`-- --results DIR`, else $PANNS_RESULTS_DIR, else the repository's results/.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

ENV_VAR = "PANNS_RESULTS_DIR"
DEFAULT_RESULTS = Path(__file__).resolve().parents[1] / "results"


def results_dir(argv=None, environ=None) -> Path:
    """Resolve the results folder; unknown arguments are ignored (Streamlit passes its own)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--results", default=None)
    args, _ = parser.parse_known_args(list(argv or []))
    environ = os.environ if environ is None else environ
    chosen = args.results or environ.get(ENV_VAR) or DEFAULT_RESULTS
    return Path(chosen).expanduser().resolve()
