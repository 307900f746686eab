"""Overview page wiring.

Animal-class mAP of every run, class-for-class wins against a general baseline, 527-class figures apart.
"""

from __future__ import annotations

import streamlit as st

from dashboard import charts, overview
from dashboard.data import Results
from dashboard.widgets import plain_caption, plain_text, table_with_download


def render(res: Results) -> None:
    st.header("Overview: do animal-only models beat the general ones?")
    table = overview.animal_overview(res)
    if table.empty:
        st.info("No run here has a mAP on the animal classes yet.")
    else:
        st.plotly_chart(charts.overview_bars(table), key="overview_chart")
        plain_caption(overview.scope_caption(table))

    st.subheader("Class for class, on the same classes")
    runs = res.runs.loc[res.runs["run_id"].isin(set(res.final["run_id"]))]
    default = overview.default_baseline(res)
    if default is None:
        st.info(
            "No run has per-class AP yet: class-for-class comparison needs `classwise.csv` "
            "(written by `python -m train evaluate`)."
        )
    else:
        ids = runs["run_id"].tolist()
        baseline = st.selectbox(
            "Baseline",
            ids,
            index=ids.index(default),
            key="overview_baseline",
            format_func=lambda r: res.runs.at[r, "label"],
        )
        wins = overview.class_wins(res, baseline)
        study = wins[wins["at_iteration"].notna()]
        if not study.empty:
            plain_caption(
                "Runs with training iterations are compared at their last evaluated iteration "
                "(column at_iteration): "
                + "; ".join(f"{r.label} at {int(r.at_iteration):,}" for r in study.itertuples())
                + "."
            )
        plain_caption(
            overview.across_sets_caption(wins, res.runs.at[baseline, "label"], res.runs.at[baseline, "eval_set"])
        )
        if not (res.runs.loc[wins["run_id"], "trained_on"] == "animal").any():
            st.caption(
                "No animal-only run with per-class AP yet (the reference study published only its "
                "headline mAPs); measured runs from `python -m train fit` appear here."
            )
        table_with_download(wins, "class_wins.csv", "wins")

    st.subheader("Figures on all 527 AudioSet classes (not comparable)")
    overall = overview.overall_527(res)
    if not overall.empty:
        table_with_download(overall, "map_527_classes.csv", "overall")
    st.info(plain_text(overview.comparability_note(res)))

    st.subheader("All runs on the animal classes")
    table_with_download(table, "map_animal_classes.csv", "overview")
