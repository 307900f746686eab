"""The demo as a visitor's client sees it: `python demo/app.py` in its own process, driven by gradio_client."""
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
import pytest
from gradio_client import Client, handle_file

from panns_core.labels import ANIMAL
from servers import free_port, running_server

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow  # each module starts a server and loads a model


@contextmanager
def serve_demo(args, cache_dir: Path, ready_within: float = 180):
    """Run demo/app.py on a free port with an empty weights cache and no network; yield (url, process, log)."""
    port = free_port()
    env = {**os.environ, "PANNS_CACHE_DIR": str(cache_dir), "PANNS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    for name in ("SPACE_ID", "GRADIO_SERVER_PORT", "GRADIO_SERVER_NAME"):
        env.pop(name, None)
    log = cache_dir.parent / f"demo_{port}.log"
    url = f"http://127.0.0.1:{port}/"
    with running_server([sys.executable, "demo/app.py", "--port", port, *args], ready_url=url, env=env, cwd=REPO,
                        log=log, ready_within=ready_within) as proc:
        yield url, proc, log


@pytest.fixture(scope="module")
def server(planted_mobilenet, shared_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("demo_server")
    args = ["--checkpoint", planted_mobilenet, "--arch", "MobileNetV1", "--max-seconds", "30",
            "--examples", shared_dir / "audio" / "audioset_samples"]
    with serve_demo(args, root / "cache") as running:
        yield running


@pytest.fixture(scope="module")
def client(server):
    return Client(server[0], verbose=False)


def local_key(planted):
    return f"local:{planted}"


def dog(shared_dir):
    return shared_dir / "audio" / "animal_clips" / "esc10" / "audio" / "dog_bark_1-100032-A.ogg"


def test_clip_in_labels_and_csv_out(client, planted_mobilenet, shared_dir):
    labels, ontology, spectrogram, timeline, csv_path, segments, segments_csv, comparison, table, summary = \
        client.predict(handle_file(str(dog(shared_dir))), local_key(planted_mobilenet), 5, 0.5, False,
                       api_name="/analyse")
    assert labels["label"] == "Bark"
    assert [c["label"] for c in labels["confidences"]] == ["Bark", "Cat"]
    assert "Animal > Domestic animals, pets > Dog > Bark" in ontology
    table = pd.read_csv(csv_path)
    assert len(table) == 65 and set(table["mid"]) == set(ANIMAL.mids) and table["mid"][0] == "/m/05tny_"
    assert Path(spectrogram).suffix == ".png" and Path(spectrogram).stat().st_size > 1000
    assert segments["data"] == [] and segments_csv is None and comparison == ""  # a 5-s clip, no compare
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
    labels = client.predict(handle_file(str(dog(shared_dir))), local_key(planted_mobilenet), 3, 0.1,
                            api_name="/analyse")[0]
    assert labels["label"] == "Bark"


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


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
    with serve_demo([], tmp_path / "cache") as (url, proc, log):
        started = log.read_text()
        assert "python -m panns_core download Cnn14" in started and "Cnn14_mAP=0.431.pth" in started
        client = Client(url, verbose=False)
        with pytest.raises(Exception, match="panns_core download Cnn14"):
            client.predict(handle_file(str(dog(shared_dir))), "Cnn14", 5, 0.1, api_name="/analyse")
        assert proc.poll() is None
