"""Streamlit entry point: `streamlit run dashboard/app.py [-- --results DIR]`.

Only wiring lives here and in the page_* files; loading and shaping are plain pandas functions
in the other dashboard modules. This is the one place that caches: the loaded results are kept
per (folder, file signature), so a new or rewritten run is picked up on the next rerun.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from dashboard import page_compare, page_curves, page_effect, page_overview  # noqa: E402
from dashboard.config import results_dir  # noqa: E402
from dashboard.data import Results, folder_signature, load_results  # noqa: E402
from dashboard.widgets import show_warnings  # noqa: E402

PAGES = {
    "Overview": page_overview,
    "Class-wise comparison": page_compare,
    "Training curves": page_curves,
    "Class effect": page_effect,
}


@st.cache_resource(show_spinner="Reading results...", max_entries=4)
def _load(root: str, signature: tuple) -> Results:
    """Cached without copying (cache_resource): the pages treat Results as read-only. `signature` is the key."""
    return load_results(root)


def main() -> None:
    st.set_page_config(page_title="PANNs animal results", layout="wide")
    root = results_dir(sys.argv[1:])
    res = _load(str(root), folder_signature(root))
    page = st.sidebar.radio("Page", list(PAGES), key="page")
    st.sidebar.caption(
        f"Results folder: `{root}`  \n{len(res.runs)} run(s): "
        f"{int((res.runs['status'] == 'measured').sum())} measured, "
        f"{int((res.runs['status'] == 'reported').sum())} reported."
    )
    show_warnings(res.warnings)
    if res.empty:
        st.title("No results yet")
        st.info(
            f"No runs in `{root}`. Measured runs appear here after `python -m train fit` or "
            "`python -m train evaluate` (use `--results` to write elsewhere); the project ships its reported "
            "figures in `results/`. Choose a folder with `streamlit run dashboard/app.py -- --results DIR` "
            "or the PANNS_RESULTS_DIR environment variable."
        )
        return
    PAGES[page].render(res)


main()
