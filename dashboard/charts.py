"""Plotly figures for the dashboard pages, built from the shaped tables (no Streamlit here).

Every trace carries a hovertemplate with the plotted numbers, and reported figures are drawn
differently from measured ones (hatched bars, open markers) besides saying so in their labels.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboard.overview import GROUP_ANIMAL, GROUP_GENERAL

GROUP_COLOURS = {GROUP_ANIMAL: "#2a7f62", GROUP_GENERAL: "#5b6fb5"}
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f"]


def run_colours(labels) -> dict:
    """Colour per run label, fixed by the label's position in `labels` (pass every run of the folder), so a
    run keeps its colour in every chart whichever runs a chart happens to show."""
    return {label: PALETTE[i % len(PALETTE)] for i, label in enumerate(dict.fromkeys(labels))}


def _colour(colours: dict | None, name: str, i: int) -> str:
    return (colours or {}).get(name, PALETTE[i % len(PALETTE)])


def plain(text) -> str:
    """Text for a plotly label: plotly renders a subset of HTML in names, ticks and hover text, so a run's
    display_name such as '<b>x</b>' or '<a href=...>' must reach it escaped (it then shows literally)."""
    return html.escape(str(text), quote=False)


def _plain_values(values):
    if values is None or isinstance(values, (int, float)):
        return values
    if isinstance(values, str):
        return plain(values)
    arr = np.asarray(values, dtype=object)
    if arr.dtype == object:
        return np.vectorize(lambda v: plain(v) if isinstance(v, str) else v, otypes=[object])(arr)
    return values


def _inert(fig: go.Figure) -> go.Figure:
    """Escape every string that came from the data (trace names, category axes, text, customdata)."""
    for trace in fig.data:
        for attr in ("name", "legendgroup", "x", "y", "text", "customdata"):
            value = getattr(trace, attr, None)
            if value is not None and not (attr in ("x", "y") and np.asarray(value).dtype != object):
                setattr(trace, attr, _plain_values(value))
    return fig


def _layout(fig: go.Figure, title: str, height: int = 420, legend_on_top: bool = False, **kw) -> go.Figure:
    """Shared look. Legends sit on the right (scrollable when there are many runs) unless `legend_on_top`.
    Every string from the data is escaped here (`_inert`): hovertemplates add their own tags only."""
    fig = _inert(fig)
    title = plain(title)
    legend = (
        dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0)
        if legend_on_top
        else dict(orientation="v", yanchor="top", y=1.0, xanchor="left", x=1.02)
    )
    fig.update_layout(
        title=dict(text=title, y=0.98, yanchor="top"),
        height=height,
        margin=dict(l=10, r=10, t=90 if legend_on_top else 50, b=10),
        hovermode="closest",
        legend=legend,
        template="plotly_white",
        **kw,
    )
    return fig


def overview_bars(table: pd.DataFrame) -> go.Figure:
    """Horizontal bars of mAP on the animal classes, one per run, coloured by group, reported hatched."""
    fig = go.Figure()
    for (group, status), part in table.groupby(["group", "status"], sort=False):
        fig.add_bar(
            name=f"{group} ({status})",
            y=part["label"],
            x=part["animal_mAP"],
            orientation="h",
            marker=dict(color=GROUP_COLOURS.get(group, "#888"), pattern_shape="/" if status == "reported" else ""),
            text=[f"{v:.3f}" + (f" · {tag}" if tag else "") for v, tag in zip(part["animal_mAP"], part["scope_tag"])],
            textposition="outside",
            customdata=np.column_stack([part["scope"], part["source"]]),
            hovertemplate="<b>%{y}</b><br>mAP %{x:.4f}: %{customdata[0]}<br>source: %{customdata[1]}<extra></extra>",
        )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title="mAP on the 65 animal classes (unless a bar says otherwise)", range=[0, 1])
    return _layout(
        fig, "mAP on AudioSet's 65 animal classes", height=max(300, 140 + 38 * len(table)), legend_on_top=True
    )


def class_dots(long: pd.DataFrame, order: list[str], title: str, colours: dict | None = None) -> go.Figure:
    """One row per class, one marker per series (AP on x): reads like a sortable bar chart for many models.
    `colours` maps a series (run label) to its colour (see run_colours)."""
    fig = go.Figure()
    for i, (series, part) in enumerate(long.groupby("series", sort=False)):
        reported = "[reported" in series
        fig.add_scatter(
            name=series,
            y=part["class"],
            x=part["value"],
            mode="markers",
            marker=dict(
                size=9,
                color=_colour(colours, series, i),
                symbol="circle-open" if reported else "circle",
                line=dict(width=2),
            ),
            customdata=part[["branch"]].to_numpy(),
            hovertemplate="<b>%{y}</b> (%{customdata[0]})<br>"
            + plain(series).replace("%", "%%")
            + "<br>AP %{x:.4f}<extra></extra>",
        )
    fig.update_yaxes(categoryorder="array", categoryarray=order, autorange="reversed", automargin=True)
    fig.update_xaxes(title="AP", range=[-0.02, 1.02])
    return _layout(fig, title, height=max(320, 160 + 18 * len(order)), legend_on_top=True)


def difference_bars(long: pd.DataFrame, order: list[str], baseline: str, colours: dict | None = None) -> go.Figure:
    """AP minus the baseline's AP per class, one bar group per class (positive: better than the baseline)."""
    fig = go.Figure()
    for i, (series, part) in enumerate(long.groupby("series", sort=False)):
        fig.add_bar(
            name=series,
            y=part["class"],
            x=part["value"],
            orientation="h",
            marker_color=_colour(colours, series, i),
            hovertemplate="<b>%{y}</b><br>"
            + plain(series).replace("%", "%%")
            + "<br>AP difference %{x:+.4f}<extra></extra>",
        )
    fig.add_vline(x=0, line_color="#444")
    fig.update_yaxes(categoryorder="array", categoryarray=order, autorange="reversed", automargin=True)
    fig.update_xaxes(title=f"AP minus AP of {baseline}")
    return _layout(
        fig, f"Difference to {baseline}", height=max(320, 160 + 18 * len(order)), barmode="group", legend_on_top=True
    )


UNIT_RANGE_METRICS = ("mAP", "mean_auc")


def map_curve_figure(
    curves: pd.DataFrame, points: pd.DataFrame, metric: str = "mAP", colours: dict | None = None
) -> go.Figure:
    """One line per run (coloured by its group), plus each reported single figure as its own open star named
    by its run label. mAP and AUC keep the full [0, 1] axis so close figures are not drawn far apart."""
    fig = go.Figure()
    groups = list(dict.fromkeys(curves["group"]))
    colour = {g: _colour(colours, g, i) for i, g in enumerate(groups)}
    shown = set()
    for _run_id, part in curves.groupby("run_id", sort=False):
        group, label = part["group"].iloc[0], part["label"].iloc[0]
        fig.add_scatter(
            name=group,
            legendgroup=group,
            showlegend=group not in shown,
            x=part["iteration"],
            y=part[metric],
            mode="lines+markers",
            marker=dict(size=4),
            line=dict(color=colour[group]),
            customdata=np.column_stack([np.full(len(part), label), part["settings"]]),
            hovertemplate="<b>%{customdata[0]}</b><br>iteration %{x}<br>" + metric + " %{y:.4f}"
            "<br>%{customdata[1]}<extra></extra>",
        )
        shown.add(group)
    if metric == "mAP":
        for i, point in enumerate(points.itertuples(index=False)):
            fig.add_scatter(
                name=point.label,
                x=[point.iteration],
                y=[point.mAP],
                mode="markers",
                marker=dict(
                    symbol="star-open",
                    size=14,
                    line=dict(width=2),
                    color=_colour(colours, point.label, len(groups) + i),
                ),
                customdata=[[point.scope, point.source, point.settings]],
                hovertemplate="<b>" + plain(point.label).replace("%", "%%") + "</b><br>iteration %{x}"
                "<br>mAP %{y:.3f} (%{customdata[0]})<br>%{customdata[2]}"
                "<br>source: %{customdata[1]}<extra></extra>",
            )
    fig.update_xaxes(title="iterations")
    fig.update_yaxes(title=metric, **({"range": [0, 1]} if metric in UNIT_RANGE_METRICS else {}))
    return _layout(fig, f"{metric} against training iterations", height=460)


def class_curve_figure(table: pd.DataFrame, run_label: str) -> go.Figure:
    """AP against iterations for the chosen classes of one run."""
    fig = go.Figure()
    for i, (name, part) in enumerate(table.groupby("class", sort=False)):
        fig.add_scatter(
            name=name,
            x=part["iteration"],
            y=part["ap"],
            mode="lines+markers",
            marker=dict(size=4),
            line=dict(color=PALETTE[i % len(PALETTE)]),
            hovertemplate="<b>"
            + plain(name).replace("%", "%%")
            + "</b><br>iteration %{x}<br>AP %{y:.4f}<extra></extra>",
        )
    fig.update_xaxes(title="iterations")
    fig.update_yaxes(title="AP", range=[-0.02, 1.02])
    return _layout(fig, f"AP per class: {run_label}", height=440)


def effect_scatter(table: pd.DataFrame, x: str, x_title: str, log_x: bool, title: str) -> go.Figure:
    """AP per class against `x` (clip count or label quality), coloured by label quality where known."""
    data = table.dropna(subset=[x, "ap"])
    known = data["label_quality"].notna()
    fig = go.Figure()
    hover = (
        "<b>%{customdata[0]}</b> (%{customdata[1]})<br>" + x_title.replace("%", "%%") + " %{x:,.4~g}"
        "<br>AP %{y:.4f}<br>label quality %{customdata[2]}<extra></extra>"
    )
    for part, name, marker in (
        (
            data[known],
            "label quality known",
            dict(
                color=data.loc[known, "label_quality"],
                colorscale="Viridis",
                cmin=0,
                cmax=1,
                colorbar=dict(title="label<br>quality"),
                size=10,
                line=dict(width=0.5, color="#333"),
            ),
        ),
        (data[~known], "label quality unknown", dict(color="#bbb", size=10, symbol="x")),
    ):
        if part.empty:
            continue
        lq = part["label_quality"].map(lambda v: f"{v:.2f}" if pd.notna(v) else "unknown")
        fig.add_scatter(
            name=name,
            x=part[x],
            y=part["ap"],
            mode="markers",
            marker=marker,
            customdata=np.column_stack([part["class"], part["branch"], lq]),
            hovertemplate=hover,
        )
    fig.update_xaxes(title=x_title + (" (log scale)" if log_x else ""), type="log" if log_x else "linear")
    fig.update_yaxes(title="AP", range=[-0.02, 1.05])
    return _layout(fig, title, height=480)
