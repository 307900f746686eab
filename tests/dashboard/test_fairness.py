"""The dashboard's fairness rules as properties over generated result sets.

What the dashboard exists for: an animal-only model and a general AudioSet model are compared on the
classes both scored and on the same clips, or the page says they are not; and a figure read from a paper
is never passed off as measured here. Hypothesis writes random result folders through the real writer
(`panns_core.evaluation.results.write_run`) and reads them back through the real loader (`dashboard.data.load_results`):
runs with random, partly overlapping animal classes, missing APs, a non-animal row now and then, iterations
(only the last evaluated one counts), reported and measured runs, recorded, name-only and unrecorded
evaluation sets. Every expected figure is computed here in plain Python from what was written, never by
calling the function under test.

Examples are derandomised (the same ones every run, no example database) and capped so that the module
runs in well under a minute on one core.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field

import pandas as pd
from dashboard_runs import rows, run
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from dashboard import charts, compare, curves, effect, overview
from dashboard.classes import animal_classes
from dashboard.data import load_results
from panns_core.evaluation.results import eval_set_record

# No shrinking: each shrink step writes and loads a folder, so shrinking a failure took minutes; an example is
# small anyway (at most five runs of at most five classes) and is printed as drawn.
PROPERTIES = settings(
    max_examples=30, deadline=None, derandomize=True, database=None, phases=(Phase.explicit, Phase.generate)
)

POOL = (72, 73, 74, 75, 76)  # five animal classes: small, so that random class sets overlap partly
SPEECH = 0  # a class that is not an animal: the loader drops it, so no comparison may count it
ANIMAL = set(animal_classes()["index"])
AP_GRID = tuple(k / 8 for k in range(9))  # exact in run.json's CSV, and ties (equal APs) are frequent

# Evaluation sets a run may record: none, clip digests (two of them the same clips in another order), name only
UNRECORDED = {}
EVAL_CHOICES = (
    UNRECORDED,
    eval_set_record("eval.h5", ["Ya", "Yb"]),
    eval_set_record("eval.h5", ["Yb", "Ya"]),  # the same clips, listed in another order
    eval_set_record("eval.h5", ["Yc"]),  # the same file name, other clips
    {"name": "eval.h5"},  # the same name as the digested sets, no digest: not known to be the same clips
    {"name": "AudioSet evaluation set (PANNs authors' download)", "clips": None, "digest": None},
    {"name": "AudioSet evaluation set (reference study's download)", "clips": None, "digest": None},
)


@dataclass
class Spec:
    """One generated run, as written."""

    run_id: str
    status: str
    trained_on: str
    label_set: str
    tables: dict  # iteration (None: a table without iterations) -> {class index: AP or None}
    eval_set: dict
    curve: list = field(default_factory=list)  # (iteration, mAP)
    headline: float | None = None  # metrics.mAP (the run's own figure)
    classes_scored: int | None = None

    @property
    def reported(self) -> bool:
        return self.status == "reported"

    @property
    def source(self) -> str:
        return f"Paper {self.run_id}" if self.reported else "measured here"

    def final(self) -> dict:
        """{class: AP or None} at the run's last evaluated iteration, animal classes only."""
        animal = {it: {c: ap for c, ap in t.items() if c in ANIMAL} for it, t in self.tables.items()}
        animal = {it: t for it, t in animal.items() if t}
        if not animal:
            return {}
        if None in animal:
            return animal[None]
        return animal[max(animal)]

    def scored(self) -> dict:
        return {c: ap for c, ap in self.final().items() if ap is not None}

    def last_iteration(self):
        animal = [it for it, t in self.tables.items() if any(c in ANIMAL for c in t)]
        return max(animal) if animal and None not in animal else None


ap_values = st.one_of(st.none(), st.sampled_from(AP_GRID))
class_tables = st.dictionaries(st.sampled_from((*POOL, SPEECH)), ap_values, max_size=len(POOL) + 1)


@st.composite
def specs(draw, run_id: str) -> Spec:
    status = draw(st.sampled_from(("measured", "reported")))
    trained_on = draw(st.sampled_from(("animal", "audioset")))
    label_set = "animal" if trained_on == "animal" else draw(st.sampled_from(("animal", "audioset")))
    iterations = draw(st.one_of(st.none(), st.lists(st.integers(0, 4), min_size=1, max_size=3, unique=True)))
    with_table = draw(st.integers(0, 4)) > 0  # mostly with per-class AP; now and then a headline figure only
    if not with_table:
        tables = {}
    elif iterations is None:
        tables = {None: draw(class_tables)}
    else:
        tables = {100 * i: draw(class_tables) for i in sorted(iterations)}
    curve = []
    if iterations is not None and draw(st.booleans()):
        curve = [(100 * i, draw(st.sampled_from(AP_GRID))) for i in sorted(iterations)]
    headline = draw(st.one_of(st.none(), st.sampled_from(AP_GRID)))
    return Spec(
        run_id=run_id,
        status=status,
        trained_on=trained_on,
        label_set=label_set,
        tables=tables,
        eval_set=draw(st.sampled_from(EVAL_CHOICES)),
        curve=curve,
        headline=headline,
        classes_scored=draw(st.sampled_from((None, 3, 65, 66))) if headline is not None else None,
    )


@st.composite
def result_sets(draw, min_runs: int = 2, max_runs: int = 5) -> list[Spec]:
    n = draw(st.integers(min_runs, max_runs))
    return [draw(specs(f"run{i}")) for i in range(n)]


def write(root, spec: Spec) -> None:
    """The run through the real writer (dashboard_runs.run -> panns_core.evaluation.results.write_run)."""
    frames = [rows(t, it) for it, t in spec.tables.items() if t]
    classwise = pd.concat(frames) if frames else None
    curve = pd.DataFrame(spec.curve, columns=["iteration", "mAP"]) if spec.curve else None
    metrics = {}
    if spec.headline is not None:
        metrics["mAP"] = spec.headline
        if spec.classes_scored is not None:
            metrics["classes_scored"] = spec.classes_scored
    fields = dict(
        status=spec.status,
        kind="reported" if spec.reported else ("fit" if spec.curve else "evaluate"),
        trained_on=spec.trained_on,
        label_set=spec.label_set,
        display_name=f"Model {spec.run_id}",
        eval_set=dict(spec.eval_set),
        metrics=metrics,
        iterations=max((i for i in spec.tables if i is not None), default=None),
    )
    if spec.reported:
        fields["source"] = spec.source
    run(root, spec.run_id, classwise, curve, **fields)


def load(specs_: list[Spec]):
    with tempfile.TemporaryDirectory() as root:  # not tmp_path: one folder per example, not per test
        for spec in specs_:
            write(root, spec)
        res = load_results(root)
    assert res.warnings == [] and sorted(res.runs.index) == sorted(s.run_id for s in specs_)
    return res


# ---- independent statements of the rules ----------------------------------------------------------------


def expected_same_clips(a: dict, b: dict) -> bool:
    """Both recorded, and the same set: equal digests when both have one, equal names when neither has."""
    if not a or not b:
        return False
    if a.get("digest") and b.get("digest"):
        return a["digest"] == b["digest"]
    if a.get("digest") or b.get("digest"):
        return False
    return a["name"] == b["name"]


def mean(values: list) -> float:
    return sum(values) / len(values) if values else math.nan


def expected_row(compared: Spec, base: Spec) -> dict:
    """A class-wins row computed over the classes both runs scored."""
    mine, theirs = compared.scored(), base.scored()
    shared = sorted(set(mine) & set(theirs))
    diffs = [mine[c] - theirs[c] for c in shared]
    return {
        "classes": len(shared),
        "better": sum(d > 0 for d in diffs),
        "worse": sum(d < 0 for d in diffs),
        "equal": sum(d == 0 for d in diffs),
        "mAP": mean([mine[c] for c in shared]),
        "baseline_mAP": mean([theirs[c] for c in shared]),
        "mean_difference": mean(diffs),
    }


def close(a, b) -> bool:
    if pd.isna(a) or pd.isna(b):
        return pd.isna(a) and pd.isna(b)
    return math.isclose(a, b, abs_tol=1e-9)


def by_id(specs_: list[Spec]) -> dict:
    return {s.run_id: s for s in specs_}


# ---- class wins (Overview) -------------------------------------------------------------------------------


@PROPERTIES
@given(result_sets())
def test_class_wins_rows_are_computed_on_the_shared_classes_only(specs_):
    """Every figure of a row (counts, both mAPs, the mean difference) is over the classes both runs scored,
    whichever of the two has classes the other lacks; a run without any AP has no row."""
    res, spec = load(specs_), by_id(specs_)
    for base in specs_:
        wins = overview.class_wins(res, base.run_id).set_index("run_id")
        expected_ids = {s.run_id for s in specs_ if s is not base and s.scored()} if base.scored() else set()
        assert set(wins.index) == expected_ids
        for run_id, row in wins.iterrows():
            want = expected_row(spec[run_id], base)
            assert row["better"] + row["worse"] + row["equal"] == row["classes"]
            for key, value in want.items():
                assert close(row[key], value), (run_id, base.run_id, key, row[key], value)
            last = spec[run_id].last_iteration()
            assert (pd.isna(row["at_iteration"]) and last is None) or row["at_iteration"] == last
        # best mean difference first; runs sharing no class with the baseline (no difference) last
        diffs = wins["mean_difference"].tolist()
        known = [d for d in diffs if not pd.isna(d)]
        assert diffs[: len(known)] == sorted(known, reverse=True)


@PROPERTIES
@given(result_sets())
def test_swapping_baseline_and_run_negates_the_difference_and_swaps_better_and_worse(specs_):
    res = load(specs_)
    ids = [s.run_id for s in specs_ if s.scored()]
    wins = {b: overview.class_wins(res, b).set_index("run_id") for b in ids}
    for a in ids:
        for b in ids:
            if a == b:
                continue
            ab, ba = wins[b].loc[a], wins[a].loc[b]  # a against baseline b, b against baseline a
            assert (ab["classes"], ab["better"], ab["worse"], ab["equal"]) == (
                ba["classes"],
                ba["worse"],
                ba["better"],
                ba["equal"],
            )
            assert close(ab["mean_difference"], -ba["mean_difference"])
            assert close(ab["mAP"], ba["baseline_mAP"]) and close(ab["baseline_mAP"], ba["mAP"])
            assert ab["same_eval_set"] == ba["same_eval_set"]


# ---- evaluation sets -------------------------------------------------------------------------------------


@PROPERTIES
@given(st.lists(st.sampled_from(EVAL_CHOICES), min_size=2, max_size=5))
def test_same_eval_set_only_when_both_runs_recorded_the_same_set(eval_sets):
    """True only for the same recorded set (digest, or name when neither has a digest); false whenever either
    run is unrecorded, two unrecorded runs included; symmetric."""
    specs_ = [
        Spec(f"run{i}", "measured", "animal", "animal", {None: {72: 0.5, 73: 0.25}}, e) for i, e in enumerate(eval_sets)
    ]
    res = load(specs_)
    for a in specs_:
        for b in specs_:
            same = overview.same_eval_set(res, a.run_id, b.run_id)
            assert same is expected_same_clips(a.eval_set, b.eval_set), (a.eval_set, b.eval_set)
            assert same is overview.same_eval_set(res, b.run_id, a.run_id)
            if not a.eval_set or not b.eval_set:
                assert same is False


@PROPERTIES
@given(result_sets(), st.data())
def test_captions_name_exactly_the_runs_compared_across_evaluation_sets(specs_, data):
    """The Overview's caption under the class wins and the Class-wise page's note under the differences name
    every compared run that was not scored on the baseline's clips, and no other run."""
    res, spec = load(specs_), by_id(specs_)
    label = res.runs["label"]
    for base in specs_:
        wins = overview.class_wins(res, base.run_id)
        for _, row in wins.iterrows():
            assert row["same_eval_set"] == expected_same_clips(spec[row["run_id"]].eval_set, base.eval_set)
            assert row["eval_set"] == res.runs.at[row["run_id"], "eval_set"]
        caption = overview.across_sets_caption(wins, label[base.run_id], res.runs.at[base.run_id, "eval_set"])
        across = [r for r in wins["run_id"] if not expected_same_clips(spec[r].eval_set, base.eval_set)]
        assert bool(caption) == bool(across)
        for r in wins["run_id"]:
            assert (label[r] in caption) == (r in across), (r, caption)

        chosen = data.draw(st.lists(st.sampled_from([s.run_id for s in specs_]), unique=True), label="chosen")
        note = compare.across_sets_note(res, chosen, base.run_id)
        across = [r for r in chosen if r != base.run_id and not expected_same_clips(spec[r].eval_set, base.eval_set)]
        assert bool(note) == bool(across)
        for r in chosen:
            if r != base.run_id:
                assert (label[r] in note) == (r in across), (r, note)
        assert compare.across_sets_note(res, chosen, None) == ""


def test_two_runs_without_an_evaluation_set_are_not_shown_as_compared_on_the_same_clips(tmp_path):
    """The rule where it matters, spelled out once: neither run recorded its clips."""
    run(tmp_path, "base", rows({72: 0.5, 73: 0.25}), trained_on="audioset")
    run(tmp_path, "fit", rows({72: 0.75, 73: 0.25}), kind="fit")
    res = load_results(tmp_path)
    assert not overview.same_eval_set(res, "fit", "base")
    wins = overview.class_wins(res, "base")
    assert wins["same_eval_set"].tolist() == [False]
    assert "fit [measured]" in overview.across_sets_caption(wins, "base", "not recorded")
    assert "fit [measured] (not recorded)" in compare.across_sets_note(res, ["fit"], "base")


# ---- class-wise differences (Class-wise comparison) ------------------------------------------------------


@PROPERTIES
@given(result_sets(), st.data())
def test_class_table_differences_are_per_shared_class_and_flip_with_the_baseline(specs_, data):
    """`vs baseline` is run AP minus baseline AP on each class both scored (empty elsewhere); swapping the two
    negates it; its mean is the class-wins mean difference; no class outside the 65 animal ones appears."""
    res, spec = load(specs_), by_id(specs_)
    label = res.runs["label"]
    ids = [s.run_id for s in specs_]
    a, b = data.draw(st.lists(st.sampled_from(ids), min_size=2, max_size=2, unique=True), label="pair")
    ab = compare.class_table(res, [a], b).set_index("index")
    ba = compare.class_table(res, [b], a).set_index("index")
    assert set(ab.index) == ANIMAL
    fa, fb = spec[a].scored(), spec[b].scored()
    for c in ANIMAL:
        want_a = fa.get(c, math.nan)
        assert close(ab.at[c, f"AP: {label[a]}"], want_a)
        want = fa[c] - fb[c] if c in fa and c in fb else math.nan
        assert close(ab.at[c, f"vs baseline: {label[a]}"], want), c
        assert close(ba.at[c, f"vs baseline: {label[b]}"], -want if not math.isnan(want) else math.nan)
    wins = overview.class_wins(res, b).set_index("run_id")
    if a in wins.index:
        assert close(ab[f"vs baseline: {label[a]}"].mean(), wins.at[a, "mean_difference"])
        assert int(ab[f"vs baseline: {label[a]}"].notna().sum()) == wins.at[a, "classes"]


# ---- overview bars, curves, class effect ------------------------------------------------------------------


def expected_bar(s: Spec):
    """(mAP, classes) of the run's bar on the animal chart, or None when it has no bar."""
    scored = s.scored()
    if scored:
        return mean(list(scored.values())), len(scored)
    if s.label_set == "animal" and s.headline is not None:
        return s.headline, s.classes_scored
    return None


@PROPERTIES
@given(result_sets(min_runs=1))
def test_overview_bars_curves_and_class_effect_show_what_the_runs_hold(specs_):
    res, spec = load(specs_), by_id(specs_)
    bars = overview.animal_overview(res).set_index("run_id")
    assert set(bars.index) == {s.run_id for s in specs_ if expected_bar(s) is not None}
    for run_id, row in bars.iterrows():
        value, n = expected_bar(spec[run_id])
        assert close(row["animal_mAP"], value)
        assert close(row["animal_classes"], n if n is not None else math.nan)
        assert (row["scope_tag"] == "") == (n == overview.N_ANIMAL)
    # the curves: each chosen run's own curve points, sorted by iteration
    with_curve = [s.run_id for s in specs_ if s.curve]
    table = curves.map_curves(res, with_curve)
    got = {r: list(zip(p["iteration"], p["mAP"])) for r, p in table.groupby("run_id")}
    assert got == {s.run_id: sorted(s.curve) for s in specs_ if s.curve}
    # the class effect: one row per animal class the run has at its last iteration, with that AP
    for s in specs_:
        if s.run_id not in set(res.final["run_id"]):
            continue
        eff = effect.effect_table(res, s.run_id, None)
        want = s.final()
        assert sorted(eff["index"]) == sorted(want)
        for c, ap in zip(eff["index"], eff["ap"]):
            assert close(ap, want[c] if want[c] is not None else math.nan)


# ---- provenance: reported is never labelled measured -------------------------------------------------------


def assert_provenance(table: pd.DataFrame, spec: dict, where: str) -> None:
    """Each row of a shown (and downloadable) table says its run's provenance, and a reported row says
    'measured' nowhere: not in its label, status, source or any other cell of the CSV."""
    for _, row in table.iterrows():
        s = spec[row["run_id"]]
        if "status" in table.columns:
            assert row["status"] == s.status, (where, s.run_id)
        if "source" in table.columns:
            assert row["source"] == s.source, (where, s.run_id, row["source"])
        if "label" in table.columns:
            assert f"[{s.status}]" in row["label"], (where, row["label"])
        if s.reported:
            csv = row.to_frame().T.to_csv(index=False, header=False)
            assert "measured" not in csv.lower(), (where, csv)


@PROPERTIES
@given(result_sets(min_runs=1))
def test_a_reported_figure_is_never_labelled_measured(specs_):
    """Tables (as downloaded), chart hovers and legends, and captions: a reported run is reported everywhere,
    a measured run measured."""
    res, spec = load(specs_), by_id(specs_)
    for run_id, label in res.runs["label"].items():
        s = spec[run_id]
        assert f"[{s.status}]" in label and f"[{'measured' if s.reported else 'reported'}]" not in label

    table = overview.animal_overview(res)
    assert_provenance(table, spec, "animal overview")
    assert_provenance(overview.overall_527(res), spec, "527-class figures")
    if not table.empty:
        for trace in charts.overview_bars(table).data:
            reported = trace.name.endswith("(reported)")
            assert (trace.marker.pattern.shape == "/") == reported
            for y, (_scope, source) in zip(trace.y, trace.customdata):
                run_id = table.loc[table["label"] == charts_unescape(y), "run_id"].item()
                assert spec[run_id].reported == reported and source == spec[run_id].source
        caption = overview.scope_caption(table)
        for _, row in table[table["scope_tag"] != ""].iterrows():
            assert row["label"] in caption

    ids = [s.run_id for s in specs_ if s.curve]
    points = curves.reported_points(res)
    assert_provenance(points, spec, "reported points")
    assert all(spec[r].reported for r in points["run_id"])
    curve_rows = curves.curve_table(curves.map_curves(res, ids), points)
    assert_provenance(curve_rows, spec, "curve table")
    figure = charts.map_curve_figure(curves.map_curves(res, ids), points)
    for trace in figure.data:
        hover_labels = [trace.name] if trace.marker.symbol == "star-open" else [c[0] for c in trace.customdata]
        for hover in hover_labels:
            run_id = res.runs.index[res.runs["label"] == charts_unescape(hover)].item()
            assert f"[{spec[run_id].status}]" in hover

    for base in [s.run_id for s in specs_ if s.scored()]:
        assert_provenance(overview.class_wins(res, base), spec, "class wins")
        chosen = [s.run_id for s in specs_]
        wide = compare.class_table(res, chosen, base)
        for r in chosen:
            assert f"AP: {res.runs.at[r, 'label']}" in wide.columns
        dots = charts.class_dots(compare.long_values(wide, "AP: "), wide["class"].tolist(), "AP")
        for trace in dots.data:
            run_id = res.runs.index[res.runs["label"] == charts_unescape(trace.name)].item()
            assert (trace.marker.symbol == "circle-open") == spec[run_id].reported
        break  # one baseline is enough for the wide table and its chart


def charts_unescape(text: str) -> str:
    """Chart strings are HTML-escaped (charts.plain); the generated labels hold no character it changes."""
    assert "&" not in text
    return text


# ---- a fixed case of the curve table's provenance -------------------------------------------------------


def test_the_curve_table_takes_status_and_source_from_the_run(tmp_path):
    """The study's read-off curves are reported: their rows in the Training curves table say so."""
    curve = pd.DataFrame({"iteration": [0, 100], "mAP": [0.125, 0.5]})
    run(tmp_path, "study", None, curve, status="reported", kind="reported", source="the study, Fig. 4")
    run(tmp_path, "fit", None, curve, kind="fit")
    res = load_results(tmp_path)
    table = curves.curve_table(curves.map_curves(res, ["fit", "study"]), curves.reported_points(res))
    assert table["status"].tolist() == ["measured", "measured", "reported", "reported"]
    assert table["source"].tolist() == ["measured here"] * 2 + ["the study, Fig. 4"] * 2


def test_a_folder_where_no_run_has_its_own_map_loads(tmp_path):
    """Found by the properties: a run on the animal set with no AP and no mAP of its own, beside runs that have
    no mAP of their own either, made the loader fail on the whole folder."""
    run(tmp_path, "empty", rows({72: None}))
    run(tmp_path, "headline_only")
    res = load_results(tmp_path)
    assert res.runs["animal_mAP"].isna().all() and overview.animal_overview(res).empty
