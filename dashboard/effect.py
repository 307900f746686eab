"""Class effect: a run's AP per class against how many training clips the class has and how good its labels are.

Clip counts come from results/class_stats.csv (official lists, written by `python -m train
metadata`); until it exists, from the run's own `train_clips` column. Label quality comes from
class_stats.csv, else from any run carrying a `label_quality` column (the shipped PANNs figures do).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.classes import animal_classes
from dashboard.data import CLASS_STATS_FILE, Results

COUNT_ALL = "AudioSet training clips (balanced + unbalanced)"
COUNT_BALANCED = "balanced training clips"
COUNT_UNBALANCED = "unbalanced training clips"
COUNT_RUN = "this run's training clips"


def _stats(res: Results) -> pd.DataFrame:
    """Per animal class: the available counts (one column per COUNT_* option) and label_quality."""
    out = animal_classes()[["index"]].set_index("index")
    stats = res.class_stats
    if stats is not None:
        stats = stats.drop_duplicates("index").set_index("index")
        if {"balanced_train_clips", "unbalanced_train_clips"} <= set(stats.columns):
            out[COUNT_ALL] = stats["balanced_train_clips"] + stats["unbalanced_train_clips"]
        if "balanced_train_clips" in stats.columns:
            out[COUNT_BALANCED] = stats["balanced_train_clips"]
        if "unbalanced_train_clips" in stats.columns:
            out[COUNT_UNBALANCED] = stats["unbalanced_train_clips"]
        if "label_quality" in stats.columns:
            out["label_quality"] = stats["label_quality"] + 0.0  # the shipped file has a "-0.0"; + 0.0 makes it 0.0
    if "label_quality" not in out.columns or out["label_quality"].isna().all():
        if "label_quality" in res.final.columns:
            out["label_quality"] = res.final.dropna(subset=["label_quality"]).groupby("index")["label_quality"].first()
    if "label_quality" not in out.columns:
        out["label_quality"] = np.nan
    return out


def count_options(res: Results, run_id: str) -> list[str]:
    """Count sources with at least one value for this run's classes, best first."""
    stats = _stats(res)
    options = [
        c for c in (COUNT_ALL, COUNT_BALANCED, COUNT_UNBALANCED) if c in stats.columns and stats[c].notna().any()
    ]
    own = res.final.loc[res.final["run_id"] == run_id, "train_clips"]
    if own.notna().any():
        options.append(COUNT_RUN)
    return options


def effect_table(res: Results, run_id: str, count: str | None) -> pd.DataFrame:
    """Per class of the run: class, branch, ap, clips (from `count`, NaN when None), label_quality."""
    final = res.final[res.final["run_id"] == run_id][["index", "ap", "train_clips"]]
    stats = _stats(res)
    table = animal_classes()[["index", "class", "branch", "mid"]].merge(final, on="index")
    table["label_quality"] = table["index"].map(stats["label_quality"])
    if count == COUNT_RUN:
        table["clips"] = table["train_clips"]
    elif count in stats.columns:
        table["clips"] = table["index"].map(stats[count])
    else:
        table["clips"] = np.nan
    return table.drop(columns="train_clips").sort_values("ap", ascending=False).reset_index(drop=True)


def rank_correlation(table: pd.DataFrame, column: str) -> tuple[float, int]:
    """Spearman correlation of AP with `column` over classes having both, and how many classes that is."""
    both = table[["ap", column]].dropna()
    if len(both) < 3 or both[column].nunique() < 2 or both["ap"].nunique() < 2:
        return float("nan"), len(both)
    ranks = both.rank()  # Spearman = Pearson on ranks (average ranks for ties)
    return float(ranks["ap"].corr(ranks[column])), len(both)


def count_source(count: str) -> str:
    """Where the clip counts of `count` come from, for the caption under the chart."""
    if count == COUNT_RUN:
        return "Clip counts: the `train_clips` column of this run's `classwise.csv` (the clips it trained on)."
    return (
        f"Clip counts: `{CLASS_STATS_FILE}` in the results folder, counted from the official AudioSet segment "
        "lists (balanced_train_segments.csv, unbalanced_train_segments.csv) by `python -m train metadata`."
    )


def correlation_text(rho: float, n: int, what: str) -> str:
    """'Spearman rank correlation of AP with <what>: 0.42 over 65 classes', never '-0.00'."""
    if np.isnan(rho):
        return f"Spearman rank correlation of AP with {what}: not defined ({n} classes, or no variation)."
    return f"Spearman rank correlation of AP with {what}: {round(rho, 2) + 0.0:.2f} over {n} classes."
