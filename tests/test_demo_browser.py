"""The demo in a real browser (Debian chromium through Playwright): upload, press the button, read the page."""
import pytest
from playwright.sync_api import expect, sync_playwright

from servers import launch_chromium
from test_demo_app import serve_demo

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


def test_upload_analyse_and_see_labels_and_timeline(browser, planted_mobilenet, shared_dir, tmp_path,
                                                     artifacts_dir):
    clip = shared_dir / "audio" / "animal_clips" / "esc10" / "audio" / "dog_bark_1-100032-A.ogg"
    args = ["--checkpoint", planted_mobilenet, "--model", "MobileNetV1", "--window-seconds", "1",
            "--examples", shared_dir / "audio" / "audioset_samples"]
    with serve_demo(args, tmp_path / "cache") as (url, _, _):
        page = browser.new_page(viewport={"width": 1280, "height": 1500})
        page.goto(url)
        run = page.get_by_role("button", name="Analyse")
        expect(run).to_be_enabled(timeout=30_000)
        expect(page.get_by_text("Example clips")).to_be_visible()
        expect(page.get_by_text("Y-_2ITXZaxT0.wav")).to_be_visible()
        page.locator("input[type=file]").first.set_input_files(str(clip))
        expect(page.locator("audio, wave, .waveform-container").first).to_be_attached(timeout=30_000)
        run.click()

        labels = page.locator("#labels")
        expect(labels).to_contain_text("Bark", timeout=60_000)
        expect(page.get_by_text("Animal > Domestic animals, pets > Dog > Bark")).to_be_visible()
        timeline = page.locator("#timeline")
        expect(timeline.locator("canvas, svg").first).to_be_visible(timeout=30_000)
        expect(page.locator("#summary")).to_contain_text("6 window(s)")  # 1-s windows, the last one ends the clip
        expect(page.locator("a[href$='_animal_scores.csv']")).to_be_visible()  # the CSV download
        page.screenshot(path=str(artifacts_dir / "demo_browser.png"), full_page=True)


def test_without_weights_the_page_says_how_to_get_them_and_the_button_is_off(browser, tmp_path, artifacts_dir):
    with serve_demo([], tmp_path / "cache") as (url, _, _):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        expect(page.get_by_text("python -m panns_core download Cnn14")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("button", name="Analyse")).to_be_disabled()
        expect(page.get_by_role("button", name="Fetch weights")).to_be_visible()
        expect(page.get_by_text("processing")).to_have_count(0)  # the page-load status check has finished
        page.screenshot(path=str(artifacts_dir / "demo_browser_offline.png"), full_page=True)
