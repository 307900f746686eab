"""Scoring a model on a packed set, whatever label set each side has.

A general 527-class checkpoint and a 65-class animal model are compared on the same clips and
the same 65 classes: the model's outputs are *viewed* on the data's classes (columns picked by
class id), never the other way round, so the score is always about the data's label set.
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch.utils.data import DataLoader

from panns_core.labels import LabelSet

from ..metrics import Scores, score


def view_columns(model_labels: LabelSet, data_labels: LabelSet) -> list:
    """For each data class, the model output that predicts it; ValueError if the model lacks one."""
    position = {m: i for i, m in enumerate(model_labels.mids)}
    lacking = [m for m in data_labels.mids if m not in position]
    if lacking:
        raise ValueError(f"a {model_labels.name} model cannot be scored on the {data_labels.name} set: "
                         f"it has no output for {len(lacking)} of its classes (e.g. {lacking[0]})")
    return [position[m] for m in data_labels.mids]


def autocast(device: torch.device, enabled: bool):
    """bf16 autocast on GPUs that have it, fp16 otherwise; nothing on CPU."""
    if not enabled or device.type != "cuda":
        return contextlib.nullcontext()
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype)


@torch.no_grad()
def predict(model: torch.nn.Module, dataset, columns: list, batch_size: int = 32, device="cpu",
            amp: bool = False, num_workers: int = 0) -> tuple:
    """(target, output) as numpy arrays over the data's classes, in dataset order."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers,
                        pin_memory=device.type == "cuda")
    targets, outputs = [], []
    index = torch.tensor(columns, device=device)
    try:
        for batch in loader:
            with autocast(device, amp):
                out = model(batch["waveform"].to(device, non_blocking=True))["clipwise_output"]
            outputs.append(out.float().index_select(1, index).cpu().numpy())
            targets.append(batch["target"].numpy())
    finally:
        model.train(was_training)
    return np.concatenate(targets), np.concatenate(outputs)


def evaluate(model, dataset, model_labels: LabelSet, data_labels: LabelSet, **kw) -> Scores:
    target, output = predict(model, dataset, view_columns(model_labels, data_labels), **kw)
    return score(target, output)
