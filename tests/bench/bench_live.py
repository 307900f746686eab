"""Live tagging speed on this machine: update latency per model, and how many live sessions keep up.

    python tests/bench/bench_live.py [--updates 20] [--round-seconds 3] [--max-sessions 32]

Random-weight checkpoints in the official layout (timing does not depend on the weights), run by ONNX Runtime
as the demo runs them. A temporary PANNS_CACHE_DIR holds the exported graphs.
  1. latency: a LiveTagger with a 10-s window fed 0.5-s blocks of 48 kHz stereo int16 (what a browser
     microphone sends); the time from a block's arrival (feed) to its scores (update), median and 90th
     percentile, for MobileNetV1 and Cnn14 with 2 ONNX Runtime threads;
  2. sessions: N live sessions sharing one MobileNetV1 tagger, served by 2 workers with 1 ONNX Runtime
     thread each (the demo's default --concurrency 2 on 2 cores); every second each session gets a
     second of audio and asks for an update. N keeps up when the median round of N updates takes no more
     than a second; doubles N, then bisects, and reports the largest N that keeps up.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from conftest import write_official_checkpoint  # noqa: E402

from panns_core import Tagger  # noqa: E402
from panns_core.inference.live import LiveTagger  # noqa: E402

MIC_RATE = 48000


def mic_block(seconds: float, rng) -> np.ndarray:
    """Noise as a browser microphone sends it: (frames, 2) int16 at 48 kHz."""
    return (rng.standard_normal((round(seconds * MIC_RATE), 2)) * 3000).astype(np.int16)


def latency(tagger, updates: int) -> list[float]:
    live = LiveTagger(tagger, window_seconds=10.0, update_seconds=1.0)
    rng = np.random.default_rng(0)
    for _ in range(20):  # fill the 10-s window
        live.feed(mic_block(0.5, rng), MIC_RATE)
    live.update(force=True)  # warm-up
    times = []
    for _ in range(updates):
        block = mic_block(0.5, rng)
        arrived = time.perf_counter()
        live.feed(block, MIC_RATE)
        live.update(force=True)
        times.append(time.perf_counter() - arrived)
    return times


def round_seconds(pool, sessions: list[LiveTagger], block: np.ndarray) -> float:
    started = time.perf_counter()
    list(pool.map(lambda live: (live.feed(block, MIC_RATE), live.update(force=True)), sessions))
    return time.perf_counter() - started


def keeps_up(tagger, n: int, rounds: int, pool) -> tuple[bool, float]:
    rng = np.random.default_rng(n)
    sessions = [LiveTagger(tagger, window_seconds=10.0, update_seconds=1.0) for _ in range(n)]
    fill = mic_block(10.0, rng)
    for live in sessions:
        live.feed(fill, MIC_RATE)
    block = mic_block(1.0, rng)
    times = []
    for _ in range(rounds):
        took = round_seconds(pool, sessions, block)
        times.append(took)
        time.sleep(max(0.0, 1.0 - took))  # the next second of audio arrives a second later
    median = statistics.median(times)
    return median <= 1.0, median


def most_sessions(tagger, rounds: int, limit: int) -> int:
    with ThreadPoolExecutor(2) as pool:
        good, n = 0, 1
        while n <= limit:
            ok, median = keeps_up(tagger, n, rounds, pool)
            print(f"  {n:3d} sessions: median round {median * 1000:.0f} ms {'keeps up' if ok else 'falls behind'}")
            if not ok:
                break
            good, n = n, n * 2
        bad = n if n <= limit else None
        while bad is not None and bad - good > 1:
            mid = (good + bad) // 2
            ok, median = keeps_up(tagger, mid, rounds, pool)
            print(f"  {mid:3d} sessions: median round {median * 1000:.0f} ms {'keeps up' if ok else 'falls behind'}")
            good, bad = (mid, bad) if ok else (good, mid)
    return good


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=20, help="timed updates per model (default %(default)s)")
    parser.add_argument("--round-seconds", type=int, default=3, help="rounds per session count (default %(default)s)")
    parser.add_argument("--max-sessions", type=int, default=32, help="largest session count tried")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_live_"))
    os.environ["PANNS_CACHE_DIR"] = str(work / "cache")
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores seen")
    for arch in ("MobileNetV1", "Cnn14"):
        path = write_official_checkpoint(work / f"{arch}.pth", arch)
        tagger = Tagger.from_pretrained(str(path), arch=arch, backend="onnx", threads=2, progress=False)
        times = latency(tagger, args.updates)
        p90 = float(np.percentile(times, 90))
        print(
            f"{arch}: block arrival to scores, 10-s window, ONNX Runtime 2 threads: "
            f"median {statistics.median(times) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms over {len(times)} updates"
        )
    path = work / "MobileNetV1.pth"
    tagger = Tagger.from_pretrained(str(path), arch="MobileNetV1", backend="onnx", threads=1, progress=False)
    print("MobileNetV1 sessions at one update a second (2 workers x 1 ONNX Runtime thread):")
    print(f"largest number of live sessions keeping up: {most_sessions(tagger, args.round_seconds, args.max_sessions)}")


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return "unknown"


if __name__ == "__main__":
    main()
