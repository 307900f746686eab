"""Class-wise comparison page wiring.

Choose runs, baseline, branch and name filters, sort; chart, differences, table.
"""

from __future__ import annotations

import streamlit as st

from dashboard import charts, compare, overview
from dashboard.classes import branches
from dashboard.data import Results
from dashboard.widgets import classwise_runs, plain_caption, table_with_download


def render(res: Results) -> None:
    found = classwise_runs(res, "Class-wise comparison")
    if found is None:
        return
    ids, label = found
    chosen = st.multiselect("Runs", ids, default=compare.default_runs(res), key="compare_runs", format_func=label.get)
    default = overview.default_baseline(res)
    options = [None, *ids]
    baseline = st.selectbox(
        "Baseline for differences",
        options,
        index=options.index(default),
        key="compare_baseline",
        format_func=lambda r: "none" if r is None else label[r],
    )
    col1, col2 = st.columns(2)
    picked = col1.multiselect("Ontology branches (none = all)", branches(), key="compare_branches")
    query = col2.text_input("Class name contains", key="compare_query")
    if not chosen:
        st.info("Choose at least one run.")
        return
    table = compare.class_table(res, chosen, baseline, picked, query)
    if table.empty:
        st.info("No class matches these filters.")
        return
    col3, col4 = st.columns([3, 1])
    by = col3.selectbox("Sort by", compare.sort_options(table), key="compare_sort")
    descending = col4.toggle("Highest first", value=True, key="compare_desc") if compare.has_direction(by) else True
    table = compare.sort_table(table, by, descending)
    order = table["class"].tolist()
    colours = charts.run_colours(res.runs["label"])
    st.plotly_chart(
        charts.class_dots(compare.long_values(table, "AP: "), order, "AP per animal class", colours),
        key="compare_chart",
    )
    diffs = compare.long_values(table, "vs baseline: ")
    if baseline and not diffs.empty:
        st.plotly_chart(charts.difference_bars(diffs, order, label[baseline], colours), key="compare_diff_chart")
        plain_caption(compare.across_sets_note(res, chosen, baseline))
    table_with_download(table, "classwise_comparison.csv", "compare")
