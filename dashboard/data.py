"""Load a results folder into the tidy tables every dashboard page starts from (pandas only, no Streamlit).

Runs are read through `panns_core.results` (validation, broken runs skipped with a warning); this
module adds what the pages need on top: a readable unique label per run that always says
measured or reported, each run's final class-wise AP restricted to the 65 animal classes, its mAP
on those classes, and the per-class statistics used by the "Class effect" page.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from dashboard.classes import animal_classes
from panns_core.evaluation.results import empty_classwise, empty_curve, eval_set_key, load_runs

CLASS_STATS_FILE = "class_stats.csv"
SETTING_KEYS = ("batch_size", "balanced", "mixup", "data_fraction", "lr")


@dataclass
class Results:
    """Everything read from one results folder. Treated as read-only by every shaping function."""

    root: Path
    runs: pd.DataFrame  # one row per run, indexed by run_id (see runs_table)
    classwise: pd.DataFrame  # every class-wise row of every run, animal classes only, + run_id, label
    final: pd.DataFrame  # the rows of each run's last evaluated iteration (all rows for reported runs)
    curves: pd.DataFrame  # every curve row + run_id, label
    class_stats: pd.DataFrame | None  # results/class_stats.csv when present
    warnings: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.runs.empty


def folder_signature(root) -> tuple:
    """Names, sizes and modification times of everything a load reads: a cheap cache key that
    changes whenever a run is added, replaced or edited."""
    root = Path(root)
    if not root.is_dir():
        return (str(root), None)
    entries = []
    for entry in sorted(os.scandir(root), key=lambda e: e.name):
        if entry.is_dir():
            for sub in sorted(os.scandir(entry.path), key=lambda e: e.name):
                st = sub.stat()
                entries.append((entry.name, sub.name, st.st_size, st.st_mtime_ns))
        elif entry.name == CLASS_STATS_FILE:
            st = entry.stat()
            entries.append((entry.name, st.st_size, st.st_mtime_ns))
    return (str(root), tuple(entries))


MODEL_527 = "527-class model"


def _labels(runs: list) -> list[str]:
    """Display name, [measured]/[reported], and "(527-class model)" for a general model.

    A label names the run, not the scope of a number: a measured general run shows its mAP on the
    animal classes in one chart and on all 527 classes in another, and each number says its own
    scope where it is shown. Only a run whose sole figure is a 527-class mAP (no per-class table)
    says so in its label; two runs that would still look alike get their run id.
    """

    def label(run):
        i = run.info
        only_527 = i.label_set == "audioset" and run.classwise.empty
        tag = f" ({MODEL_527}{', scored on all 527 classes' if only_527 else ''})" if i.trained_on == "audioset" else ""
        return f"{i.display_name} [{i.status}]{tag}"

    base = [label(r) for r in runs]
    counts = pd.Series(base, dtype=object).value_counts()
    return [b if counts[b] == 1 else f"{b} ({r.run_id})" for b, r in zip(base, runs)]


def runs_table(runs) -> pd.DataFrame:
    """One row per run with the fields the pages filter, colour and annotate by."""
    infos = [r.info for r in runs]
    labels = _labels(runs)
    rows = []
    for info, label in zip(infos, labels):
        row = {
            "run_id": info.run_id,
            "label": label,
            "display_name": info.display_name,
            "model": info.model,
            "kind": info.kind,
            "status": info.status,
            "trained_on": info.trained_on,
            "label_set": info.label_set,
            "source": info.source or "measured here",
            "iterations": info.iterations,
            "hardware": info.hardware,
            "created": info.created,
            "notes": info.notes,
            "reported_mAP": info.metrics.get("mAP"),
            "classes_scored": info.metrics.get("classes_scored"),
            "eval_set": _eval_set_text(info.eval_set),
            "eval_key": eval_set_key(info.eval_set),
            "figure": _figure_text(info.extra.get("figure")),
            "comparisons": dict((info.extra.get("figure") or {}).get("comparisons") or {})
            if isinstance(info.extra.get("figure"), dict)
            else {},
            "series": (info.extra.get("figure") or {}).get("series", "")
            if isinstance(info.extra.get("figure"), dict)
            else "",
        }
        for key in SETTING_KEYS:
            row[key] = info.settings.get(key)
        rows.append(row)
    columns = [
        "run_id",
        "label",
        "display_name",
        "model",
        "kind",
        "status",
        "trained_on",
        "label_set",
        "source",
        "iterations",
        "hardware",
        "created",
        "notes",
        "reported_mAP",
        "classes_scored",
        "eval_set",
        "eval_key",
        "figure",
        "comparisons",
        "series",
        *SETTING_KEYS,
    ]
    table = pd.DataFrame(rows, columns=columns)
    for key in SETTING_KEYS:  # keep 16 as 16 and True as True (a float column would show 16.0)
        table[key] = pd.Series([row[key] for row in rows], dtype=object)
    table["iterations"] = pd.to_numeric(table["iterations"]).astype("Int64")
    return table.set_index("run_id", drop=False)


def _eval_set_text(eval_set: dict) -> str:
    """'AudioSet evaluation set (...), 20,000 clips' or 'not recorded'."""
    if not eval_set:
        return "not recorded"
    clips = eval_set.get("clips")
    return str(eval_set.get("name")) + (f", {clips:,} clips" if isinstance(clips, int) else "")


def _figure_text(figure) -> str:
    """Where a reported figure was read from: 'four_figures_final.png, panel (b)'."""
    if not isinstance(figure, dict):
        return ""
    panels = figure.get("panels") or []
    return f"{figure.get('file', '')}, panel {', '.join(f'({p})' for p in panels)}".strip(", ")


def _stack(runs, attr: str, labels: pd.Series) -> pd.DataFrame:
    frames = [getattr(r, attr).assign(run_id=r.run_id) for r in runs if not getattr(r, attr).empty]
    if not frames:
        template = empty_classwise() if attr == "classwise" else empty_curve()
        return template.iloc[0:0].assign(run_id=pd.Series(dtype="string"), label=pd.Series(dtype="string"))
    out = pd.concat(frames, ignore_index=True)
    out["label"] = out["run_id"].map(labels)
    return out


def final_rows(classwise: pd.DataFrame) -> pd.DataFrame:
    """Each run's rows at its last evaluated iteration; reported tables (no iteration) are kept whole."""
    if classwise.empty:
        return classwise.copy()
    last = classwise.groupby("run_id", sort=False)["iteration"].transform("max")
    keep = last.isna() | (classwise["iteration"] == last)
    return classwise[keep.to_numpy()].reset_index(drop=True)


def animal_map(final: pd.DataFrame) -> pd.DataFrame:
    """Per run: mean final AP over the animal classes it scored, and how many classes that was."""
    if final.empty:
        return pd.DataFrame(columns=["animal_mAP", "animal_classes"])
    grouped = final.dropna(subset=["ap"]).groupby("run_id")["ap"]
    return pd.DataFrame({"animal_mAP": grouped.mean(), "animal_classes": grouped.size()})


def read_class_stats(root) -> pd.DataFrame | None:
    """results/class_stats.csv when present and readable, else None (the page then falls back)."""
    path = Path(root) / CLASS_STATS_FILE
    if not path.is_file():
        return None
    stats = pd.read_csv(path)
    if "index" not in stats.columns:
        raise ValueError(f"{path}: no 'index' column")
    return stats


def load_results(root) -> Results:
    """Read a results folder into a Results (never raises on a bad run: it becomes a warning)."""
    root = Path(root)
    runs, warnings = load_runs(root)
    table = runs_table(runs)
    labels = table["label"]
    animal_idx = set(animal_classes()["index"])
    classwise = _stack(runs, "classwise", labels)
    if not classwise.empty:
        classwise = classwise[classwise["index"].isin(animal_idx).to_numpy()].reset_index(drop=True)
    final = final_rows(classwise)
    table = table.join(animal_map(final))
    # A run scored on the animal set without a per-class table (the study's headline) keeps its own mAP.
    own = table["animal_mAP"].isna() & (table["label_set"] == "animal")
    table["animal_mAP_from"] = np.where(
        table["animal_classes"].notna(),
        "mean of per-class AP",
        np.where(own, "the run's own mAP, no per-class table", ""),
    )
    if own.any():  # (an empty selection cannot take pandas' empty result: a folder of measured runs only)
        # (to_numeric: a folder where no run has its own mAP holds None there, which a float column refuses)
        table.loc[own, "animal_mAP"] = pd.to_numeric(table.loc[own, "reported_mAP"], errors="coerce")
        table.loc[own, "animal_classes"] = pd.to_numeric(table.loc[own, "classes_scored"], errors="coerce")
    table["animal_mAP"] = pd.to_numeric(table["animal_mAP"], errors="coerce")
    curves = _stack(runs, "curve", labels)
    try:
        class_stats = read_class_stats(root)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        warnings.append(f"skipped {root / CLASS_STATS_FILE}: {exc}")
        class_stats = None
    return Results(
        root=root,
        runs=table,
        classwise=classwise,
        final=final,
        curves=curves,
        class_stats=class_stats,
        warnings=warnings,
    )
