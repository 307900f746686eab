"""Class-effect shapers (dashboard/effect.py) on small result folders with known numbers.

Written for mutation testing (tools/mutation.py): which clip counts and label qualities the Class
effect page plots, its correlation and captions, pandas only.
"""

import numpy as np
import pandas as pd
import pytest
from dashboard_runs import rows, run

from dashboard import effect
from dashboard.data import load_results


def _stats(root, text):
    (root / "class_stats.csv").write_text(text)


def test_class_stats_listing_a_class_twice_uses_its_first_row(tmp_path):
    run(tmp_path, "fit", rows({72: 0.5, 80: 0.6}))
    _stats(
        tmp_path,
        "index,balanced_train_clips,unbalanced_train_clips,label_quality\n"
        "72,10,100,0.5\n80,20,200,0.9\n80,99,999,0.1\n",
    )
    table = effect.effect_table(load_results(tmp_path), "fit", effect.COUNT_ALL).set_index("index")
    assert table.loc[80, "clips"] == 220 and table.loc[80, "label_quality"] == 0.9
    assert table.loc[72, "clips"] == 110


def test_counts_without_label_quality_then_label_quality_from_a_run(tmp_path):
    run(tmp_path, "fit", rows({72: 0.5, 80: 0.6}))
    run(tmp_path, "paper", rows({72: 0.4, 80: 0.3}, label_quality=[0.7, 0.2]), status="reported", kind="reported",
        source="paper")  # fmt: skip
    _stats(tmp_path, "index,balanced_train_clips,unbalanced_train_clips\n72,10,100\n80,20,200\n")
    res = load_results(tmp_path)
    assert effect.count_options(res, "fit") == [effect.COUNT_ALL, effect.COUNT_BALANCED, effect.COUNT_UNBALANCED]
    table = effect.effect_table(res, "fit", effect.COUNT_BALANCED).set_index("index")
    assert table["clips"].to_dict() == {80: 20, 72: 10}
    assert table["label_quality"].to_dict() == {80: 0.2, 72: 0.7}


def test_label_quality_of_class_stats_wins_over_a_runs(tmp_path):
    run(tmp_path, "fit", rows({72: 0.5, 80: 0.6}))
    run(tmp_path, "paper", rows({72: 0.4, 80: 0.3}, label_quality=[0.7, 0.2]), status="reported", kind="reported",
        source="paper")  # fmt: skip
    _stats(tmp_path, "index,label_quality\n72,0.25\n80,0.75\n")
    table = effect.effect_table(load_results(tmp_path), "fit", None).set_index("index")
    assert table["label_quality"].to_dict() == {80: 0.75, 72: 0.25}


def test_effect_table_best_class_first_and_unknowns_as_numbers(tmp_path):
    run(tmp_path, "fit", rows({72: 0.2, 73: 0.9, 74: 0.5}, train_clips=[10, 20, 30]))
    res = load_results(tmp_path)
    table = effect.effect_table(res, "fit", None)
    assert table.columns.tolist() == ["index", "class", "branch", "mid", "ap", "label_quality", "clips"]
    assert table["index"].tolist() == [73, 74, 72] and table.index.tolist() == [0, 1, 2]
    # unknown counts and qualities are NaN in number columns: the page rounds, sorts and plots them
    for column in ("clips", "label_quality"):
        assert table[column].dtype == "float64" and table[column].isna().all()
        assert table[column].round(2).isna().all()
    own = effect.effect_table(res, "fit", effect.COUNT_RUN)
    assert own["clips"].tolist() == [20, 30, 10]


def test_rank_correlation_needs_three_classes_and_two_values_of_each():
    three = pd.DataFrame({"ap": [0.1, 0.2, 0.3], "clips": [10, 100, 1000]})
    assert effect.rank_correlation(three, "clips") == (pytest.approx(1.0), 3)
    two_counts = pd.DataFrame({"ap": [0.1, 0.2, 0.3, 0.4], "clips": [10, 10, 50, 50]})
    rho, n = effect.rank_correlation(two_counts, "clips")
    assert n == 4 and rho == pytest.approx(np.corrcoef([1, 2, 3, 4], [1.5, 1.5, 3.5, 3.5])[0, 1])
    two_aps = pd.DataFrame({"ap": [0.2, 0.2, 0.6, 0.6], "clips": [40, 30, 20, 10]})
    rho, n = effect.rank_correlation(two_aps, "clips")
    assert n == 4 and rho == pytest.approx(np.corrcoef([1.5, 1.5, 3.5, 3.5], [4, 3, 2, 1])[0, 1])
    assert np.isnan(effect.rank_correlation(three.iloc[:2], "clips")[0])


def test_captions_name_the_count_source_and_the_correlation():
    assert effect.count_source(effect.COUNT_RUN) == (
        "Clip counts: the `train_clips` column of this run's `classwise.csv` (the clips it trained on)."
    )
    assert effect.count_source(effect.COUNT_ALL) == (
        "Clip counts: `class_stats.csv` in the results folder, counted from the official AudioSet segment "
        "lists (balanced_train_segments.csv, unbalanced_train_segments.csv) by `python -m train metadata`."
    )
    assert effect.correlation_text(0.4249, 12, "clip count") == (
        "Spearman rank correlation of AP with clip count: 0.42 over 12 classes."
    )
