"""Training curves: mAP against iterations per run, grouped by a setting, and AP curves of chosen classes.

The reference study compared models, balancing + mixup, amount of data and batch size by
overlaying such curves; `colour_by` reproduces any of those views from the runs' settings.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dashboard.classes import animal_classes
from dashboard.data import SETTING_KEYS, Results
from dashboard.overview import animal_overview

COLOUR_BY_RUN = "run"


def curve_runs(res: Results) -> list[str]:
    """Runs with an mAP curve, in label order."""
    have = set(res.curves["run_id"].unique())
    return res.runs[res.runs["run_id"].isin(have)].sort_values("label")["run_id"].tolist()


ALL_RUNS = "all runs with a curve"


def study_comparisons(res: Results) -> list[str]:
    """The reference study's comparisons ('(a) Model comparison', ...) that some run's figure belongs to."""
    found = {f"({p}) {title}" for comps in res.runs["comparisons"] for p, title in comps.items()}
    return sorted(found)


def runs_in_comparison(res: Results, ids: list[str], comparison: str) -> list[str]:
    """Of `ids`, the runs drawn in that comparison's panel (solid and faint), plus every measured run beside them."""
    if comparison == ALL_RUNS:
        return ids
    panel = comparison[1 : comparison.index(")")]
    runs = res.runs.loc[ids]
    keep = runs["comparisons"].map(lambda c: panel in c) | (runs["status"] == "measured")
    return runs[keep]["run_id"].tolist()


def colour_options(res: Results, run_ids=None) -> list[str]:
    """'run', then 'model', 'trained_on' and every setting that varies (or is set) among the runs."""
    runs = res.runs if run_ids is None else res.runs.loc[[r for r in run_ids if r in res.runs.index]]
    options = [COLOUR_BY_RUN, "model", "trained_on"]
    return options + [k for k in SETTING_KEYS if runs[k].notna().any()]


def setting_text(row: pd.Series) -> str:
    """'batch_size=32, balanced=True, ...' for hover text (only the settings a run recorded)."""
    return ", ".join(f"{k}={row[k]}" for k in SETTING_KEYS if pd.notna(row[k])) or "no settings recorded"


def map_curves(res: Results, run_ids, colour_by: str = COLOUR_BY_RUN) -> pd.DataFrame:
    """Long table run_id, label, group, settings, iteration, mAP (+ mean_auc, d_prime, loss), sorted by iteration,
    with each run's status and source (a reported curve, such as the study's read-off ones, stays reported)."""
    curves = res.curves[res.curves["run_id"].isin(list(run_ids))]
    runs = res.runs.loc[curves["run_id"].unique()] if not curves.empty else res.runs.iloc[0:0]
    if colour_by == COLOUR_BY_RUN:
        group = runs["label"]
    else:
        group = runs[colour_by].map(lambda v: f"{colour_by}={v}" if pd.notna(v) else f"{colour_by} not recorded")
    settings = runs.apply(setting_text, axis=1) if not runs.empty else pd.Series(dtype=str)
    out = curves.assign(
        group=curves["run_id"].map(group),
        settings=curves["run_id"].map(settings),
        status=curves["run_id"].map(runs["status"]),
        source=curves["run_id"].map(runs["source"]),
    )
    cols = [
        "run_id",
        "label",
        "group",
        "settings",
        "iteration",
        "mAP",
        "mean_auc",
        "d_prime",
        "loss",
        "status",
        "source",
    ]
    return out[cols].sort_values(["run_id", "iteration"]).reset_index(drop=True)


def reported_points(res: Results) -> pd.DataFrame:
    """Reported animal-class figures with a known iteration (the study's headline), drawn as single points.
    `scope` says what the figure averages (the study's: 66 classes, Music included)."""
    runs = res.runs[
        (res.runs["status"] == "reported") & res.runs["iterations"].notna() & res.runs["animal_mAP"].notna()
    ]
    scope = animal_overview(res).set_index("run_id")["scope"]
    return (
        pd.DataFrame(
            {
                "run_id": runs["run_id"],
                "label": runs["label"],
                "iteration": runs["iterations"].astype(int),
                "mAP": runs["animal_mAP"],
                "scope": runs["run_id"].map(scope),
                "settings": runs.apply(setting_text, axis=1) if not runs.empty else pd.Series(dtype=str),
                "source": runs["source"],
            }
        )
        .sort_values("label")
        .reset_index(drop=True)
    )


def curve_table(curves: pd.DataFrame, points: pd.DataFrame) -> pd.DataFrame:
    """What the curve chart plots, as one table: the curve rows (status and source of their run), then the
    reported single figures."""
    lines = curves.assign(scope="")
    reported = points.assign(status="reported", group=points["label"])
    cols = [
        "label",
        "status",
        "iteration",
        "mAP",
        "mean_auc",
        "d_prime",
        "loss",
        "group",
        "settings",
        "scope",
        "source",
        "run_id",
    ]
    frames = [f.reindex(columns=cols) for f in (lines, reported) if not f.empty]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def classes_with_curves(res: Results, run_id: str) -> pd.DataFrame:
    """The animal classes this run has AP for at more than one iteration, with their final AP."""
    rows = res.classwise[(res.classwise["run_id"] == run_id) & res.classwise["iteration"].notna()]
    if rows["iteration"].nunique() < 2:
        return pd.DataFrame(columns=["index", "mid", "class", "final_ap"])
    final = rows[rows["iteration"] == rows["iteration"].max()][["index", "ap"]].rename(columns={"ap": "final_ap"})
    return animal_classes().merge(final, on="index")[["index", "mid", "class", "final_ap"]]


def default_classes(candidates: pd.DataFrame, n: int = 5) -> list[str]:
    """n classes spread from the easiest to the hardest by final AP, so the default view shows the range."""
    ranked = candidates.dropna(subset=["final_ap"]).sort_values("final_ap", ascending=False)
    if ranked.empty:
        return []
    picks = np.unique(np.linspace(0, len(ranked) - 1, min(n, len(ranked))).round().astype(int))
    return ranked["class"].iloc[picks].tolist()


def class_curves(res: Results, run_id: str, class_names) -> pd.DataFrame:
    """Long table class, iteration, ap (+ auc, positives) of one run for the chosen classes."""
    names = animal_classes().set_index("index")["class"]
    rows = res.classwise[(res.classwise["run_id"] == run_id) & res.classwise["iteration"].notna()]
    rows = rows.assign(**{"class": rows["index"].map(names)})
    rows = rows[rows["class"].isin(list(class_names))]
    return (
        rows[["class", "index", "iteration", "ap", "auc", "positives"]]
        .sort_values(["class", "iteration"])
        .reset_index(drop=True)
    )
