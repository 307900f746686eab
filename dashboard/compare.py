"""Class-wise comparison: AP per animal class for chosen runs, the difference to a baseline, filters and sorting."""

from __future__ import annotations

import pandas as pd

from dashboard.classes import animal_classes
from dashboard.data import Results
from dashboard.overview import same_eval_set

ORDER_AUDIOSET = "AudioSet order"
ORDER_NAME = "class name"


def comparable_runs(res: Results) -> list[str]:
    """Runs with per-class AP on the animal classes, general baselines after the animal-only models."""
    have = set(res.final["run_id"].unique())
    runs = res.runs[res.runs["run_id"].isin(have)].sort_values(["trained_on", "status", "label"])
    return runs["run_id"].tolist()


def default_runs(res: Results, per_group: int = 3) -> list[str]:
    """A readable default selection: the best animal-only runs and the best general models (a few of each)."""
    runs = res.runs.loc[comparable_runs(res)].sort_values("animal_mAP", ascending=False)
    picks = [runs[runs["trained_on"] == group]["run_id"].head(per_group) for group in ("animal", "audioset")]
    return [r for r in comparable_runs(res) if r in set(pd.concat(picks))]


def filter_classes(classes: pd.DataFrame, branches=None, query: str = "") -> pd.DataFrame:
    """Keep classes in any of `branches` (all when empty) whose name or ontology path contains `query`."""
    keep = pd.Series(True, index=classes.index)
    if branches:
        keep &= classes["branch"].isin(list(branches))
    query = (query or "").strip().lower()
    if query:
        keep &= classes["class"].str.lower().str.contains(query, regex=False) | classes[
            "path"
        ].str.lower().str.contains(query, regex=False)
    return classes[keep]


def class_table(res: Results, run_ids, baseline: str | None = None, branches=None, query: str = "") -> pd.DataFrame:
    """Wide table: one row per (filtered) class; `AP: <label>` per run and `vs baseline: <label>` differences."""
    classes = filter_classes(animal_classes(), branches, query)
    run_ids = [r for r in run_ids if r in res.runs.index]
    wanted = list(dict.fromkeys(run_ids + ([baseline] if baseline else [])))
    ap = res.final[res.final["run_id"].isin(wanted)].pivot_table(
        index="index", columns="run_id", values="ap", aggfunc="first"
    )
    out = classes[["index", "class", "branch", "mid", "path"]].set_index("index")
    label = res.runs["label"]
    for run_id in wanted:
        # reindex: assigning a Series to an empty frame would otherwise bring in the Series' rows
        out[f"AP: {label[run_id]}"] = ap[run_id].reindex(out.index) if run_id in ap.columns else float("nan")
    if baseline:
        base = out[f"AP: {label[baseline]}"]
        for run_id in run_ids:
            if run_id != baseline:
                out[f"vs baseline: {label[run_id]}"] = out[f"AP: {label[run_id]}"] - base
    # The numbers first (they must be on screen without scrolling), the class's identifiers after.
    values = [c for c in out.columns if c.startswith(("AP: ", "vs baseline: "))]
    return out.reset_index()[["class", *values, "branch", "mid", "path", "index"]]


def across_sets_note(res: Results, run_ids, baseline: str | None) -> str:
    """Names the chosen runs scored on other clips than the baseline: their `vs baseline` differences mix
    the models with the clips ('' when every difference is between runs on the same evaluation set)."""
    if not baseline:
        return ""
    label, sets = res.runs["label"], res.runs["eval_set"]
    across = [r for r in run_ids if r != baseline and r in res.runs.index and not same_eval_set(res, r, baseline)]
    if not across:
        return ""
    return (
        f"Across evaluation sets: {', '.join(f'{label[r]} ({sets[r]})' for r in across)} "
        f"{'was' if len(across) == 1 else 'were'} not scored on the same clips as {label[baseline]} "
        f"({sets[baseline]}); these differences mix the models with the clips."
    )


def sort_options(table: pd.DataFrame) -> list[str]:
    return [ORDER_AUDIOSET, ORDER_NAME] + [c for c in table.columns if c.startswith(("AP: ", "vs baseline: "))]


def has_direction(by: str) -> bool:
    """Whether "highest first" means anything for this sort (not for AudioSet order or names)."""
    return by not in (ORDER_AUDIOSET, ORDER_NAME)


def sort_table(table: pd.DataFrame, by: str, descending: bool = True) -> pd.DataFrame:
    """Sort by AudioSet order, by name, or by one value column (missing values last)."""
    if by == ORDER_AUDIOSET:
        return table.sort_values("index").reset_index(drop=True)
    if by == ORDER_NAME:
        return table.sort_values("class", key=lambda s: s.str.lower()).reset_index(drop=True)
    return table.sort_values(by, ascending=not descending, na_position="last").reset_index(drop=True)


def long_values(table: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """Tidy (class, branch, series, value) rows of the `prefix` columns, keeping the table's row order."""
    cols = [c for c in table.columns if c.startswith(prefix)]
    long = table.melt(id_vars=["class", "branch", "mid"], value_vars=cols, var_name="series", value_name="value")
    long["series"] = long["series"].str.slice(len(prefix))
    return long
