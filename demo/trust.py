"""How far each predicted class can be trusted: the model's AP for that class, read from results/.

A score says how sure the model is about *this clip*; the class's AP says how well the model
ranks that class on a whole evaluation set. A high score on a class the model is poor at (low AP)
deserves less trust, and the page says so. The figures come from the results format
(`panns_core.results`, read only):

- a released general model: the PANNs paper's per-class AP on the 65 animal classes
  (results/reported_panns_<arch>_animal), when the paper's plot gave one (not for ResNet38);
- a checkpoint we trained: its own measured run, matched by the checkpoint path the run
  recorded, or by the run id the checkpoint carries (its training config, or its run folder).

Reading every run is cheap but not free, so the app builds one `TrustIndex` at start.
This lookup could move into the core once the dashboard needs it too.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from panns_core.evaluation.results import Run, load_runs

LOW_AP = 0.3  # below this per-class AP a score above the threshold is marked "less reliable"
NO_FIGURE = "no per-class figure"
AP_MEANING = (
    "**AP** (average precision, 0 to 1) says how well the model finds that class on a labelled test "
    f"set: near 1, its high scores are nearly always right; below {LOW_AP:g}, a high score is often a "
    "false alarm, so it is marked *less reliable*."
)

# Released checkpoints -> the run holding the paper's per-class AP on the animal classes.
REPORTED_RUNS = {
    "Cnn14": "reported_panns_cnn14_animal",
    "Wavegram_Logmel_Cnn14": "reported_panns_wavegram_logmel_cnn14_animal",
    "MobileNetV1": "reported_panns_mobilenetv1_animal",
}


@dataclass(frozen=True)
class ClassTrust:
    """The per-class AP of one model on one class and where it comes from; `ap` None when none is known."""

    ap: float | None
    source: str = ""
    threshold: float | None = None  # the class's own threshold, from a thresholds file (`--thresholds`)

    @property
    def low(self) -> bool:
        return self.ap is not None and self.ap < LOW_AP

    def text(self) -> str:
        return NO_FIGURE if self.ap is None else f"{self.ap:.2f}"


@dataclass(frozen=True)
class ModelTrust:
    """Per-class AP of one model by AudioSet mid, with the run it comes from."""

    by_mid: dict[str, float]
    source: str  # shown on hover: run id, measured or reported, citation
    thresholds: dict = field(default_factory=dict)  # {mid: the class's own threshold}, from --thresholds

    def of(self, mid: str) -> ClassTrust:
        ap = self.by_mid.get(mid)
        threshold = self.thresholds.get(mid)
        return ClassTrust(None, threshold=threshold) if ap is None else ClassTrust(ap, self.source, threshold)

    def with_thresholds(self, thresholds: dict) -> ModelTrust:
        return replace(self, thresholds=dict(thresholds)) if thresholds else self


NO_TRUST = ModelTrust({}, "")


def trust_cell(trust: ClassTrust, score: float | None = None) -> str:
    """The AP as Markdown with its source on hover, marked when low; "no per-class figure" when none;
    then, when the class has its own threshold and a score is given, whether the score reaches it."""
    if trust.ap is None:
        text = f"*{NO_FIGURE}*"
    else:
        text = f'<span title="{html.escape(trust.source, quote=True)}">AP {trust.ap:.2f}</span>'
        text += " ⚠ *less reliable*" if trust.low else ""
    if trust.threshold is not None and score is not None:
        reached = "**reached**" if score >= trust.threshold else "not reached"
        text += f"; own threshold {trust.threshold:.3f}: {reached}"
    return text


def _last_iteration(classwise: pd.DataFrame) -> pd.DataFrame:
    """The class-wise rows of the latest evaluated iteration (reported runs have none: all rows)."""
    if classwise.empty or classwise["iteration"].isna().all():
        return classwise
    return classwise[classwise["iteration"] == classwise["iteration"].max()]


def _model_trust(run: Run) -> ModelTrust:
    rows = _last_iteration(run.classwise)
    by_mid = {str(mid): float(ap) for mid, ap in zip(rows["mid"], rows["ap"]) if not math.isnan(float(ap))}
    info = run.info
    what = "reported" if info.status == "reported" else "measured"
    when = (
        f", iteration {int(rows['iteration'].iloc[0])}" if len(rows) and not pd.isna(rows["iteration"].iloc[0]) else ""
    )
    source = f"{what} in run {info.run_id}{when}"
    if info.source:
        source += f"; source: {info.source}"
    return ModelTrust(by_mid, source)


def _same_file(a: str | Path | None, b: str | Path | None) -> bool:
    if not a or not b:
        return False
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


class TrustIndex:
    """Every run under a results folder with per-class AP, looked up by released name or checkpoint."""

    def __init__(self, results_dir: Path | None):
        runs, self.warnings = load_runs(results_dir) if results_dir and Path(results_dir).is_dir() else ([], [])
        self.runs = {run.run_id: run for run in runs if not run.classwise.empty}

    def for_released(self, name: str) -> ModelTrust:
        run = self.runs.get(REPORTED_RUNS.get(name, ""))
        return _model_trust(run) if run is not None else NO_TRUST

    def for_checkpoint(self, path: str | Path | None, run_id: str | None = None) -> ModelTrust:
        """A trained checkpoint's own measured AP: the newest run that recorded this file, or the run
        whose id the checkpoint carries (its training config's run id, or its run folder's name)."""
        ids = {i for i in (run_id, Path(path).parent.name if path else None) if i}
        matches = [
            run
            for run in self.runs.values()
            if run.info.status == "measured" and (_same_file(run.info.checkpoint, path) or run.run_id in ids)
        ]
        if not matches:
            return NO_TRUST
        return _model_trust(max(matches, key=lambda run: run.info.created))
