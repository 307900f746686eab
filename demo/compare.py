"""Compare mode: one decoded clip through several models, their top classes side by side, and the
classes on which they disagree.

Models are run one after the other, each fetched through the app's cache (so they load lazily and
share its loaded-model limit); a model whose weights cannot be had or do not load is reported as
unavailable with its reason while the others still answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from panns_core.audio.load import resample
from panns_core.errors import PannsError

from .trust import ClassTrust, ModelTrust, trust_cell

COMPARE_COLUMNS = ["model", "rank", "class", "score", "ap", "less_reliable", "ap_source"]


@dataclass
class ModelAnswer:
    """One model's part of a comparison: its top classes with their trust, or why it has none."""

    key: str
    label: str
    top: list[tuple[str, str, float, ClassTrust]] = field(default_factory=list)  # name, mid, score, trust
    unavailable: str | None = None


def answer(
    key: str,
    label: str,
    load: Callable[[str], tuple[object, ModelTrust]],
    wave: np.ndarray,
    sample_rate: int,
    top_k: int,
    threshold: float,
    known=None,
) -> ModelAnswer:
    """Run one model on `wave`; `load(key)` gives its tagger and per-class AP; `known`, this model's
    result when the page already has it (the chosen model), is used instead of a second pass.
    A PannsError (weights missing, file broken or mismatched) becomes the model's message."""
    try:
        tagger, trust = load(key)
        if known is not None:
            result = known
        else:
            clip = wave if tagger.sample_rate == sample_rate else resample(wave, sample_rate, tagger.sample_rate)
            result = tagger.predict(clip, tagger.sample_rate)
    except PannsError as exc:
        return ModelAnswer(key, label, unavailable=str(exc))
    top = [(name, mid, score, trust.of(mid)) for name, mid, score in result.top(top_k, threshold=threshold)]
    return ModelAnswer(key, label, top)


def disagreements(answers: list[ModelAnswer]) -> dict[str, list[str]]:
    """Class name -> the models that put it at or above the threshold, for every class that some but
    not all of the answering models found. Unavailable models have no say."""
    heard = [a for a in answers if a.unavailable is None]
    found: dict[str, list[str]] = {}
    for a in heard:
        for name, *_ in a.top:
            found.setdefault(name, []).append(a.label)
    return {name: models for name, models in found.items() if len(models) < len(heard)}


def comparison_frame(answers: list[ModelAnswer]) -> pd.DataFrame:
    """Long table for API clients and tests: one row per model and class (an unavailable model: one row
    with its reason in `class` and no score)."""
    rows = []
    for a in answers:
        if a.unavailable is not None:
            rows.append((a.label, 0, f"unavailable: {a.unavailable}", np.nan, np.nan, False, ""))
        for rank, (name, _, score, trust) in enumerate(a.top, 1):
            rows.append(
                (
                    a.label,
                    rank,
                    name,
                    round(score, 3),
                    trust.ap if trust.ap is not None else np.nan,
                    trust.low,
                    trust.source,
                )
            )
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def comparison_markdown(answers: list[ModelAnswer], threshold: float) -> str:
    """One column per model, a row per rank, then the classes the models disagree on."""
    header = "| # | " + " | ".join(_cell(a.label) for a in answers) + " |"
    lines = [header, "|---|" + "---|" * len(answers)]
    depth = max([len(a.top) for a in answers] + [1])
    for rank in range(depth):
        cells = []
        for a in answers:
            if a.unavailable is not None:
                cells.append(f"**unavailable**: {_cell(a.unavailable)}" if rank == 0 else "")
            elif rank < len(a.top):
                name, _, score, trust = a.top[rank]
                cells.append(f"**{_cell(name)}** {score:.2f} · {trust_cell(trust)}")
            else:
                cells.append("—" if rank == 0 else "")
        lines.append(f"| {rank + 1} | " + " | ".join(cells) + " |")
    split = disagreements(answers)
    if split:
        said = "; ".join(f"**{_cell(name)}**: only {', '.join(models)}" for name, models in split.items())
        lines.append(f"\n**The models disagree on** (at or above {threshold:g}): {said}.")
    elif sum(a.unavailable is None for a in answers) > 1:
        lines.append(f"\nThe models agree on every class at or above {threshold:g}.")
    return "\n".join(lines)
