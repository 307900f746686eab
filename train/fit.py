"""Stage 4, `python -m train fit`: train a registered model on packed data (options: FitConfig's fields).

Several GPUs: `torchrun --nproc_per_node=N -m train fit ...` (PyTorch DDP; --batch-size is the total).
"""

from __future__ import annotations

import argparse

from panns_core.training.config import FitConfig
from panns_core.training.loop import fit
from train.dataclass_cli import add_arguments as _add_config_arguments
from train.dataclass_cli import from_namespace


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _add_config_arguments(parser, FitConfig)


def run(args: argparse.Namespace) -> dict:
    summary = fit(from_namespace(FitConfig, args))
    where = f"; results in {summary['results']}" if summary["results"] else ""
    print(f"{summary['run_id']}: {summary['iteration']} iterations, checkpoint {summary['checkpoint']}{where}")
    return summary
