"""The results format: round trips, validation errors that name the problem, atomic writes, broken runs skipped."""

import json
import os

import pandas as pd
import pytest

from panns_core.evaluation import results as R
from panns_core.evaluation.results import ResultsError, RunInfo, load_run, load_runs, write_run


def _info(run_id="run1", **kw):
    base = dict(
        run_id=run_id,
        kind="fit",
        status="measured",
        model="Cnn14",
        trained_on="animal",
        label_set="animal",
        settings={"batch_size": 32, "mixup": True},
        metrics={"mAP": 0.42},
    )
    base.update(kw)
    return RunInfo(**base)


def _classwise(iterations=(0, 1000)):
    rows = []
    for it in iterations:
        for i, (mid, name) in enumerate([("/m/0jbk", "Animal"), ("/m/068hy", "Domestic animals, pets")]):
            rows.append(
                dict(
                    iteration=it,
                    index=72 + i,
                    mid=mid,
                    display_name=name,
                    ap=0.1 * (i + 1) + it / 1e4,
                    auc=0.9,
                    positives=10 + i,
                )
            )
    return pd.DataFrame(rows)


def _curve():
    return pd.DataFrame({"iteration": [0, 1000], "mAP": [0.15, 0.25], "loss": [0.7, 0.3]})


def test_round_trip_keeps_info_tables_and_unknown_keys(tmp_path):
    info = _info(notes="smoke", extra={"future_key": [1, 2]})
    path = write_run(tmp_path, info, _classwise(), _curve())
    assert path == tmp_path / "run1"
    run = load_run(path)
    assert run.info == info
    assert run.info.extra == {"future_key": [1, 2]}
    assert run.classwise["ap"].round(4).tolist() == [0.1, 0.2, 0.2, 0.3]
    assert run.classwise["iteration"].dtype == "Int64"
    assert run.classwise["train_clips"].isna().all()  # optional column added empty
    assert run.curve["loss"].tolist() == [0.7, 0.3]
    assert run.curve["mean_auc"].isna().all()
    saved = json.loads((path / "run.json").read_text())
    assert saved["format_version"] == R.FORMAT_VERSION and saved["future_key"] == [1, 2]


def test_reported_run_without_tables_and_with_empty_iteration(tmp_path):
    info = _info("rep", kind="reported", status="reported", source="Kong et al. 2020", trained_on="audioset")
    cw = _classwise((0,)).assign(iteration=pd.NA)
    run = load_run(write_run(tmp_path, info, cw))
    assert run.classwise["iteration"].isna().all() and len(run.classwise) == 2
    assert run.curve.empty and list(run.curve.columns[:2]) == ["iteration", "mAP"]
    assert load_run(
        write_run(tmp_path, _info("headline", kind="reported", status="reported", source="x"))
    ).classwise.empty


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(kind="train"), "kind must be one of"),
        (dict(status="guessed"), "status must be one of"),
        (dict(label_set="birds"), "label_set must be one of"),
        (dict(kind="reported", status="reported"), "needs a source"),
        (dict(kind="evaluate", status="reported", source="x"), "disagree"),
        (dict(run_id="a/b"), "plain folder name"),
        (dict(run_id="_hidden"), "plain folder name"),
        (dict(run_id=""), "run_id must be a non-empty"),
        (dict(metrics={"mAP": 1.5}), r"\[0, 1\]"),
        (dict(metrics={"mAP": float("nan")}), "finite number"),
        (dict(iterations=-3), "non-negative"),
    ],
)
def test_invalid_info_is_rejected_with_a_clear_message(change, message):
    with pytest.raises(ResultsError, match=message):
        _info(**change)


def test_missing_columns_and_bad_values_are_rejected_before_anything_is_written(tmp_path):
    with pytest.raises(ResultsError, match="classwise table lacks columns: ap"):
        write_run(tmp_path, _info(), _classwise().drop(columns="ap"))
    with pytest.raises(ResultsError, match="curve table lacks columns: mAP"):
        write_run(tmp_path, _info(), None, _curve().rename(columns={"mAP": "map"}))
    with pytest.raises(ResultsError, match="ap must lie in"):
        write_run(tmp_path, _info(), _classwise().assign(ap=2.0))
    with pytest.raises(ResultsError, match="non-numeric"):
        write_run(tmp_path, _info(), None, _curve().assign(mAP=["x", "y"]))
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


def test_existing_run_is_kept_unless_overwrite(tmp_path):
    write_run(tmp_path, _info(), _classwise(), _curve())
    with pytest.raises(ResultsError, match="already exists"):
        write_run(tmp_path, _info(metrics={"mAP": 0.9}))
    write_run(tmp_path, _info(metrics={"mAP": 0.9}), None, _curve(), overwrite=True)
    run = load_run(tmp_path / "run1")
    assert run.info.metrics["mAP"] == 0.9 and run.classwise.empty  # old classwise gone with the old folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run1"]


def test_failed_write_leaves_no_visible_run(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError, match="disk full"):
        write_run(tmp_path, _info(), _classwise())
    assert list(tmp_path.iterdir()) == []


def test_load_runs_skips_broken_runs_naming_the_file(tmp_path):
    write_run(tmp_path, _info("good"), _classwise(), _curve())
    bad_json = tmp_path / "bad_json"
    bad_json.mkdir()
    (bad_json / "run.json").write_text("{not json")
    bad_csv = write_run(tmp_path, _info("bad_csv"), _classwise())
    (bad_csv / "classwise.csv").write_text("iteration,index\n1,2\n")
    no_key = tmp_path / "no_key"
    no_key.mkdir()
    (no_key / "run.json").write_text(json.dumps({"run_id": "no_key", "kind": "fit"}))
    (tmp_path / "empty_dir").mkdir()
    (tmp_path / ".tmp-inprogress-123").mkdir()  # a write in progress: ignored, no warning
    (tmp_path / "class_stats.csv").write_text("index\n72\n")  # plain files are not runs
    dup = write_run(tmp_path, _info("zz_copy"))
    data = json.loads((dup / "run.json").read_text())
    data["run_id"] = "good"
    (dup / "run.json").write_text(json.dumps(data))

    runs, warnings = load_runs(tmp_path)
    assert [r.run_id for r in runs] == ["good"]
    text = "\n".join(warnings)
    assert len(warnings) == 5
    assert str(bad_json / "run.json") in text and "not valid JSON" in text
    assert str(bad_csv / "classwise.csv") in text and "lacks columns" in text
    assert str(no_key / "run.json") in text and "status" in text
    assert str(tmp_path / "empty_dir" / "run.json") in text and "missing" in text
    assert "already used" in text


def test_load_runs_on_empty_and_missing_folders(tmp_path):
    assert load_runs(tmp_path) == ([], [])
    runs, warnings = load_runs(tmp_path / "nope")
    assert runs == [] and "not found" in warnings[0]


def test_written_folder_is_readable_by_others(tmp_path):
    path = write_run(tmp_path, _info())
    assert os.stat(path).st_mode & 0o755 == 0o755
