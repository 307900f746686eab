"""The dashboard in a real browser: `streamlit run` as a subprocess, headless Debian chromium through Playwright."""
import os
import sys
from pathlib import Path

import pytest

from servers import free_port, launch_chromium, running_server

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(tmp_path):
    port = free_port()
    env = dict(os.environ, PANNS_RESULTS_DIR=str(REPO / "results"), STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    cmd = [sys.executable, "-m", "streamlit", "run", REPO / "dashboard" / "app.py", "--server.headless", "true",
           "--browser.gatherUsageStats", "false", "--server.port", port, "--server.address", "127.0.0.1",
           "--server.fileWatcherType", "none"]
    url = f"http://127.0.0.1:{port}"
    with running_server(cmd, ready_url=url + "/_stcore/health", env=env, cwd=REPO, log=tmp_path / "streamlit.log",
                        ready_within=60):
        yield url


def test_overview_chart_appears_in_chromium(server):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = launch_chromium(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server)
            chart = page.locator(".js-plotly-plot").first
            chart.wait_for(state="visible", timeout=60_000)
            page.get_by_text("CNN14 (animal-only, reference study) [reported]").first.wait_for(timeout=30_000)
            bars = page.locator(".js-plotly-plot .barlayer .point")
            assert bars.count() == 6  # 2 study headlines + 4 general models on the animal classes
            assert page.get_by_text("Overview: do animal-only models beat the general ones?").is_visible()
            page.screenshot(path=str(ARTIFACTS / "dashboard_overview.png"), full_page=False)
        finally:
            browser.close()
