"""Class-wise comparison shapers on small result folders with known numbers.

Written for mutation testing (tools/mutation.py): each test pins a behaviour a user sees on the
Class-wise comparison page (which rows, which values, which words), pandas only.
"""

import numpy as np
import pandas as pd
import pytest
from dashboard_runs import rows, run
from synthetic_results import write_synthetic_results

from dashboard import compare
from dashboard.classes import animal_classes
from dashboard.data import load_results
from panns_core.evaluation.results import eval_set_record


def test_default_selection_is_the_best_three_animal_runs_and_the_general_one(tmp_path):
    write_synthetic_results(tmp_path, n_runs=5, n_evals=2, every=10)
    run(tmp_path, "general", rows({72: 0.5, 80: 0.6}), trained_on="audioset")
    res = load_results(tmp_path)
    best = res.runs[res.runs["trained_on"] == "animal"].sort_values("animal_mAP", ascending=False)["run_id"]
    chosen = compare.default_runs(res)
    assert len(chosen) == 4 and set(chosen) == set(best.head(3)) | {"general"}
    assert best.iloc[3] not in chosen and best.iloc[4] not in chosen
    assert chosen == [r for r in compare.comparable_runs(res) if r in set(chosen)]  # the comparable order


def test_filter_classes_without_filters_keeps_every_class():
    classes = animal_classes()
    kept = compare.filter_classes(classes)
    assert kept["class"].tolist() == classes["class"].tolist()


def test_filter_classes_needs_the_branch_and_the_text_together():
    classes = animal_classes()
    cats = compare.filter_classes(classes, query="cat")
    # "cat" also matches outside the pets: the roaring cats and Roar below them (through its path)
    assert {"Roaring cats (lions, tigers)", "Roar"} <= set(cats["class"])
    pets = compare.filter_classes(classes, ["Domestic animals, pets"], "cat")
    assert pets["class"].tolist() == ["Cat", "Purr", "Meow", "Hiss", "Caterwaul"]


def test_filter_text_is_plain_text_not_a_pattern():
    classes = animal_classes()
    # as a regular expression "(dog)" would be a group matching "dog", and the literal name would not match
    assert compare.filter_classes(classes, query="Whimper (dog)")["class"].tolist() == ["Whimper (dog)"]
    assert compare.filter_classes(classes, query="etc.")["class"].tolist() == ["Bee, wasp, etc."]
    # as a pattern "." would match every name and every path
    assert compare.filter_classes(classes, query=".")["class"].tolist() == ["Bee, wasp, etc."]


def test_filter_text_matches_the_name_or_the_path_in_any_case():
    classes = pd.DataFrame(
        {
            "index": [1, 2, 3],
            "class": ["Bark", "Howl", "Purr"],
            "branch": ["Dog", "Dog", "Cat"],
            "path": ["Animal > Dog", "Animal > Dog", "Animal > Cat"],
        }
    )
    assert compare.filter_classes(classes, query="BARK")["class"].tolist() == ["Bark"]  # by name only
    assert compare.filter_classes(classes, query="dog")["class"].tolist() == ["Bark", "Howl"]  # by path only


def test_class_table_draws_the_baseline_even_when_not_chosen(tmp_path):
    run(tmp_path, "fit", rows({72: 0.5, 73: 0.2}))
    run(tmp_path, "base", rows({72: 0.4, 73: 0.3}), trained_on="audioset")
    res = load_results(tmp_path)
    table = compare.class_table(res, ["fit"], baseline="base").set_index("index")
    assert table.loc[72, "AP: base [measured] (527-class model)"] == 0.4
    assert table.loc[72, "vs baseline: fit [measured]"] == pytest.approx(0.1)
    assert table.loc[73, "vs baseline: fit [measured]"] == pytest.approx(-0.1)


def test_class_table_gives_a_run_without_class_rows_an_empty_column(tmp_path):
    run(tmp_path, "fit", rows({72: 0.5}))
    run(tmp_path, "headline", status="reported", kind="reported", metrics={"mAP": 0.5, "classes_scored": 65})
    res = load_results(tmp_path)
    table = compare.class_table(res, ["fit", "headline"], baseline="fit").set_index("index")
    assert table["AP: headline [reported]"].isna().all() and len(table) == 65
    assert table["vs baseline: headline [reported]"].isna().all()
    assert table.loc[72, "AP: fit [measured]"] == 0.5


def test_a_class_listed_twice_shows_its_first_ap_not_an_average(tmp_path):
    run(tmp_path, "twice", rows([(72, 0.2), (72, 0.6), (73, 0.4)]), status="reported", kind="reported")
    res = load_results(tmp_path)
    table = compare.class_table(res, ["twice"]).set_index("index")
    assert table.loc[72, "AP: twice [reported]"] == 0.2 and table.loc[73, "AP: twice [reported]"] == 0.4


@pytest.fixture
def eval_sets(tmp_path):
    """base and same on the same clips; other1 and other2 each on clips of their own."""
    sets = {
        "base": eval_set_record("eval.h5", ["Ya", "Yb"]),
        "same": eval_set_record("eval.h5", ["Yb", "Ya"]),
        "other1": eval_set_record("one.h5", ["Yc"]),
        "other2": eval_set_record("two.h5", ["Yd"]),
    }
    for run_id, eval_set in sets.items():
        run(tmp_path, run_id, rows({72: 0.5, 73: 0.4}), eval_set=eval_set)
    return load_results(tmp_path)


def test_across_sets_note_says_was_for_one_run_and_were_for_several(eval_sets):
    one = compare.across_sets_note(eval_sets, ["base", "same", "other1"], "base")
    assert one == (
        "Across evaluation sets: other1 [measured] (one.h5, 1 clips) was not scored on the same clips as "
        "base [measured] (eval.h5, 2 clips); these differences mix the models with the clips."
    )
    two = compare.across_sets_note(eval_sets, ["other1", "other2"], "base")
    assert "other1 [measured] (one.h5, 1 clips), other2 [measured] (two.h5, 1 clips) were not scored" in two


def test_sort_options_list_the_orders_then_every_value_column(tmp_path):
    run(tmp_path, "fit", rows({72: 0.5}))
    run(tmp_path, "base", rows({72: 0.4}))
    table = compare.class_table(load_results(tmp_path), ["fit", "base"], baseline="base")
    assert compare.sort_options(table) == [
        compare.ORDER_AUDIOSET,
        compare.ORDER_NAME,
        "AP: fit [measured]",
        "AP: base [measured]",
        "vs baseline: fit [measured]",
    ]


def _shuffled():
    return pd.DataFrame(
        {
            "class": ["bird_call", "Cat", "birdsong", "ant"],
            "AP: a": [0.2, np.nan, 0.9, 0.5],
            "index": [3, 1, 4, 2],
        },
        index=[7, 5, 6, 8],
    )


def test_sort_table_orders_keep_the_columns_and_renumber_the_rows():
    table = _shuffled()
    by_index = compare.sort_table(table, compare.ORDER_AUDIOSET)
    assert by_index["index"].tolist() == [1, 2, 3, 4] and by_index["class"].tolist()[0] == "Cat"
    by_name = compare.sort_table(table, compare.ORDER_NAME)
    # case does not matter, and names compare as lower-case text ("_" before letters)
    assert by_name["class"].tolist() == ["ant", "bird_call", "birdsong", "Cat"]
    by_value = compare.sort_table(table, "AP: a")
    assert by_value["class"].tolist() == ["birdsong", "ant", "bird_call", "Cat"]  # highest first, missing last
    assert compare.sort_table(table, "AP: a", descending=False)["class"].tolist()[:3] == [
        "bird_call",
        "ant",
        "birdsong",
    ]
    for out in (by_index, by_name, by_value):
        assert out.columns.tolist() == table.columns.tolist()
        assert out.index.tolist() == [0, 1, 2, 3]
