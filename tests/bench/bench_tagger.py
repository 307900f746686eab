"""Tagger speed against the reference `panns_inference` package, side by side in one run.

    python tests/bench/bench_tagger.py [--minutes 30] [--repeats 3] [--checkpoint Cnn14_mAP=0.431.pth]

Same CNN14 weights for both (unless --checkpoint gives the real file: the test suite's random
weights in the official layout, filled by ../shared/panns_reference so that scores are spread out
rather than all 0.5; part 2 means most with real weights), same 10-s clips from ../shared/audio:
  1. batch 1 and batch 8: seconds per batch for panns_inference, our Tagger in fp32 and in bf16,
     interleaved so that load on the machine hits all of them alike; max |difference| of scores.
  2. bf16 top-5 agreement with fp32 on every shared clip (the bar for turning bf16 on by default).
  3. real-time factor of our Tagger (fp32, bf16) streaming a synthetic recording of --minutes.
panns_inference downloads a label file at import unless $HOME/panns_data/class_labels_indices.csv
exists, so HOME points at a temporary folder holding one written from our own package data.
"""
import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

REPO = Path(__file__).resolve().parents[2]
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(REPO / "tests"))

from conftest import write_official_checkpoint  # noqa: E402
from panns_core import Tagger  # noqa: E402
from panns_core.checkpoints import read_checkpoint  # noqa: E402
from panns_core.labels import AUDIOSET  # noqa: E402


def reference_tagger(checkpoint: Path, home: Path):
    (home / "panns_data").mkdir(parents=True, exist_ok=True)
    with open(home / "panns_data" / "class_labels_indices.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["index", "mid", "display_name"])
        w.writerows([i, m, n] for i, (m, n) in enumerate(zip(AUDIOSET.mids, AUDIOSET.names)))
    os.environ["HOME"] = str(home)
    from panns_inference import AudioTagging

    return AudioTagging(checkpoint_path=str(checkpoint), device="cpu")


def ten_second_clips(n: int) -> np.ndarray:
    from panns_core.audio import load_audio

    paths = sorted((SHARED / "audio").rglob("*.ogg")) + sorted((SHARED / "audio").rglob("*.wav"))
    clips = []
    for p in paths:
        x = load_audio(p)
        if len(x) >= 32000 * 3:
            clips.append(np.resize(x, 320000))  # repeat short clips up to 10 s
        if len(clips) == n:
            break
    return np.stack(clips).astype(np.float32)


def timed(fn, repeats):
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checkpoint", type=Path, default=None, help="a real Cnn14 checkpoint (default: random)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {os.cpu_count()} CPUs")
    tmp = Path(tempfile.mkdtemp())
    torch.manual_seed(0)
    checkpoint = args.checkpoint or tmp / "Cnn14_mAP=0.431.pth"
    if args.checkpoint is None:
        write_official_checkpoint(checkpoint, "Cnn14")
        # panns_inference reads with torch.load's default (weights_only): keep only the weights
        torch.save({"model": read_checkpoint(checkpoint)["model"]}, checkpoint)
    ref = reference_tagger(checkpoint, tmp / "home")
    ours = Tagger.from_pretrained(str(checkpoint), labels="audioset", device="cpu")
    ours_bf16 = Tagger(ours.model, labels="audioset", device="cpu", precision="bf16")
    clips = ten_second_clips(8)

    print("\n1. 10-s clips, seconds per batch (best of %d)" % args.repeats)
    print(f"{'batch':>5} {'panns_inference':>16} {'ours fp32':>10} {'ours bf16':>10} {'fp32/ref':>9} {'bf16/ref':>9} {'max|diff| fp32':>15}")
    for batch in (1, 8):
        x = clips[:batch]
        t_ref, (ref_scores, _) = timed(lambda: ref.inference(x), args.repeats)
        t_32, res = timed(lambda: ours.predict_batch(list(x), 32000), args.repeats)
        t_16, _ = timed(lambda: ours_bf16.predict_batch(list(x), 32000), args.repeats)
        diff = np.abs(np.stack([r.scores for r in res]) - ref_scores).max()
        print(f"{batch:>5} {t_ref:>16.3f} {t_32:>10.3f} {t_16:>10.3f} {t_32 / t_ref:>9.2f} {t_16 / t_ref:>9.2f} {diff:>15.2e}")

    print("\n2. bf16 vs fp32 top-5 classes on every shared clip")
    paths = sorted(p for p in (SHARED / "audio").rglob("*") if p.suffix in (".wav", ".ogg", ".mp3"))
    same_set = same_order = 0
    for p in paths:
        a = [m for _, m, _ in ours.predict_file(p).top(5)]
        b = [m for _, m, _ in ours_bf16.predict_file(p).top(5)]
        same_set += set(a) == set(b)
        same_order += a == b
    print(f"   identical top-5 set: {same_set}/{len(paths)}; identical order: {same_order}/{len(paths)}")

    print(f"\n3. real-time factor on a {args.minutes:g}-minute recording (processing time / audio time)")
    long = tmp / "long.wav"
    rng = np.random.RandomState(0)
    with sf.SoundFile(long, "w", samplerate=32000, channels=1, subtype="PCM_16") as f:
        for _ in range(int(args.minutes)):
            f.write((rng.randn(32000 * 60) * 0.05).astype(np.float32))
    for name, tagger in (("fp32", ours), ("bf16", ours_bf16)):
        t = time.perf_counter()
        r = tagger.predict_file(long)
        took = time.perf_counter() - t
        print(f"   {name}: {took:.1f} s for {r.duration / 60:.0f} min -> RTF {took / r.duration:.4f} "
              f"({r.duration / took:.0f}x real time)")


if __name__ == "__main__":
    main()
