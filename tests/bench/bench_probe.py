"""Benchmark: `panns probe fit` on 200 clips with MobileNetV1, first fit (cold embeddings cache) and refit.

    python tests/bench/bench_probe.py [--clips 200 --arch MobileNetV1]

The 80 ESC-10 dog and rooster recordings of ../shared/audio/animal_clips give the clips: each is used
several times with different spans (start 0, 0.25, 0.5 ... s, 4 s long), so every clip is a distinct
cache entry and its own model run. The checkpoint has filled random weights (no real weights here):
the timings are those of real weights of that arch. Each run is a fresh process, as a user runs it:
the first with an empty embeddings cache (and the ONNX export already made, timed apart), the second
the same command again. Prints the figures; nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared" / "audio" / "animal_clips"


def write_manifest(path: Path, count: int) -> Path:
    with open(SHARED / "manifest.csv", newline="") as f:
        esc = [r for r in csv.DictReader(f) if r["collection"] == "esc10"]
    rows, k = [], 0
    while len(rows) < count:
        for r in esc:
            if len(rows) == count:
                break
            label = "my_dog" if r["label_text"] == "Dog bark" else "my_rooster"
            recording = Path(r["file"]).stem.split("_")[-1].rsplit("-", 1)[0]
            start = 0.25 * k
            rows.append((SHARED / r["file"], label, recording, f"{start:g}", f"{start + 4:g}"))
        k += 1
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["path", "labels", "group", "start", "end"])
        writer.writerows(rows)
    return path


def timed(argv, env) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, argv))}\n{done.stderr}")
    print(done.stdout.strip())
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=200)
    parser.add_argument("--arch", default="MobileNetV1")
    args = parser.parse_args()
    sys.path[:0] = [str(REPO), str(REPO / "tests")]
    from conftest import write_official_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        checkpoint = write_official_checkpoint(tmp / f"{args.arch}_bench.pth", args.arch)
        manifest = write_manifest(tmp / "clips.csv", args.clips)
        env = {**os.environ, "PANNS_CACHE_DIR": str(tmp / "cache"), "PYTHONPATH": str(REPO)}
        tag = [sys.executable, "-m", "panns_core", "tag", str(SHARED / "esc10"), "--checkpoint", str(checkpoint)]
        export = timed([*tag, "--quiet", "--csv", str(tmp / "t.csv")], env)  # makes the ONNX export once
        fit = [sys.executable, "-m", "panns_core", "probe", "fit", "--clips", str(manifest)]
        fit += ["--checkpoint", str(checkpoint), "--out", str(tmp / "head.pth"), "--quiet"]
        first = timed(fit, env)
        again = timed(fit, env)
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "")
    print(f"\n{args.arch}, {args.clips} clips, {os.cpu_count()} CPUs ({cpu or platform.processor()})")
    print(f"  tag of 80 ESC-10 files incl. the one-off ONNX export: {export:.1f} s")
    print(f"  first fit (cold embeddings cache): {first:.1f} s")
    print(f"  refit (warm cache): {again:.1f} s")


if __name__ == "__main__":
    main()
