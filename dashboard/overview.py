"""Overview page tables: mAP on the 65 animal classes per run, the 527-class figures, and class-for-class wins.

The question the page answers is "do animal-only models beat the general ones, class for class?",
so every comparison here is made on the same classes; 527-class figures are kept apart.
"""
from __future__ import annotations

import pandas as pd

from dashboard.data import Results

GROUP_ANIMAL = "animal-only model"
GROUP_GENERAL = "general AudioSet model, on the animal classes"


def animal_overview(res: Results) -> pd.DataFrame:
    """One row per run with a mAP on the animal classes, animal-only models first, best first."""
    runs = res.runs[res.runs["animal_mAP"].notna()].copy()
    runs["group"] = runs["trained_on"].map({"animal": GROUP_ANIMAL, "audioset": GROUP_GENERAL})
    runs = runs.sort_values(["trained_on", "animal_mAP"], ascending=[True, False])
    cols = ["label", "group", "status", "animal_mAP", "animal_classes", "animal_mAP_from", "model", "display_name",
            "trained_on",
            "iterations", "source", "notes", "run_id"]
    return runs[cols].reset_index(drop=True)


def overall_527(res: Results) -> pd.DataFrame:
    """Runs scored on all 527 AudioSet classes: shown apart, never on the animal chart."""
    runs = res.runs[(res.runs["label_set"] == "audioset") & res.runs["reported_mAP"].notna()]
    out = runs[["label", "model", "status", "reported_mAP", "source", "run_id"]].rename(
        columns={"reported_mAP": "mAP_527_classes"})
    return out.sort_values("mAP_527_classes", ascending=False).reset_index(drop=True)


def comparability_note(res: Results) -> str:
    """Why a 527-class mAP (e.g. 0.439) must not be set against an animal-only mAP, with this folder's numbers."""
    lines = ["A mAP is a mean over classes, so it depends on which classes are averaged. The 527-class "
             "figures average over all of AudioSet (speech subtypes, music genres, rare sounds), most of them "
             "harder than animals; a mAP over the 65 animal classes is on an easier, different set."]
    general = animal_overview(res)
    general = general[general["group"] == GROUP_GENERAL]
    overall = overall_527(res)
    if not general.empty and not overall.empty:
        pairs = []
        for _, g in general.iterrows():
            same = overall[overall["model"] == g["model"]]
            if not same.empty:
                pairs.append(f"{g['display_name']}: {same['mAP_527_classes'].iloc[0]:.3f} on 527 classes but "
                             f"{g['animal_mAP']:.3f} on the animal classes")
        if pairs:
            lines.append("The same general models: " + "; ".join(pairs) + ".")
    lines.append("The reference study set its animal-only mAPs against the general model's 527-class 0.439; "
                 "the fair comparison is the general model on the same animal classes (above). The study's own "
                 "figures were also averaged over 66 classes (Music, index 137, was kept by mistake).")
    return " ".join(lines)


def default_baseline(res: Results) -> str | None:
    """The general model to compare against: a measured general CNN14 if any, else the paper's CNN14, else any."""
    have = set(res.final["run_id"].unique())
    runs = res.runs[res.runs["run_id"].isin(have)]
    if runs.empty:
        return None
    general = runs[runs["trained_on"] == "audioset"]
    for frame in (general[(general["model"] == "Cnn14") & (general["status"] == "measured")],
                  general[general["model"] == "Cnn14"], general, runs):
        if not frame.empty:
            return frame["run_id"].iloc[0]
    return None


def class_wins(res: Results, baseline: str) -> pd.DataFrame:
    """For each run with per-class AP: on the classes both it and the baseline scored, how often it is better."""
    ap = res.final.pivot_table(index="index", columns="run_id", values="ap", aggfunc="first")
    if baseline not in ap.columns:
        return pd.DataFrame(columns=["label", "classes", "better", "worse", "equal", "mAP", "baseline_mAP",
                                     "mean_difference", "run_id"])
    rows = []
    for run_id in ap.columns:
        if run_id == baseline:
            continue
        both = ap[[run_id, baseline]].dropna()
        diff = both[run_id] - both[baseline]
        rows.append({"label": res.runs.at[run_id, "label"], "classes": len(both), "better": int((diff > 0).sum()),
                     "worse": int((diff < 0).sum()), "equal": int((diff == 0).sum()),
                     "mAP": both[run_id].mean(), "baseline_mAP": both[baseline].mean(),
                     "mean_difference": diff.mean(), "run_id": run_id})
    out = pd.DataFrame(rows, columns=["label", "classes", "better", "worse", "equal", "mAP", "baseline_mAP",
                                      "mean_difference", "run_id"])
    return out.sort_values("mean_difference", ascending=False).reset_index(drop=True)
