"""Small Streamlit helpers shared by the pages: a table that always comes with its CSV download, the run
warnings, and the list of runs with per-class AP."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st


def table_with_download(table: pd.DataFrame, file_name: str, key: str, **dataframe_kw) -> None:
    """Show a table and a button downloading exactly what is shown, as CSV."""
    st.dataframe(table, hide_index=True, width="stretch", **dataframe_kw)
    st.download_button(
        "Download CSV",
        table.to_csv(index=False).encode("utf-8"),
        file_name=file_name,
        mime="text/csv",
        key=f"download_{key}",
        on_click="ignore",
    )


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def plain_text(text: str) -> str:
    """Text that Streamlit's Markdown shows literally: every character Markdown (or its HTML, links,
    images, maths) could act on is backslash-escaped, so a run.json value cannot turn into a link or image."""
    return _MARKDOWN.sub(r"\\\1", str(text))


def plain_caption(text: str) -> None:
    if text:
        st.caption(plain_text(text))


def show_warnings(warnings: list[str]) -> None:
    """One warning per unreadable run file, naming it (the run is skipped, the others still load)."""
    if warnings:  # st.text, not Markdown: a file name or value may hold backticks, links or images
        st.warning(f"{len(warnings)} run file(s) could not be read and were skipped:")
        st.text("\n".join(f"- {w}" for w in warnings))


def classwise_runs(res, header: str) -> tuple[list[str], dict] | None:
    """Page header, then the runs with per-class AP and their labels; None (with a note) when there are none."""
    from dashboard import compare

    st.header(header)
    ids = compare.comparable_runs(res)
    if not ids:
        st.info("No run has per-class AP (`classwise.csv`) yet.")
        return None
    return ids, res.runs["label"].to_dict()
