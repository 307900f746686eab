"""Overview page tables: mAP on the 65 animal classes per run, the 527-class figures, and class-for-class wins.

The question the page answers is "do animal-only models beat the general ones, class for class?",
so every comparison here is made on the same classes; 527-class figures are kept apart.
"""

from __future__ import annotations

import pandas as pd

from dashboard.data import Results

GROUP_ANIMAL = "animal-only model"
GROUP_GENERAL = "general AudioSet model, on the animal classes"


N_ANIMAL = 65
MAP_527 = "mAP on all 527 classes"


def _scope(row) -> tuple[str, str]:
    """(scope of the run's bar, short tag for the bar or '' when it is the plain 65-class mean)."""
    n = row["animal_classes"]
    if row["animal_mAP_from"] == "mean of per-class AP":
        if n == N_ANIMAL:
            return f"mean AP over the {N_ANIMAL} animal classes", ""
        return (
            f"mean AP over {int(n)} of the {N_ANIMAL} animal classes (the others have no AP)",
            f"{int(n)} of {N_ANIMAL} classes",
        )
    if pd.isna(n):
        return "the run's own mAP; the classes it averaged are not recorded", "classes not recorded"
    if n > N_ANIMAL:
        return (
            f"the run's own mAP over {int(n)} classes, not only the {N_ANIMAL} animal classes",
            f"{int(n)} classes, not animals only",
        )
    if n == N_ANIMAL:
        return f"the run's own mAP over the {N_ANIMAL} animal classes", ""
    return f"the run's own mAP over {int(n)} of the {N_ANIMAL} animal classes", f"{int(n)} of {N_ANIMAL} classes"


def animal_overview(res: Results) -> pd.DataFrame:
    """One row per run with a mAP on the animal classes, animal-only models first, best first.

    `scope` says what each mAP averages (the reference study's figures cover 66 classes, Music
    included); `scope_tag` is the short form drawn next to a bar that is not a plain 65-class mean.
    """
    runs = res.runs[res.runs["animal_mAP"].notna()].copy()
    runs["group"] = runs["trained_on"].map({"animal": GROUP_ANIMAL, "audioset": GROUP_GENERAL})
    runs = runs.sort_values(["trained_on", "animal_mAP"], ascending=[True, False])
    scopes = [_scope(row) for _, row in runs.iterrows()]
    runs["scope"] = [s for s, _ in scopes]
    runs["scope_tag"] = [t for _, t in scopes]
    cols = [
        "label",
        "group",
        "status",
        "animal_mAP",
        "animal_classes",
        "scope",
        "scope_tag",
        "animal_mAP_from",
        "model",
        "display_name",
        "trained_on",
        "iterations",
        "source",
        "notes",
        "run_id",
    ]
    return runs.reindex(columns=cols).reset_index(drop=True)


def scope_caption(table: pd.DataFrame) -> str:
    """What the bars average, naming every bar that is not a mean over the 65 animal classes."""
    text = (
        f"Hatched bars are figures reported elsewhere (hover for the source); plain bars were measured with this "
        f"project. A bar is the mean AP over the {N_ANIMAL} animal classes unless its number says otherwise."
    )
    odd = table[table["scope_tag"] != ""]
    for scope, part in odd.groupby("scope", sort=False):
        notes = [n for n in part["notes"].dropna() if n.strip()]  # a run without notes has ""
        why = f' (notes: "{notes[0].split(". ")[0].rstrip(".")}.")' if notes else ""
        text += f" {', '.join(part['label'])}: {scope}{why}."
    return text


def overall_527(res: Results) -> pd.DataFrame:
    """Runs scored on all 527 AudioSet classes: shown apart, never on the animal chart."""
    runs = res.runs[(res.runs["label_set"] == "audioset") & res.runs["reported_mAP"].notna()]
    out = runs[["label", "model", "status", "reported_mAP", "source", "run_id"]].rename(
        columns={"reported_mAP": MAP_527}
    )
    return out.sort_values(MAP_527, ascending=False).reset_index(drop=True)


def comparability_note(res: Results) -> str:
    """Why a 527-class mAP (e.g. 0.439) must not be set against an animal-only mAP, with this folder's numbers."""
    lines = [
        "A mAP is a mean over classes, so it depends on which classes are averaged. The 527-class "
        "figures average over all of AudioSet (speech subtypes, music genres, rare sounds), most of them "
        "harder than animals; a mAP over the 65 animal classes is on an easier, different set."
    ]
    general = animal_overview(res)
    general = general[general["group"] == GROUP_GENERAL]
    overall = overall_527(res)
    if not general.empty and not overall.empty:
        pairs = []
        for _, g in general.iterrows():
            same = overall[overall["model"] == g["model"]]
            if not same.empty:
                pairs.append(
                    f"{g['display_name']}: {same[MAP_527].iloc[0]:.3f} on 527 classes but "
                    f"{g['animal_mAP']:.3f} on the animal classes"
                )
        if pairs:
            lines.append("The same general models: " + "; ".join(pairs) + ".")
    lines.append(
        "The reference study set its animal-only mAPs against the general model's 527-class 0.439; "
        "the fair comparison is the general model on the same animal classes (above). The study's own "
        "figures were also averaged over 66 classes (Music, index 137, was kept by mistake)."
    )
    return " ".join(lines)


def default_baseline(res: Results) -> str | None:
    """The general model to compare against: a measured general CNN14 if any, else the paper's CNN14, else any."""
    have = set(res.final["run_id"].unique())
    runs = res.runs[res.runs["run_id"].isin(have)]
    if runs.empty:
        return None
    general = runs[runs["trained_on"] == "audioset"]
    for frame in (
        general[(general["model"] == "Cnn14") & (general["status"] == "measured")],
        general[general["model"] == "Cnn14"],
        general,
        runs,
    ):
        if not frame.empty:
            return frame["run_id"].iloc[0]
    return None


def same_eval_set(res: Results, run_id: str, other: str) -> bool:
    """Were both runs scored on the same clips, as far as run.json says? Unrecorded never counts as the same."""
    a, b = res.runs.at[run_id, "eval_key"], res.runs.at[other, "eval_key"]
    return bool(a) and a == b


def across_sets_caption(wins: pd.DataFrame, baseline_label: str, baseline_set: str) -> str:
    """Names the compared runs scored on other clips than the baseline: their differences mix models and clips."""
    across = wins[~wins["same_eval_set"].astype(bool)]
    if across.empty:
        return ""
    return (
        f"Across evaluation sets: {', '.join(across['label'])} were not scored on the same clips as "
        f"{baseline_label} ({baseline_set}); their differences mix the models with the clips."
    )


def class_wins(res: Results, baseline: str) -> pd.DataFrame:
    """For each run with per-class AP: on the classes both it and the baseline scored, how often it is better.
    `at_iteration` is the run's last evaluated iteration (empty for reported end figures); `same_eval_set`
    says whether the difference is between runs on the same clips."""
    columns = [
        "label",
        "at_iteration",
        "classes",
        "better",
        "worse",
        "equal",
        "mAP",
        "baseline_mAP",
        "mean_difference",
        "eval_set",
        "same_eval_set",
        "run_id",
    ]
    ap = res.final.pivot_table(index="index", columns="run_id", values="ap", aggfunc="first")
    if baseline not in ap.columns:
        return pd.DataFrame(columns=columns)
    last = res.final.groupby("run_id")["iteration"].max()
    rows = []
    for run_id in ap.columns:
        if run_id == baseline:
            continue
        both = ap[[run_id, baseline]].dropna()
        diff = both[run_id] - both[baseline]
        rows.append(
            {
                "label": res.runs.at[run_id, "label"],
                "at_iteration": last.get(run_id) if pd.notna(last.get(run_id)) else pd.NA,
                "classes": len(both),
                "better": int((diff > 0).sum()),
                "worse": int((diff < 0).sum()),
                "equal": int((diff == 0).sum()),
                "mAP": both[run_id].mean(),
                "baseline_mAP": both[baseline].mean(),
                "mean_difference": diff.mean(),
                "eval_set": res.runs.at[run_id, "eval_set"],
                "same_eval_set": same_eval_set(res, run_id, baseline),
                "run_id": run_id,
            }
        )
    out = pd.DataFrame(rows, columns=columns)
    return out.sort_values("mean_difference", ascending=False).reset_index(drop=True)
