"""The demo as a visitor's client sees it: `python demo/app.py` in its own process, driven by gradio_client."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest
from demo_servers import compare_args, peak_rss_mb, serve_demo
from gradio_client import Client, handle_file

from panns_core.labels.sets import ANIMAL

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # each module starts a server and loads a model


@pytest.fixture(scope="module")
def server(planted_mobilenet, shared_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("demo_server")
    args = [
        "--checkpoint",
        planted_mobilenet,
        "--arch",
        "MobileNetV1",
        "--max-seconds",
        "30",
        "--examples",
        shared_dir / "audio" / "audioset_samples",
    ]
    with serve_demo(args, root / "cache") as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return Client(server[0], verbose=False)


@pytest.fixture(scope="module")
def compare_server(planted_mobilenet, official_checkpoint, tmp_path_factory):
    root = tmp_path_factory.mktemp("compare_server")
    args, cache = compare_args(planted_mobilenet, official_checkpoint, root)
    with serve_demo(args, cache) as running:
        yield running


def test_compare_through_the_api_three_models_with_their_ap(compare_server, planted_mobilenet):
    client = Client(compare_server[0], verbose=False)
    example = REPO / "demo" / "examples" / "dog_bark.ogg"
    out = client.predict(handle_file(str(example)), local_key(planted_mobilenet), 3, 0.0, True, api_name="/analyse")
    comparison, table = out[7], out[8]
    rows = pd.DataFrame(table["data"], columns=table["headers"])
    answered = rows[rows["rank"] > 0]
    assert set(answered["model"]) == {"animal_mobilenet.pth", "MobileNetV1", "Cnn14"}
    assert (answered.groupby("model").size() == 3).all()  # top 3 each, threshold 0
    reported = {
        run: pd.read_csv(REPO / "results" / run / "classwise.csv").set_index("display_name")["ap"]
        for run in ("reported_panns_mobilenetv1_animal", "reported_panns_cnn14_animal")
    }
    for model, run in (("MobileNetV1", "reported_panns_mobilenetv1_animal"), ("Cnn14", "reported_panns_cnn14_animal")):
        mine = answered[answered["model"] == model]
        assert list(mine["ap"]) == [reported[run][c] for c in mine["class"]]
    own = answered[answered["model"].str.startswith("animal_mobilenet.pth")]
    assert list(own["class"])[:2] == ["Bark", "Cat"] and list(own["ap"])[:2] == [0.91, 0.12]
    wavegram = rows[rows["model"].str.startswith("Wavegram_Logmel_Cnn14")]
    assert "panns_core download Wavegram_Logmel_Cnn14" in wavegram["class"].iloc[0]
    assert "| # |" in comparison and "AP 0.91" in comparison
    peak = peak_rss_mb(compare_server[1].pid)
    print(f"server peak RSS after a three-model compare (MobileNetV1 x2 + Cnn14): {peak:.0f} MB")


def local_key(planted):
    return f"local:{planted}"


def dog(shared_dir):
    return shared_dir / "audio" / "animal_clips" / "esc10" / "audio" / "dog_bark_1-100032-A.ogg"


def test_clip_in_labels_and_csv_out(client, planted_mobilenet, shared_dir):
    labels, ontology, spectrogram, timeline, csv_path, events, events_csv, comparison, table, summary = client.predict(
        handle_file(str(dog(shared_dir))), local_key(planted_mobilenet), 5, 0.5, False, api_name="/analyse"
    )
    assert labels["label"] == "Bark"
    assert [c["label"] for c in labels["confidences"]] == ["Bark", "Cat"]
    assert "Animal > Domestic animals, pets > Dog > Bark" in ontology
    table = pd.read_csv(csv_path)
    assert len(table) == 65 and set(table["mid"]) == set(ANIMAL.mids) and table["mid"][0] == "/m/05tny_"
    assert Path(spectrogram).suffix == ".png" and Path(spectrogram).stat().st_size > 1000
    assert events["data"] == [] and events_csv is None and comparison == ""  # a 5-s clip, no compare
    assert {row[1] for row in timeline["data"]} == {"Bark", "Cat"}  # the classes that reach the threshold
    assert "MobileNetV1" in summary and "cpu" in summary
    assert "no per-class figure" in ontology  # a checkpoint with no run of its own in results/


def test_only_the_analysis_is_an_api_endpoint(client):
    assert list(client.view_api(print_info=False, return_format="dict")["named_endpoints"]) == ["/analyse"]


def test_bad_upload_is_an_error_and_the_app_keeps_serving(client, planted_mobilenet, shared_dir, tmp_path):
    notes = tmp_path / "notes.mp3"
    notes.write_text("not a recording")
    with pytest.raises(Exception, match=r"notes\.mp3"):  # the file named, in the core's words
        client.predict(handle_file(str(notes)), local_key(planted_mobilenet), 5, 0.1, api_name="/analyse")
    long_clip = shared_dir / "audio" / "animal_clips" / "birdnetlib" / "audio" / "XC563936_Soundscape.mp3"
    with pytest.raises(Exception, match="longer than the 30 s limit"):
        client.predict(handle_file(str(long_clip)), local_key(planted_mobilenet), 5, 0.1, api_name="/analyse")
    labels = client.predict(
        handle_file(str(dog(shared_dir))), local_key(planted_mobilenet), 3, 0.1, api_name="/analyse"
    )[0]
    assert labels["label"] == "Bark"


def test_twenty_simultaneous_requests_are_all_answered_with_bounded_memory(server, planted_mobilenet, shared_dir):
    url, proc, _ = server
    key = local_key(planted_mobilenet)
    clips = sorted((shared_dir / "audio" / "animal_clips" / "esc10" / "audio").glob("*.ogg"))[:20]
    assert len(clips) == 20

    def ask(path):  # one visitor, one client, one clip
        return Client(url, verbose=False).predict(handle_file(str(path)), key, 3, 0.1, api_name="/analyse")

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(ask, clips))
    assert len(answers) == 20
    assert all(a[0]["label"] == "Bark" and len(pd.read_csv(a[4])) == 65 for a in answers)
    assert len({Path(a[4]).name for a in answers}) == 20  # each answer is about its own clip
    # Requests run two at a time (the queue's limit), so memory stays near one model plus two clips.
    peak = peak_rss_mb(proc.pid)
    print(f"server peak RSS after 20 simultaneous requests: {peak:.0f} MB")
    assert proc.poll() is None and peak < 2000


def test_offline_start_without_weights_still_serves_and_says_how_to_get_them(tmp_path, shared_dir):
    with serve_demo(["--compare", "Cnn14"], tmp_path / "cache") as (url, proc, log):
        started = log.read_text()
        assert "python -m panns_core download Cnn14" in started and "Cnn14_mAP=0.431.pth" in started
        client = Client(url, verbose=False)
        with pytest.raises(Exception, match="panns_core download Cnn14"):
            client.predict(handle_file(str(dog(shared_dir))), "Cnn14", 5, 0.1, False, api_name="/analyse")
        assert proc.poll() is None


def test_a_mismatched_checkpoint_at_start_still_serves_and_says_why(tmp_path, shared_dir, planted_mobilenet):
    """`--checkpoint BAD` starts the app instead of exiting, and every answer says what is wrong."""
    args = ["--checkpoint", planted_mobilenet, "--arch", "Cnn14", "--compare", "Cnn14"]  # a MobileNetV1 file
    with serve_demo(args, tmp_path / "cache") as (url, proc, log):
        assert "Could not prepare animal_mobilenet.pth" in log.read_text() and "does not fit Cnn14" in log.read_text()
        client = Client(url, verbose=False)
        with pytest.raises(Exception, match="does not fit Cnn14"):
            client.predict(
                handle_file(str(dog(shared_dir))), local_key(planted_mobilenet), 5, 0.1, False, api_name="/analyse"
            )
        assert proc.poll() is None
