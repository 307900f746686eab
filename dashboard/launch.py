"""`panns-dashboard`: the installed form of `streamlit run dashboard/app.py`, for a wheel that has no checkout.

Streamlit runs a script file, not a module, so this finds the installed app.py beside it and hands it to
`python -m streamlit run` with the dashboard's own `--results` after `--`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

APP = Path(__file__).resolve().with_name("app.py")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="panns-dashboard", description="Browse the results runs in Streamlit.")
    p.add_argument("--results", help="results folder to read (default: $PANNS_RESULTS_DIR, else the repository's)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default %(default)s)")
    p.add_argument("--port", type=int, default=8501, help="port (default %(default)s)")
    return p


def streamlit_argv(args: argparse.Namespace) -> list[str]:
    """The `streamlit run` command line these options mean."""
    argv = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.address", args.host]
    argv += ["--server.port", str(args.port)]
    if args.results:
        argv += ["--", "--results", args.results]
    return argv


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return subprocess.call(streamlit_argv(args))


if __name__ == "__main__":
    sys.exit(main())
