"""`python -m train <stage>`: metadata -> fetch -> pack -> fit -> evaluate (see docs/training.md).

Each stage is one module with `add_arguments(parser)` and `run(args)`; `--help` on a stage lists its options.
"""

from __future__ import annotations

import argparse
import sys

from panns_core.errors import run_command

from . import evaluate, fetch, fit, metadata, pack

STAGES = {"metadata": metadata, "fetch": fetch, "pack": pack, "fit": fit, "evaluate": evaluate}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m train", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="stage", required=True)
    for name, module in STAGES.items():
        stage = sub.add_parser(
            name,
            help=module.__doc__.splitlines()[0],
            description=module.__doc__,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        module.add_arguments(stage)
    return parser


def main(argv=None) -> int:
    """Exit codes as everywhere (panns_core.errors): 0 done, 2 bad input in one line (a PannsError: a missing
    file, a damaged pack, a foreign checkpoint, settings that cannot work); anything else is a bug: traceback."""
    args = build_parser().parse_args(argv)

    def stage() -> None:
        STAGES[args.stage].run(args)  # a stage returns its summary for tests, not an exit code

    return run_command(stage)


if __name__ == "__main__":
    sys.exit(main())
