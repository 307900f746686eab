"""Scoring a model on a packed set, whatever label set each side has.

A general AudioSet checkpoint and an animal model are compared on the same clips and the same
classes: the model's outputs are *viewed* on the data's classes (`labels.view`, the same view the
Tagger uses), never the other way round, so the score is always about the data's label set.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader

from panns_core.device import autocast
from panns_core.evaluation.metrics import Scores, score
from panns_core.labels.sets import LabelSet, view


def view_columns(head_labels: LabelSet, data_labels: LabelSet) -> list:
    """For each data class, the model output that predicts it (ConfigError if the model lacks one)."""
    columns = view(head_labels, data_labels)
    return list(range(len(head_labels))) if columns is None else columns


@torch.no_grad()
def predict(
    model: torch.nn.Module,
    dataset,
    columns: list,
    batch_size: int = 32,
    device="cpu",
    amp: bool = False,
    num_workers: int = 0,
) -> tuple:
    """(target, output) as numpy arrays over the data's classes, in dataset order."""
    device = torch.device(device)
    was_training = model.training
    model.eval()
    loader = DataLoader(
        dataset, batch_size=batch_size, shuffle=False, num_workers=num_workers, pin_memory=device.type == "cuda"
    )
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


def evaluate(model, dataset, head_labels: LabelSet, data_labels: LabelSet, **kw) -> Scores:
    target, output = predict(model, dataset, view_columns(head_labels, data_labels), **kw)
    return score(target, output)
