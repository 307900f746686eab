"""Peak memory of an archive job on a very long, high-rate recording against a one-minute clip, run by hand.

    python tests/bench/bench_archive_memory.py [--hours 4] [--rate 192000] [--arch MobileNetV1]

Writes two FLAC files at --rate (a one-minute clip and a recording of --hours: a quiet tone with noise
bursts, written block by block so the benchmark itself stays small), then runs the whole command
`python -m panns_core tag FILE --out DIR` on each in a fresh process and reads the child's peak resident
memory (getrusage). A job that decodes and resamples in blocks peaks near the short clip's figure whatever
the length; one that holds the recording would grow with it (4 h at 192 kHz is 11 GB as float32 samples).
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from conftest import write_official_checkpoint  # noqa: E402


def write_recording(path: Path, seconds: float, rate: int, block_seconds: float = 60.0) -> Path:
    """A quiet 2-kHz tone with a loud noise burst each minute, written block by block."""
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", samplerate=rate, channels=1, subtype="PCM_16", format="FLAC") as f:
        done = 0
        total = round(seconds * rate)
        while done < total:
            n = min(round(block_seconds * rate), total - done)
            t = (done + np.arange(n)) / rate
            block = 0.05 * np.sin(2 * np.pi * 2000 * t)
            burst = slice(0, min(n, rate))  # one second of noise at the start of each block
            block[burst] += 0.5 * rng.standard_normal(burst.stop)
            f.write(block.astype(np.float32))
            done += n
    return path


# A fresh parent per job, so that getrusage(CHILDREN) holds that job's peak alone.
MEASURE = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_of_job(recording: Path, checkpoint: Path, out: Path) -> tuple[float, float]:
    """(seconds, peak resident MB) of one whole `tag --out` command in a fresh process."""
    command = [sys.executable, "-m", "panns_core", "tag", str(recording), "--checkpoint", str(checkpoint)]
    command += ["--out", str(out), "--quiet"]
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-c", MEASURE, *command],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PANNS_OFFLINE": "1"},
    )
    return time.perf_counter() - start, int(run.stdout.split()[-1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--rate", type=int, default=192_000)
    parser.add_argument("--arch", default="MobileNetV1")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        checkpoint = write_official_checkpoint(tmp / f"{args.arch}.pth", args.arch)
        t0 = time.perf_counter()
        long = write_recording(tmp / "long.flac", args.hours * 3600, args.rate)
        short = write_recording(tmp / "short.flac", 60, args.rate)
        print(f"wrote {args.hours} h and 1 min at {args.rate} Hz in {time.perf_counter() - t0:.0f} s")
        s_short, mb_short = peak_of_job(short, checkpoint, tmp / "out_short")
        s_long, mb_long = peak_of_job(long, checkpoint, tmp / "out_long")
    print(f"| 1 min at {args.rate} Hz | {s_short:.1f} s | {mb_short:.0f} MB |")
    print(f"| {args.hours:g} h at {args.rate} Hz | {s_long:.1f} s | {mb_long:.0f} MB ({mb_long / mb_short:.2f}x) |")


if __name__ == "__main__":
    main()
