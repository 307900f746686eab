"""Helpers the demo's tests and benchmarks share: a demo server on loopback, a cache of released names, a results
folder with a measured run of our own."""

import os
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from servers import free_port, running_server

from panns_core.evaluation.results import RunInfo, write_run
from panns_core.weights.cache import _fingerprint, _stamp
from panns_core.weights.catalogue import PRETRAINED

REPO = Path(__file__).resolve().parents[1]
BARK, CAT = "/m/05tny_", "/m/01yrx"


@contextmanager
def serve_demo(args, cache_dir: Path, ready_within: float = 180):
    """Run demo/app.py on a free port with an empty weights cache and no network; yield (url, process, log)."""
    port = free_port()
    env = {**os.environ, "PANNS_CACHE_DIR": str(cache_dir), "PANNS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
    for name in ("SPACE_ID", "GRADIO_SERVER_PORT", "GRADIO_SERVER_NAME"):
        env.pop(name, None)
    log = cache_dir.parent / f"demo_{port}.log"
    url = f"http://127.0.0.1:{port}/"
    with running_server(
        [sys.executable, "demo/app.py", "--port", port, *args],
        ready_url=url,
        env=env,
        cwd=REPO,
        log=log,
        ready_within=ready_within,
    ) as proc:
        yield url, proc, log


def compare_args(planted_mobilenet, official_checkpoint, root: Path) -> tuple[list, Path]:
    """Arguments and cache folder for a three-model compare: the planted checkpoint (with a measured run
    of its own in a results folder) and the released MobileNetV1 and Cnn14 (random weights under the
    released names); Wavegram_Logmel_Cnn14 is asked for too but has no weights here."""
    cache = released_cache(
        root / "cache", {"MobileNetV1": official_checkpoint("MobileNetV1"), "Cnn14": official_checkpoint("Cnn14")}
    )
    results = results_with_own_run(root / "results", planted_mobilenet)
    return [
        "--checkpoint",
        planted_mobilenet,
        "--arch",
        "MobileNetV1",
        "--compare",
        "MobileNetV1,Cnn14,Wavegram_Logmel_Cnn14",
        "--results",
        results,
    ], cache


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc status")


def released_cache(folder: Path, files: dict[str, Path]) -> Path:
    """`folder` holding each arch's file under its released name, with the core's `.verified` stamp."""
    folder.mkdir(parents=True, exist_ok=True)
    for arch, source in files.items():
        target = folder / PRETRAINED[arch].filename
        os.link(source, target)
        _stamp(target).write_text(_fingerprint(target))
    return folder


def results_with_own_run(root: Path, checkpoint: Path) -> Path:
    """The repository's reported runs plus a measured run of `checkpoint` (Bark AP 0.91, Cat AP 0.12)."""
    for run in ("reported_panns_mobilenetv1_animal", "reported_panns_cnn14_animal"):
        shutil.copytree(REPO / "results" / run, root / run)
    table = pd.DataFrame(
        {"iteration": 3000, "index": [0, 1], "mid": [BARK, CAT], "display_name": ["Bark", "Cat"], "ap": [0.91, 0.12]}
    )
    write_run(
        root,
        RunInfo(
            run_id="pets-run",
            kind="fit",
            status="measured",
            model="MobileNetV1",
            trained_on="animal",
            label_set="animal",
            checkpoint=str(checkpoint),
        ),
        table,
    )
    return root
