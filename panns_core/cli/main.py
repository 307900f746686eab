"""The `panns` command line: `tag`, `download`, `list`, `export`, `calibrate` and `probe`.

Options mean the same in every command line of the project: `--checkpoint` names the weights (a
released name such as Cnn14, a .pth path, owner/repo or hf://owner/repo/file) and `--arch` the
architecture (needed only for a bare file). Exit codes: see panns_core.errors.
"""

from __future__ import annotations

import argparse

from panns_core.cli import calibrate, probe, tag, weights
from panns_core.errors import run_command

COMMANDS = (tag, weights, calibrate, probe)  # each adds its subcommands with `add_parser(sub)`


def build_parser(prog: str = "panns") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.add_parser(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return run_command(lambda: args.func(args))
