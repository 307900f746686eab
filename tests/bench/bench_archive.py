"""Archive jobs (`panns tag --out`): resume overhead and real-time factor, run by hand.

    python tests/bench/bench_archive.py [--journal-files 100000] [--minutes 60] [--arch MobileNetV1]

1. Resume overhead: a journal recording --journal-files finished files (real, empty files on disk), then
   the work a rerun does before tagging anything: find the files, stat them, read the journal, plan.
2. Real-time factor of a job (`python -m panns_core tag FILE --out DIR`, the whole command: start-up,
   checkpoint digest, decoding, events, Parquet) on one synthetic recording of --minutes, random weights
   in the official layout (timing does not depend on the weights' values), ONNX Runtime on the CPU;
   then the plain `tag FILE --csv` on the same file, for comparison.
3. With --ray-files N: N recordings of --ray-seconds each, tagged by the single process and by
   `--engine ray --workers 2` (a local Ray cluster that the command starts), both whole commands.
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
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from conftest import write_official_checkpoint  # noqa: E402

from panns_core.archive.job_setup import file_keys  # noqa: E402
from panns_core.archive.journal import DONE, Entry, Journal, plan  # noqa: E402
from panns_core.audio.files import find_audio  # noqa: E402


def resume_overhead(root: Path, n: int) -> None:
    folder = root / "archive"
    for d in range(0, n, 1000):
        sub = folder / f"day{d // 1000:04d}"
        sub.mkdir(parents=True)
        for i in range(d, min(n, d + 1000)):
            (sub / f"rec{i:06d}.wav").touch()
    files = find_audio([folder])
    keys, _ = file_keys(files)
    journal = Journal(root / "journal.sqlite")
    for start in range(0, n, 64):  # parts of 64 files, as a job writes them
        journal.commit_part(journal.next_part(), [Entry(k, DONE, "", 60.0) for k in keys[start : start + 64]])
    journal.close()
    t0 = time.perf_counter()
    files = find_audio([folder])
    t1 = time.perf_counter()
    keys, _ = file_keys(files)
    t2 = time.perf_counter()
    journal = Journal(root / "journal.sqlite")
    records = journal.records()
    t3 = time.perf_counter()
    to_do, done, _ = plan(records, keys, retry_failed=False)
    t4 = time.perf_counter()
    assert not to_do and len(done) == n
    size = os.path.getsize(root / "journal.sqlite") / 1e6
    print(
        f"resume over {n:,} finished files: {t4 - t0:.2f} s in all (find {t1 - t0:.2f} s, stat {t2 - t1:.2f} s, "
        f"read journal {t3 - t2:.2f} s, plan {t4 - t3:.2f} s); journal {size:.1f} MB"
    )


def real_time_factor(root: Path, minutes: float, arch: str) -> None:
    rate = 32000
    path = root / f"long_{minutes:g}min.wav"
    rng = np.random.RandomState(0)
    with sf.SoundFile(path, "w", rate, 1, subtype="PCM_16") as f:
        for _ in range(int(minutes)):
            f.write((rng.randn(60 * rate) * 0.05).astype(np.float32))
    checkpoint = write_official_checkpoint(root / f"{arch}.pth", arch)
    env = {**os.environ, "PANNS_CACHE_DIR": str(root / "cache"), "PANNS_OFFLINE": "1"}
    argv = [sys.executable, "-m", "panns_core", "tag", str(path), "--checkpoint", str(checkpoint), "--quiet"]
    warm = subprocess.run([*argv, "--out", str(root / "warm")], env=env, capture_output=True, text=True)
    assert warm.returncode == 0, warm.stderr  # exports the ONNX graph once, outside the timing
    audio = minutes * 60
    for what, extra in (
        ("job (--out, csv and raven)", ["--out", str(root / "out"), "--formats", "csv,raven"]),
        ("plain tag (--csv)", ["--csv", str(root / "tags.csv")]),
    ):
        t0 = time.perf_counter()
        run = subprocess.run([*argv, *extra], env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - t0
        assert run.returncode == 0, run.stderr
        print(
            f"{arch} {what} on {minutes:g} min of audio: {seconds:.1f} s, {audio / seconds:.0f}x real time "
            f"({seconds / minutes * 60:.0f} s per hour of audio)"
        )


def ray_against_single(root: Path, n: int, seconds: float, arch: str) -> None:
    rate = 32000
    folder = root / "recordings"
    folder.mkdir()
    rng = np.random.RandomState(0)
    for i in range(n):
        sf.write(folder / f"r{i:04d}.wav", (rng.randn(int(seconds * rate)) * 0.05).astype(np.float32), rate)
    checkpoint = write_official_checkpoint(root / f"{arch}.pth", arch)
    env = {**os.environ, "PANNS_CACHE_DIR": str(root / "cache"), "PANNS_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "panns_core", "tag", str(folder), "--checkpoint", str(checkpoint), "--quiet"]
    subprocess.run([*argv, "--out", str(root / "warm")], env=env, check=True, capture_output=True)  # ONNX export
    times = {}
    for what, extra in (("single process", []), ("ray, 2 workers", ["--engine", "ray", "--workers", "2"])):
        t0 = time.perf_counter()
        run = subprocess.run([*argv, "--out", str(root / what.split(",")[0]), *extra], env=env, capture_output=True)
        times[what] = time.perf_counter() - t0
        assert run.returncode == 0, run.stderr
    print(
        f"{n} files of {seconds:g} s, {arch}: single process {times['single process']:.1f} s, ray with 2 workers "
        f"{times['ray, 2 workers']:.1f} s (ratio {times['single process'] / times['ray, 2 workers']:.2f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--journal-files", type=int, default=100_000)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--arch", default="MobileNetV1")
    parser.add_argument("--ray-files", type=int, default=0, help="also compare --engine ray on this many files")
    parser.add_argument("--ray-seconds", type=float, default=30)
    parser.add_argument("--skip-local", action="store_true", help="only the Ray comparison")
    args = parser.parse_args()
    if args.ray_files:
        with tempfile.TemporaryDirectory() as tmp:
            ray_against_single(Path(tmp), args.ray_files, args.ray_seconds, args.arch)
    if args.skip_local:
        return
    with tempfile.TemporaryDirectory() as tmp:
        resume_overhead(Path(tmp), args.journal_files)
    with tempfile.TemporaryDirectory() as tmp:
        real_time_factor(Path(tmp), args.minutes, args.arch)


if __name__ == "__main__":
    main()
