"""The dashboard in a real browser: a plain `streamlit run` (the shipped config, no telemetry flags) as a
subprocess, headless Debian chromium through Playwright; a screenshot of every page is kept as an artifact."""

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest
from servers import free_port, launch_chromium, running_server, streamlit_command

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
PAGES = {
    "Class-wise comparison": "AP per animal class",
    "Training curves": "mAP against training iterations",
    "Class effect": "AP against label quality",
}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(tmp_path):
    """As the README starts it: no --browser.gatherUsageStats flag, no STREAMLIT_* variables, an empty HOME (so
    only the project's .streamlit/config.toml can turn usage statistics off)."""
    port = free_port()
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env.update(HOME=str(home), PANNS_RESULTS_DIR=str(REPO / "results"))
    cmd = streamlit_command(port)
    url = f"http://127.0.0.1:{port}"
    with running_server(
        cmd, ready_url=url + "/_stcore/health", env=env, cwd=REPO, log=tmp_path / "streamlit.log", ready_within=60
    ):
        yield url


def test_every_page_in_chromium_without_contacting_anyone(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    hosts = set()
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("request", lambda request: hosts.add(urlparse(request.url).hostname))
            page.goto(server)
            chart = page.locator(".js-plotly-plot").first
            chart.wait_for(state="visible", timeout=60_000)
            page.get_by_text("CNN14 (animal-only, reference study) [reported]").first.wait_for(timeout=30_000)
            bars = page.locator(".js-plotly-plot .barlayer .point")
            # 2 study headlines + the study's CNN14 class-wise run at 7k + 4 general models on the animal classes
            assert bars.count() == 7
            assert page.get_by_text("Overview: do animal-only models beat the general ones?").is_visible()
            assert page.get_by_text("66 classes, not animals only").count() == 2  # on the two study bars
            assert page.get_by_role("button", name="Deploy").count() == 0  # viewer toolbar
            page.screenshot(path=str(ARTIFACTS / "dashboard_overview.png"), full_page=True)
            for name, title in PAGES.items():
                page.get_by_test_id("stSidebar").get_by_text(name, exact=True).click()
                page.locator(".js-plotly-plot .gtitle", has_text=title).first.wait_for(timeout=60_000)
                page.wait_for_timeout(500)  # let the remaining charts and tables settle before the picture
                page.screenshot(
                    path=str(ARTIFACTS / f"dashboard_{name.lower().replace(' ', '_').replace('-', '_')}.png"),
                    full_page=True,
                )
            page.wait_for_timeout(1000)  # a metrics request would be sent soon after the session starts
        finally:
            browser.close()
    assert hosts == {"127.0.0.1"}, hosts  # no data.streamlit.io, nothing but the dashboard itself
