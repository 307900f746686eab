"""Training curves page wiring.

mAP (or another curve metric) per run coloured by a setting; AP curves of chosen classes.
"""

from __future__ import annotations

import streamlit as st

from dashboard import charts, curves
from dashboard.data import Results
from dashboard.widgets import table_with_download


def render(res: Results) -> None:
    st.header("Training curves")
    ids = curves.curve_runs(res)
    label = res.runs["label"].to_dict()
    if not ids:
        st.info(
            "No run has a training curve (`curve.csv`) yet: `python -m train fit` writes one per evaluation. "
            "Reported figures with a known iteration are shown below as single points."
        )
    comparisons = curves.study_comparisons(res)
    if comparisons:
        comparison = st.selectbox(
            "The reference study's comparison",
            [curves.ALL_RUNS, *comparisons],
            index=1,
            key="curve_comparison",
            help="The four panels of the study's four_figures_final.png; measured runs are shown "
            "beside each. Faint lines are the study's second series of the same run.",
        )
        ids = curves.runs_in_comparison(res, ids, comparison)
    chosen = (
        st.multiselect("Runs", ids, default=ids, key=f"curve_runs_{len(ids)}_{ids[:1]}", format_func=label.get)
        if ids
        else []
    )
    col1, col2 = st.columns(2)
    colour_by = col1.selectbox("Colour by", curves.colour_options(res, chosen or None), key="curve_colour")
    metric = col2.selectbox("Metric", ["mAP", "mean_auc", "d_prime", "loss"], key="curve_metric")
    table = curves.map_curves(res, chosen, colour_by)
    points = curves.reported_points(res)
    st.plotly_chart(
        charts.map_curve_figure(table, points, metric, charts.run_colours(res.runs["label"])), key="curve_chart"
    )
    table_with_download(curves.curve_table(table, points), "curves.csv", "curves")

    st.subheader("AP curves of chosen classes")
    with_classes = [r for r in ids if not curves.classes_with_curves(res, r).empty]
    if not with_classes:
        st.info("No run has per-class AP at several iterations yet.")
        return
    run_id = st.selectbox("Run", with_classes, key="class_curve_run", format_func=label.get)
    candidates = curves.classes_with_curves(res, run_id)
    names = st.multiselect(
        "Classes",
        candidates["class"].tolist(),
        default=curves.default_classes(candidates),
        key=f"class_curve_classes_{run_id}",
    )
    class_table = curves.class_curves(res, run_id, names)
    st.plotly_chart(charts.class_curve_figure(class_table, label[run_id]), key="class_curve_chart")
    table_with_download(class_table, "class_curves.csv", "class_curves")
