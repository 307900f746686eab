"""Refusing over-long uploads: time and memory before and after bounded decoding, side by side in one run.

    python tests/bench/bench_refusal.py [--before a4f34a0] [--limit 600] [--skip-before]

Makes (once, with the ffmpeg binary, cached in test-artifacts/bench_refusal/) low-bitrate noise recordings:
a 2-hour M4A (AAC), a 4-hour WebM/Opus, and the same WebM with the duration in its header voided (as a
live stream leaves it), so that only counting while decoding can stop it. Each is then given to
`load_audio(path, max_seconds=LIMIT)` (what the demo's --max-seconds and `Tagger(max_seconds=...)` call)
by the code at git revision --before
(extracted with `git archive`) and by this working tree, each in a fresh process. Reported per file and
code: seconds until the AudioError, and peak resident memory above the process's idle level just before
the call (VmHWM after minus VmRSS before, from /proc). Target (issue 13): under 2 s and under 300 MB.
"""

import argparse
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "test-artifacts" / "bench_refusal"

RECORDINGS = {  # name: (seconds, ffmpeg input, ffmpeg output arguments, written to a pipe)
    "2h.m4a": (7200, None, ["-c:a", "aac", "-b:a", "16k", "-ac", "1", "-ar", "22050"], False),
    "4h.webm": (14400, None, ["-c:a", "libopus", "-b:a", "6k", "-ac", "1"], False),
}
NO_LENGTH = "4h_no_length.webm"  # 4h.webm with its Matroska Duration voided: only counting can stop it

PROBE = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
import panns_core
assert panns_core.__file__.startswith(sys.argv[1]), panns_core.__file__  # the code under test, not an install
from panns_core.audio import load_audio
from panns_core.errors import AudioError

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
load_audio(sys.argv[3], max_seconds=5)  # warm up: decoder libraries loaded, as in a running server
idle = status("VmRSS")
start = time.perf_counter()
try:
    load_audio(sys.argv[2], max_seconds=float(sys.argv[4]))
    outcome = "accepted"
except AudioError as e:
    outcome = str(e)
print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": status("VmHWM") - idle, "outcome": outcome}))
"""


def make_recordings() -> dict:
    if not shutil.which("ffmpeg"):
        sys.exit("ffmpeg is needed to make the recordings: apt-get install -y ffmpeg")
    CACHE.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, (seconds, remux, args, piped) in RECORDINGS.items():
        path = paths[name] = CACHE / name
        if path.exists():
            continue
        noise = ["-f", "lavfi", "-i", f"anoisesrc=d={seconds}:c=pink:r=48000:a=0.05"]
        source = ["-i", str(CACHE / remux)] if remux else noise
        command = ["ffmpeg", "-v", "error", "-y", *source, *args]
        print(f"making {name} ({seconds / 3600:.0f} h) ...", flush=True)
        if piped:
            with open(path, "wb") as out:
                subprocess.run([*command, "-"], stdout=out, check=True)
        else:
            subprocess.run([*command, str(path)], check=True)
    paths[NO_LENGTH] = CACHE / NO_LENGTH
    if not paths[NO_LENGTH].exists():
        paths[NO_LENGTH].write_bytes(void_duration(paths["4h.webm"].read_bytes()))
    short = CACHE / "warmup.wav"
    if not short.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=d=1", str(short)], check=True)
    paths["warmup"] = short
    return paths


def void_duration(webm: bytes) -> bytes:
    """Overwrite the Segment's Duration element (ID 0x4489) with an EBML Void element of the same length.

    (`ffmpeg ... -f webm -` to a pipe still writes a Duration when its input's is known, so a file
    without one is made by hand, as a live stream or a crashed recorder leaves it.)
    """
    at = webm.find(b"\x44\x89")
    size = webm[at + 2] & 0x7F  # a one-byte EBML size: 4 or 8 for a float
    assert size in (4, 8), "no Duration element found"
    void = b"\xec" + bytes([0x80 | (size + 1)]) + bytes(size + 1)  # ID, size, zeros: 3 + size bytes like the original
    return webm[:at] + void + webm[at + 3 + size :]


def extract(revision: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", revision, "panns_core"], check=True, capture_output=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def measure(code_root: Path, path: Path, warmup: Path, limit: float) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(code_root), str(path), str(warmup), str(limit)],
        capture_output=True,
        text=True,
    )
    if proc.returncode:
        return {"seconds": float("nan"), "peak_mb": float("nan"), "outcome": proc.stderr.strip().splitlines()[-1]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="a4f34a0", help="git revision of the code before the fix")
    parser.add_argument("--limit", type=float, default=600.0, help="max_seconds (the demo's default is 600)")
    parser.add_argument("--skip-before", action="store_true", help="measure only this working tree")
    args = parser.parse_args()
    paths = make_recordings()
    with tempfile.TemporaryDirectory() as tmp:
        codes = {} if args.skip_before else {f"before ({args.before})": extract(args.before, Path(tmp))}
        codes["after (this tree)"] = REPO
        print(f"\nrefusing recordings over {args.limit:g} s with load_audio(path, max_seconds={args.limit:g})")
        print(f"{'file':16s} {'MB':>6s}  {'code':22s} {'seconds':>8s} {'peak MB':>8s}  message")
        results = {}
        for name in [*RECORDINGS, NO_LENGTH]:
            size = paths[name].stat().st_size / 1e6
            for label, root in codes.items():
                r = results[name, label] = measure(root, paths[name], paths["warmup"], args.limit)
                print(
                    f"{name:16s} {size:6.1f}  {label:22s} {r['seconds']:8.2f} {r['peak_mb']:8.0f}  "
                    f"{r['outcome'][:110]}",
                    flush=True,
                )
        if not args.skip_before:
            print("\nratios before/after (time, peak memory):")
            before, after = list(codes)
            for name in [*RECORDINGS, NO_LENGTH]:
                b, a = results[name, before], results[name, after]
                print(
                    f"  {name:16s} {b['seconds'] / a['seconds']:7.0f}x faster, "
                    f"{b['peak_mb'] / max(a['peak_mb'], 1):7.0f}x less memory"
                )


if __name__ == "__main__":
    main()
