"""The results format: one folder per run, written atomically and read back with validation.

Training, evaluation and the shipped published figures all go through this module, and the
dashboard reads only what it returns, so the format lives in one place (documented in
results/README.md):

    <root>/<run_id>/run.json        RunInfo (what was run, on what, measured or reported, source)
    <root>/<run_id>/classwise.csv   AP (and AUC, counts) per class per evaluated iteration; optional
    <root>/<run_id>/curve.csv       mAP (and mean AUC, d', loss) per evaluated iteration; optional

A run is written to a hidden temporary folder beside its final place and renamed into place,
so a reader never sees a half-written run (a killed writer leaves only a hidden `.tmp-*` folder,
which readers skip).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from panns_core.errors import PannsError

FORMAT_VERSION = 1
RUN_FILE = "run.json"
CLASSWISE_FILE = "classwise.csv"
CURVE_FILE = "curve.csv"

KINDS = ("fit", "evaluate", "reported", "probe")  # probe: `panns probe fit`, AP cross-validated on own clips
STATUSES = ("measured", "reported")
LABEL_SETS = ("animal", "audioset")

# Required first, then optional columns (filled with NaN when absent). Extra columns are kept.
CLASSWISE_REQUIRED = ("iteration", "index", "mid", "display_name", "ap")
CLASSWISE_OPTIONAL = ("auc", "positives", "train_clips")
CURVE_REQUIRED = ("iteration", "mAP")
CURVE_OPTIONAL = ("mean_auc", "d_prime", "loss")


# Evaluation sets of the shipped reported runs. Figures are comparable only on the same clips: the
# PANNs authors and the reference study both evaluated on AudioSet's evaluation list, but each on
# the clips it could download (the study's download was smaller), so the two are different sets.
EVAL_SETS = {
    "audioset_eval_panns": {
        "name": "AudioSet evaluation set (PANNs authors' download)",
        "clips": None,
        "digest": None,
        "note": "about 20,000 clips; the clip list was not published with the figures",
    },
    "audioset_eval_study": {
        "name": "AudioSet evaluation set (reference study's download)",
        "clips": None,
        "digest": None,
        "note": "the animal clips of AudioSet's evaluation list the study could "
        "download, fewer than the PANNs authors'; not published",
    },
}


def eval_set_record(name: str, clip_ids) -> dict:
    """run.json's `eval_set` for clips scored here: a name, the number of clips and a digest of their sorted ids.

    Two runs with the same digest were scored on exactly the same clips (ids are YouTube ids or file
    names, whatever the evaluation iterated over); the order the clips were scored in does not matter."""
    ids = sorted(str(c) for c in clip_ids)
    digest = hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:16]
    return {"name": str(name), "clips": len(ids), "digest": f"sha256:{digest}"}


def eval_set_key(eval_set: dict) -> str:
    """What makes two evaluation sets the same: the digest when known, else the name ('' when unrecorded)."""
    if not eval_set:
        return ""
    return eval_set.get("digest") or eval_set.get("name") or ""


class ResultsError(PannsError, ValueError):
    """A run folder or its contents do not follow the results format; the message names the file."""


@dataclass
class RunInfo:
    """What run.json holds. `source` is required for reported figures: a number without a source is not shown."""

    run_id: str
    kind: str
    status: str
    model: str
    trained_on: str
    label_set: str
    display_name: str = ""
    data: dict = field(default_factory=dict)
    checkpoint: str | None = None
    iterations: int | None = None
    created: str = ""
    hardware: str | None = None
    source: str | None = None
    settings: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    notes: str = ""
    eval_set: dict = field(default_factory=dict)  # {name, clips, digest}: see eval_set_record
    extra: dict = field(default_factory=dict)  # unknown run.json keys, kept so newer writers round-trip

    def __post_init__(self) -> None:
        if not self.display_name:
            self.display_name = self.model
        if not self.created:
            self.created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.validate()

    def validate(self) -> None:
        """Raise ResultsError on anything a reader could not interpret unambiguously."""
        for name in ("run_id", "model"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ResultsError(f"{name} must be a non-empty string, got {value!r}")
        if "/" in self.run_id or "\\" in self.run_id or self.run_id.startswith((".", "_")):
            # readers skip '.'/'_' folders (writes in progress), so such a run would vanish
            raise ResultsError(
                f"run_id {self.run_id!r} must be a plain folder name (no slashes, no leading '.' or '_')"
            )
        _check_choice("kind", self.kind, KINDS)
        _check_choice("status", self.status, STATUSES)
        _check_choice("trained_on", self.trained_on, LABEL_SETS)
        _check_choice("label_set", self.label_set, LABEL_SETS)
        if (self.kind == "reported") != (self.status == "reported"):
            raise ResultsError(
                f"kind {self.kind!r} and status {self.status!r} disagree: only kind 'reported' is status 'reported'"
            )
        if self.status == "reported" and not (isinstance(self.source, str) and self.source.strip()):
            raise ResultsError("a reported run needs a source (citation)")
        if self.iterations is not None and (not isinstance(self.iterations, int) or self.iterations < 0):
            raise ResultsError(f"iterations must be a non-negative integer or null, got {self.iterations!r}")
        for name in ("data", "settings", "metrics", "extra", "eval_set"):
            if not isinstance(getattr(self, name), dict):
                raise ResultsError(f"{name} must be an object (dict)")
        for key in ("mAP", "mean_auc", "d_prime"):
            value = self.metrics.get(key)
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value)):
                raise ResultsError(f"metrics.{key} must be a finite number or null, got {value!r}")
        if self.eval_set:
            if not isinstance(self.eval_set.get("name"), str) or not self.eval_set["name"].strip():
                raise ResultsError(f"eval_set.name must be a non-empty string, got {self.eval_set.get('name')!r}")
            clips = self.eval_set.get("clips")
            if clips is not None and (not isinstance(clips, int) or isinstance(clips, bool) or clips < 0):
                raise ResultsError(f"eval_set.clips must be a non-negative integer or null, got {clips!r}")
            if self.eval_set.get("digest") is not None and not isinstance(self.eval_set["digest"], str):
                raise ResultsError(f"eval_set.digest must be a string or null, got {self.eval_set['digest']!r}")
        m = self.metrics.get("mAP")
        if m is not None and not 0.0 <= m <= 1.0:
            raise ResultsError(f"metrics.mAP must lie in [0, 1], got {m}")

    def to_dict(self) -> dict:
        out = {"format_version": FORMAT_VERSION}
        out.update({k: v for k, v in asdict(self).items() if k != "extra"})
        out.update(self.extra)
        return out

    @classmethod
    def from_dict(cls, values: dict) -> RunInfo:
        if not isinstance(values, dict):
            raise ResultsError("run.json must hold a JSON object")
        known = {f.name for f in fields(cls)} - {"extra"}
        missing = [k for k in ("run_id", "kind", "status", "model", "trained_on", "label_set") if k not in values]
        if missing:
            raise ResultsError(f"run.json lacks required keys: {', '.join(missing)}")
        extra = {k: v for k, v in values.items() if k not in known and k != "format_version"}
        return cls(**{k: v for k, v in values.items() if k in known}, extra=extra)


@dataclass
class Run:
    """A run read back: its info, its tables (empty frames when absent) and where it lives."""

    info: RunInfo
    classwise: pd.DataFrame
    curve: pd.DataFrame
    path: Path | None = None

    @property
    def run_id(self) -> str:
        return self.info.run_id


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        raise ResultsError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def empty_classwise() -> pd.DataFrame:
    return _conform(pd.DataFrame(columns=list(CLASSWISE_REQUIRED)), "classwise", CLASSWISE_REQUIRED, CLASSWISE_OPTIONAL)


def empty_curve() -> pd.DataFrame:
    return _conform(pd.DataFrame(columns=list(CURVE_REQUIRED)), "curve", CURVE_REQUIRED, CURVE_OPTIONAL)


def _conform(df: pd.DataFrame, what: str, required, optional) -> pd.DataFrame:
    """Check columns and types and return a normalised copy (nullable int iteration, float metrics)."""
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise ResultsError(f"{what} table lacks columns: {', '.join(missing)} (has {', '.join(map(str, df.columns))})")
    df = df.copy()
    for c in optional:
        if c not in df.columns:
            df[c] = math.nan
    order = list(required) + list(optional)
    df = df[order + [c for c in df.columns if c not in order]]
    try:
        df["iteration"] = pd.to_numeric(df["iteration"], errors="raise").astype("Int64")
        numeric = [c for c in order if c not in ("iteration", "index", "mid", "display_name")]
        for c in numeric:
            df[c] = pd.to_numeric(df[c], errors="raise").astype("float64")
        if "index" in df.columns:
            if df["index"].isna().any():
                raise ValueError("index has empty cells")
            df["index"] = pd.to_numeric(df["index"], errors="raise").astype("int64")
    except (ValueError, TypeError) as exc:
        raise ResultsError(f"{what} table has a non-numeric value: {exc}") from None
    for c in ("ap", "auc", "mAP", "mean_auc"):
        if c in df.columns:
            bad = df[c].notna() & ~df[c].between(0.0, 1.0)
            if bad.any():
                raise ResultsError(
                    f"{what} column {c} must lie in [0, 1]; row {int(bad.idxmax())} has {df.loc[bad.idxmax(), c]}"
                )
    if "mid" in df.columns:
        df["mid"] = df["mid"].astype("string")
        df["display_name"] = df["display_name"].astype("string")
    return df.reset_index(drop=True)


def conform_classwise(df: pd.DataFrame) -> pd.DataFrame:
    """Validate and normalise a class-wise table (see CLASSWISE_REQUIRED / CLASSWISE_OPTIONAL)."""
    return _conform(df, "classwise", CLASSWISE_REQUIRED, CLASSWISE_OPTIONAL)


def conform_curve(df: pd.DataFrame) -> pd.DataFrame:
    """Validate and normalise a curve table (see CURVE_REQUIRED / CURVE_OPTIONAL)."""
    return _conform(df, "curve", CURVE_REQUIRED, CURVE_OPTIONAL)


def write_run(
    root,
    info: RunInfo,
    classwise_df: pd.DataFrame | None = None,
    curve_df: pd.DataFrame | None = None,
    overwrite: bool = False,
) -> Path:
    """Write a run folder <root>/<run_id> atomically and return its path.

    Everything is validated and written into a hidden temporary folder first, then renamed into
    place; with overwrite=True an existing run is replaced (the old folder is moved aside first; a
    reader in the instant between the two renames finds no run, never half of one).
    Tables are optional: reported headline figures have neither.
    """
    info.validate()
    classwise = conform_classwise(classwise_df) if classwise_df is not None else None
    curve = conform_curve(curve_df) if curve_df is not None else None
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    final = root / info.run_id
    if final.exists() and not overwrite:
        raise ResultsError(f"run {final} already exists (pass overwrite=True to replace it)")
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{info.run_id}-", dir=root))
    try:
        text = json.dumps(info.to_dict(), indent=2, ensure_ascii=False, default=_json_default) + "\n"
        (tmp / RUN_FILE).write_text(text, encoding="utf-8")
        if classwise is not None:
            classwise.to_csv(tmp / CLASSWISE_FILE, index=False, float_format="%.6g")
        if curve is not None:
            curve.to_csv(tmp / CURVE_FILE, index=False, float_format="%.6g")
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700
        old = None
        if final.exists():
            old = root / f".old-{info.run_id}-{os.getpid()}"
            os.replace(final, old)
        os.replace(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def _json_default(value):
    """numpy scalars and paths appear in metrics/settings written by training code."""
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} to run.json")


def _read_table(path: Path, conform) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype={"mid": "string", "display_name": "string"})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: unreadable CSV ({exc})") from None
    try:
        return conform(df)
    except ResultsError as exc:
        raise ResultsError(f"{path}: {exc}") from None


def load_run(path) -> Run:
    """Read and validate one run folder; raise ResultsError naming the offending file."""
    path = Path(path)
    run_file = path / RUN_FILE
    if not run_file.is_file():
        raise ResultsError(f"{run_file}: missing")
    try:
        values = json.loads(run_file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{run_file}: not valid JSON ({exc})") from None
    try:
        info = RunInfo.from_dict(values)
    except (ResultsError, TypeError) as exc:
        raise ResultsError(f"{run_file}: {exc}") from None
    classwise_file, curve_file = path / CLASSWISE_FILE, path / CURVE_FILE
    classwise = _read_table(classwise_file, conform_classwise) if classwise_file.exists() else empty_classwise()
    curve = _read_table(curve_file, conform_curve) if curve_file.exists() else empty_curve()
    return Run(info=info, classwise=classwise, curve=curve, path=path)


def load_runs(root) -> tuple[list[Run], list[str]]:
    """Read every run under root, sorted by run_id; skip broken ones with a warning naming the file.

    Hidden folders (writes in progress) and plain files (such as class_stats.csv) are ignored. A
    missing root gives no runs and one warning; an empty root gives no runs and no warning.
    """
    root = Path(root)
    if not root.is_dir():
        return [], [f"results folder {root} not found"]
    runs: list[Run] = []
    warnings: list[str] = []
    seen: dict[str, Path] = {}
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))):
        try:
            run = load_run(sub)
        except ResultsError as exc:
            warnings.append(f"skipped {exc}")
            continue
        except OSError as exc:
            warnings.append(f"skipped {sub}: {exc}")
            continue
        if run.run_id in seen:
            warnings.append(f"skipped {sub / RUN_FILE}: run_id {run.run_id!r} already used by {seen[run.run_id]}")
            continue
        seen[run.run_id] = sub
        runs.append(run)
    return runs, warnings
