"""The demo in a real browser (Debian chromium through Playwright): upload, press the button, read the page."""

import numpy as np
import pytest
import soundfile as sf
from demo_servers import compare_args, serve_demo
from playwright.sync_api import expect, sync_playwright
from servers import launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# True when the element has a size and lies inside every clipping ancestor: Playwright's own
# visibility check does not see overflow clipping, which is how a chart's legend gets cut off.
UNCLIPPED = """(el) => {
  const r = el.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return false;
  for (let a = el.parentElement; a; a = a.parentElement) {
    const s = getComputedStyle(a);
    if (s.overflowX === "visible" && s.overflowY === "visible") continue;
    const b = a.getBoundingClientRect();
    if (r.top < b.top - 1 || r.bottom > b.bottom + 1 || r.left < b.left - 1 || r.right > b.right + 1) return false;
  }
  return true;
}"""


def legend_names_shown(timeline, names) -> bool:
    for name in names:
        label = timeline.get_by_text(name, exact=True)
        if label.count() != 1 or not label.evaluate(UNCLIPPED):
            return False
    return True


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = launch_chromium(p)
        yield chromium
        chromium.close()


def test_upload_analyse_and_see_labels_and_timeline(browser, planted_mobilenet, shared_dir, tmp_path, artifacts_dir):
    clip = shared_dir / "audio" / "animal_clips" / "esc10" / "audio" / "dog_bark_1-100032-A.ogg"
    silence = tmp_path / "silence.wav"
    sf.write(silence, np.zeros(32000, np.float32), 32000)
    args = [
        "--checkpoint",
        planted_mobilenet,
        "--arch",
        "MobileNetV1",
        "--compare",
        "MobileNetV1",
        "--examples",
        shared_dir / "audio" / "audioset_samples",
    ]
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
        # The timeline's own 2-s windows (the labels' single 10-s window would draw flat lines), and
        # a legend that names each line, in full view.
        expect(page.locator("#summary")).to_contain_text(
            "8 windows of 2 s every 0.5 s"
        )  # 5.001 s: the last ends the clip
        expect(timeline.get_by_text("Cat", exact=True)).to_have_count(1, timeout=10_000)
        assert legend_names_shown(timeline, ["Bark", "Cat"])
        expect(page.locator("a[href$='_animal_scores.csv']")).to_be_visible()  # the CSV download
        page.screenshot(path=str(artifacts_dir / "demo_browser.png"), full_page=True)

        # A clip that fails: the error replaces the previous clip's results instead of sitting beside them.
        page.locator("#clip").get_by_role("button", name="Clear").click()
        page.locator("#clip input[type=file]").set_input_files(str(silence))
        expect(page.locator("#clip audio, #clip wave, #clip .waveform-container").first).to_be_attached(timeout=30_000)
        run.click()
        expect(page.locator(".toast-body").filter(has_text="silent")).to_be_visible(timeout=60_000)
        expect(page.get_by_text("Animal > Domestic animals, pets > Dog > Bark")).to_have_count(0)
        expect(labels).not_to_contain_text("Bark")
        expect(page.locator("#summary")).not_to_contain_text("MobileNetV1")
        expect(page.locator("a[href$='_animal_scores.csv']")).to_have_count(0)
        expect(timeline.get_by_text("Bark", exact=True)).to_have_count(0)
        page.screenshot(path=str(artifacts_dir / "demo_browser_error.png"), full_page=True)


def test_without_weights_the_page_says_how_to_get_them_and_the_button_is_off(browser, tmp_path, artifacts_dir):
    with serve_demo(["--compare", "Cnn14"], tmp_path / "cache") as (url, _, _):
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(url)
        expect(page.get_by_text("python -m panns_core download Cnn14")).to_be_visible(timeout=30_000)
        expect(page.get_by_role("button", name="Analyse")).to_be_disabled()
        expect(page.get_by_text("PANNS_OFFLINE=1")).to_be_visible()
        expect(page.get_by_role("button", name="Fetch weights")).to_be_hidden()  # offline it could only fail
        expect(page.get_by_text("processing")).to_have_count(0)  # the page-load status check has finished
        page.screenshot(path=str(artifacts_dir / "demo_browser_offline.png"), full_page=True)


def test_click_an_example_then_compare_three_models_with_their_ap(
    browser, planted_mobilenet, official_checkpoint, tmp_path, artifacts_dir
):
    """The shipped examples run with one click; compare mode then shows three models' answers side by side,
    each class with its AP (the source on hover), and the model without weights as unavailable."""
    args, cache = compare_args(planted_mobilenet, official_checkpoint, tmp_path)
    with serve_demo(args, cache) as (url, _, _):
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        page.goto(url)
        expect(page.get_by_role("button", name="Analyse")).to_be_enabled(timeout=30_000)
        page.locator("#examples").get_by_text("dog_bark.ogg").click()  # one click: loaded and analysed
        expect(page.locator("#labels")).to_contain_text("Bark", timeout=60_000)
        expect(page.locator("#ontology")).to_contain_text("AP 0.91")  # the checkpoint's own run

        page.locator("#compare input[type=checkbox]").check()
        page.get_by_role("button", name="Analyse").click()
        comparison = page.locator("#comparison")
        expect(comparison.locator("table")).to_be_visible(timeout=120_000)
        header = [text.strip() for text in comparison.locator("th").all_inner_texts()]
        assert [text.split(" (")[0] for text in header] == [
            "#",
            "MobileNetV1",
            "Cnn14",
            "Wavegram_Logmel_Cnn14",
            "animal_mobilenet.pth",
        ]
        # every answering model's classes carry an AP whose source shows on hover
        expect(comparison.locator("span[title*='reported_panns_mobilenetv1_animal']").first).to_be_visible()
        expect(comparison.locator("span[title*='reported_panns_cnn14_animal']").first).to_be_visible()
        expect(comparison.locator("span[title*='pets-run']").first).to_have_text("AP 0.91")
        expect(comparison).to_contain_text("less reliable")  # Cat: the checkpoint's AP 0.12
        expect(comparison).to_contain_text("panns_core download Wavegram_Logmel_Cnn14")  # unavailable, why
        page.screenshot(path=str(artifacts_dir / "demo_browser_compare.png"), full_page=True)
