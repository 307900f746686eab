"""Scores turned into the results format (panns_core.results) that the dashboard reads.

Fit and evaluate both report through here, so a measured run always has the same columns,
the same naming of left-out classes and the same description of the hardware.
"""

from __future__ import annotations

import math
import platform
from pathlib import Path

import pandas as pd
import torch

from panns_core.evaluation.metrics import Scores
from panns_core.evaluation.results import RunInfo, eval_set_record, write_run
from panns_core.labels.sets import LabelSet


def _number(x) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def metrics_of(scores: Scores, labels: LabelSet) -> dict:
    return {
        "mAP": _number(scores.mAP),
        "mean_auc": _number(scores.mean_auc),
        "d_prime": _number(scores.d_prime),
        "classes_scored": len(scores.scored),
        "classes_left_out": [labels.mids[k] for k in scores.left_out],
    }


def classwise_rows(scores: Scores, labels: LabelSet, iteration: int | None, train_clips=None) -> list:
    """One row per class of the data's label set; `train_clips` (per class, same order) may be None."""
    return [
        {
            "iteration": iteration,
            "index": labels.indices[k],
            "mid": labels.mids[k],
            "display_name": labels.names[k],
            "ap": _number(scores.ap[k]),
            "auc": _number(scores.auc[k]),
            "positives": int(scores.positives[k]),
            "train_clips": None if train_clips is None else int(train_clips[k]),
        }
        for k in range(len(labels))
    ]


def curve_row(scores: Scores, iteration: int, loss: float | None) -> dict:
    return {
        "iteration": iteration,
        "mAP": _number(scores.mAP),
        "mean_auc": _number(scores.mean_auc),
        "d_prime": _number(scores.d_prime),
        "loss": _number(loss),
    }


def hardware(device: torch.device, world_size: int = 1, amp: bool = False) -> str:
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        return f"{world_size}x {name}" + (", AMP" if amp else "")
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def write(
    root,
    *,
    run_id: str,
    kind: str,
    model: str,
    trained_on: str,
    labels: LabelSet,
    data: dict,
    checkpoint: str | None,
    iterations: int | None,
    settings: dict,
    scores: Scores | None,
    classwise: list,
    curve: list,
    hardware_text: str,
    notes: str = "",
    display_name: str = "",
    eval_pack,
):
    """Write (or replace) the run folder <root>/<run_id>; return its path.

    `eval_pack` (a PackedDataset) is recorded as the run's evaluation set (file name, clip count and
    a digest of its clip names), so the dashboard compares runs only on the same clips. It is required:
    a measured run always knows the clips it was scored on, and one without them would be unrecorded."""
    if eval_pack is None:
        raise ValueError("a measured run records its evaluation set: pass the pack it was scored on (eval_pack)")
    eval_set = eval_set_record(Path(eval_pack.info.path).name, eval_pack.audio_names)
    info = RunInfo(
        run_id=run_id,
        kind=kind,
        status="measured",
        model=model,
        display_name=display_name,
        trained_on=trained_on,
        label_set=labels.name,
        data=data,
        checkpoint=checkpoint,
        iterations=iterations,
        hardware=hardware_text,
        settings=settings,
        metrics=metrics_of(scores, labels) if scores is not None else {},
        notes=notes,
        eval_set=eval_set,
    )
    return write_run(
        root,
        info,
        pd.DataFrame(classwise) if classwise else None,
        pd.DataFrame(curve) if curve else None,
        overwrite=True,
    )
