"""Class effect page wiring: AP per class against training clips (log scale) and label quality, for one run."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, effect
from dashboard.data import Results
from dashboard.widgets import classwise_runs, table_with_download


def render(res: Results) -> None:
    found = classwise_runs(res, "Class effect: is it data or sound?")
    if found is None:
        return
    ids, label = found
    run_id = st.selectbox("Run", ids, key="effect_run", format_func=label.get)
    counts = effect.count_options(res, run_id)
    count = st.selectbox("Clip count", counts, key="effect_count") if counts else None
    table = effect.effect_table(res, run_id, count)
    if count is None:
        st.info(
            "No clip counts yet: `python -m train metadata` writes `class_stats.csv` (clips per class from the "
            "official AudioSet lists) into the results folder. Showing AP against label quality meanwhile."
        )
    else:
        st.plotly_chart(
            charts.effect_scatter(table, "clips", count, True, f"AP against {count}: {label[run_id]}"),
            key="effect_chart",
        )
        st.caption(
            effect.correlation_text(*effect.rank_correlation(table, "clips"), "clip count")
            + " "
            + effect.count_source(count)
        )
    if table["label_quality"].notna().any():
        st.plotly_chart(
            charts.effect_scatter(
                table, "label_quality", "label quality", False, f"AP against label quality: {label[run_id]}"
            ),
            key="effect_quality_chart",
        )
        st.caption(
            effect.correlation_text(*effect.rank_correlation(table, "label_quality"), "label quality")
            + " Label quality is the share of a class's labels that AudioSet's raters confirmed (PANNs paper)."
        )
    else:
        st.caption("Label quality is not known for these classes.")
    table_with_download(table, "class_effect.csv", "effect")
