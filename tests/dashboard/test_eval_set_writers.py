"""Every writer of a run says which clips it was scored on, or why the clips are not known.

The dashboard compares two runs "on the same clips" only when both recorded the same evaluation set, so a
writer that leaves `eval_set` out silently turns its runs into "not recorded" ones. The writers are found
in the source (every call of `write_run`, and every call of `reporting.write`, through which fit and
evaluate write), the list must match the one below, and each listed writer is run and its run.json read
back: a name and a digest of the clip ids (with their number), or a name and a note saying why not.
"""

from __future__ import annotations

import ast
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from panns_core.evaluation.results import eval_set_record, load_run, load_runs
from panns_core.labels.sets import ANIMAL

REPO = Path(__file__).resolve().parents[2]
PRODUCT = ("panns_core", "dashboard", "train", "tools", "demo")

# (file, function) -> how its runs are checked below
WRITE_RUN_CALLERS = {
    ("panns_core/evaluation/reporting.py", "write"),  # every measured run: fit and evaluate
    ("tools/build_reported.py", "build"),  # the PANNs paper's figures
    ("tools/read_study_figures.py", "build"),  # the reference study's curves
    ("tools/read_study_figures.py", "write_classwise"),  # the reference study's class-wise figure
    # a probe's cross-validated AP on the user's clips: the manifest's digest and clip count, checked by
    # tests/own_labels/test_probe.py::test_probe_run_is_shown_by_the_dashboard (it needs a model to run)
    ("panns_core/cli/probe.py", "run_fit"),
}
REPORTING_CALLERS = {  # measured runs: each must hand over the pack it scored
    ("panns_core/training/loop.py", "fit"),
    ("train/evaluate.py", "evaluate_checkpoint"),
}


def says_which_clips(eval_set: dict) -> bool:
    """A name, and either a digest of the clip ids with their number, or a note saying why they are unknown."""
    if not isinstance(eval_set, dict) or not str(eval_set.get("name") or "").strip():
        return False
    if eval_set.get("digest"):
        return str(eval_set["digest"]).startswith("sha256:") and isinstance(eval_set.get("clips"), int)
    return bool(str(eval_set.get("note") or "").strip())


def calls(name: str):
    """(file, enclosing function, call node) of every call of `name` (plain or as an attribute) in the product."""
    found = []
    for folder in PRODUCT:
        for path in sorted((REPO / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for func in ast.walk(tree):
                if not isinstance(func, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                for node in ast.walk(func):
                    if isinstance(node, ast.Call):
                        f = node.func
                        called = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
                        if called == name:
                            found.append((path.relative_to(REPO).as_posix(), func.name, node))
    return found


def test_the_writers_are_the_listed_ones():
    """A new writer of runs must be added here, with a check of what it records."""
    writers = {(path, func) for path, func, _ in calls("write_run")}
    assert writers == WRITE_RUN_CALLERS
    measured = {(path, func) for path, func, node in calls("write") if _is_reporting_write(node)}
    assert measured == REPORTING_CALLERS


def _is_reporting_write(node: ast.Call) -> bool:
    return isinstance(node.func, ast.Attribute) and ast.unparse(node.func.value) == "reporting"


def test_fit_and_evaluate_hand_over_the_pack_they_scored():
    """The measured writers pass the evaluation pack itself (never None), so reporting records its clips."""
    for path, func, node in calls("write"):
        if not _is_reporting_write(node):
            continue
        packs = [k.value for k in node.keywords if k.arg == "eval_pack"]
        assert len(packs) == 1, f"{path}:{func} writes a run without eval_pack"
        assert not (isinstance(packs[0], ast.Constant) and packs[0].value is None), f"{path}:{func}"


def _pack(path: str, names):
    """What reporting.write reads of a PackedDataset: the file and its clip names."""
    return SimpleNamespace(info=SimpleNamespace(path=path), audio_names=list(names))


def _reporting_kwargs(tmp_path, **over):
    kwargs = dict(
        run_id="measured",
        kind="evaluate",
        model="Cnn14",
        trained_on="animal",
        labels=ANIMAL,
        data={},
        checkpoint=None,
        iterations=None,
        settings={},
        scores=None,
        classwise=[],
        curve=[],
        hardware_text="CPU",
    )
    kwargs.update(over)
    return kwargs


def test_measured_runs_record_the_digest_of_the_clips_they_were_scored_on(tmp_path):
    from panns_core.evaluation import reporting

    folder = reporting.write(tmp_path, **_reporting_kwargs(tmp_path, eval_pack=_pack("/data/eval.h5", ["Yb", "Ya"])))
    eval_set = load_run(folder).info.eval_set
    assert eval_set == eval_set_record("eval.h5", ["Ya", "Yb"]) and says_which_clips(eval_set)
    with pytest.raises(ValueError, match="evaluation set"):
        reporting.write(tmp_path, **_reporting_kwargs(tmp_path, eval_pack=None))
    with pytest.raises(TypeError):
        reporting.write(tmp_path, **_reporting_kwargs(tmp_path))  # eval_pack is required


def test_the_panns_papers_figures_name_their_set_and_why_its_clips_are_unknown(shared_dir, tmp_path):
    from tools.build_reported import build

    written = build(shared_dir / "audioset" / "panns_paper_classwise_ap.csv", tmp_path)
    assert written
    for folder in written:
        assert says_which_clips(load_run(folder).info.eval_set), folder.name


def test_the_studys_figures_name_their_set_and_why_its_clips_are_unknown(tmp_path, monkeypatch):
    """Both study writers, run on a tiny reading of the figures (reading the PNGs takes the slow suite)."""
    from tools import read_study_figures as study

    line = study.CURVE_LINES["a"][0]
    curves = pd.DataFrame(
        [
            {"panel": "a", "legend": line.legend, "run_id": line.run_id, "series": series, "iteration": it, "mAP": m}
            for series in ("solid", "faint")
            for it, m in ((0, 0.1), (2000, 0.3))
        ]
    )
    classwise = pd.DataFrame(
        {
            "panel": [1, 1],
            "legend": ["Dog (1,000)", "Dog (1,000)"],
            "display_name": ["Dog", "Dog"],
            "iteration": [0, 1000],
            "ap": [0.2, np.nan],
            "train_clips": [1000.0, 1000.0],
            "reading": ["own colour"] * 2,
        }
    )
    monkeypatch.setattr(study, "read_curves", lambda seed: curves)
    monkeypatch.setattr(study, "read_classwise", lambda seed: classwise)
    written = study.build(tmp_path / "no-seed", tmp_path / "out")
    assert {f.name for f in written} == {line.run_id, f"{line.run_id}_faint", study.CLASSWISE_RUN}
    for folder in written:
        assert says_which_clips(load_run(folder).info.eval_set), folder.name


def test_every_shipped_run_says_which_clips():
    runs, warnings = load_runs(REPO / "results")
    assert runs and warnings == []
    for r in runs:
        assert says_which_clips(r.info.eval_set), r.run_id


@pytest.mark.parametrize(
    "eval_set, ok",
    [
        (eval_set_record("eval.h5", ["Ya"]), True),
        ({"name": "AudioSet evaluation set", "clips": None, "digest": None, "note": "not published"}, True),
        ({"name": "AudioSet evaluation set", "clips": None, "digest": None}, False),  # no digest, no reason
        ({"name": "eval.h5", "digest": "sha256:0123"}, False),  # a digest without the number of clips
        ({"name": "", "note": "x"}, False),
        ({}, False),
    ],
)
def test_says_which_clips(eval_set, ok):
    assert says_which_clips(eval_set) is ok
