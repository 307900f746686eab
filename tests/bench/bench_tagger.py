"""Tagger speed: panns_inference, our PyTorch path and our ONNX Runtime path, side by side in one run.

    python tests/bench/bench_tagger.py [--minutes 30] [--repeats 3] [--checkpoint Cnn14_mAP=0.431.pth]

Same weights for all (unless --checkpoint gives the real Cnn14 file: the test suite's random
weights in the official layout, filled by ../shared/panns_reference so that scores are spread out
rather than all 0.5; part 2 means most with real weights), same 10-s clips from ../shared/audio.
Every timing is the best of --repeats, with the contenders interleaved inside each repeat so
that load from other processes on the machine hits all of them alike:
  1. Cnn14, batch 1 and batch 8: seconds per batch for panns_inference (a bench-only dependency,
     requirements-bench.txt), our Tagger on PyTorch fp32 (and bf16 with --bf16) and on ONNX Runtime; ratios to
     panns_inference; max |difference| of ONNX scores against PyTorch fp32.
  2. with --bf16: bf16 top-5 agreement with fp32 on every shared clip (the bar for bf16 by default).
  3. the other four architectures: ONNX / PyTorch time at batch 1 and 8, max |score difference|.
  4. real-time factor of `python -m panns_core tag` (whole command: start-up, decoding, CSV) on a
     synthetic recording of --minutes, with --backend onnx and --backend torch.
The ONNX graphs are exported into a temporary PANNS_CACHE_DIR first (export time is printed).
panns_inference downloads a label file at import unless $HOME/panns_data/class_labels_indices.csv
exists, so HOME points at a temporary folder holding one written from our own package data.
"""

import argparse
import csv
import os
import subprocess
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
from panns_core.labels.sets import AUDIOSET  # noqa: E402
from panns_core.weights.checkpoints import read_checkpoint  # noqa: E402


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
    from panns_core.audio.load import load_audio

    paths = sorted((SHARED / "audio").rglob("*.ogg")) + sorted((SHARED / "audio").rglob("*.wav"))
    clips = []
    for p in paths:
        x = load_audio(p)
        if len(x) >= 32000 * 3:
            clips.append(np.resize(x, 320000))  # repeat short clips up to 10 s
        if len(clips) == n:
            break
    return np.stack(clips).astype(np.float32)


def interleaved(fns: dict, repeats: int) -> tuple:
    """Best seconds of each named callable, alternating them inside every repeat; also the last outputs."""
    best, outs = {k: float("inf") for k in fns}, {}
    for _ in range(repeats):
        for name, fn in fns.items():
            t = time.perf_counter()
            outs[name] = fn()
            best[name] = min(best[name], time.perf_counter() - t)
    return best, outs


def score_diff(a, b) -> float:
    return float(np.abs(np.stack([r.scores for r in a]) - np.stack([r.scores for r in b])).max())


def backends(checkpoint: Path):
    """(PyTorch Tagger, ONNX Tagger, export seconds) on the same weights, all 527 classes."""
    torch_tagger = Tagger.from_pretrained(str(checkpoint), label_set="audioset", device="cpu", backend="torch")
    t = time.perf_counter()
    onnx_tagger = Tagger(torch_tagger.model, label_set="audioset", device="cpu", backend="onnx")
    return torch_tagger, onnx_tagger, time.perf_counter() - t


def cli_rtf(long: Path, checkpoint: Path, backend: str, tmp: Path) -> tuple:
    t = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "panns_core",
            "tag",
            str(long),
            "--checkpoint",
            str(checkpoint),
            "--labels",
            "audioset",
            "--backend",
            backend,
            "--csv",
            str(tmp / f"long-{backend}.csv"),
            "--quiet",
        ],
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return time.perf_counter() - t


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--checkpoint", type=Path, default=None, help="a real Cnn14 checkpoint (default: random)")
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="also time bf16 and run part 2 (slow on CPUs without native bf16, e.g. no AVX-512)",
    )
    args = parser.parse_args()
    import onnxruntime

    from panns_core.inference.onnx_runtime import default_threads

    print(
        f"torch {torch.__version__}, threads {torch.get_num_threads()}; onnxruntime {onnxruntime.__version__}, "
        f"intra-op threads {default_threads()}; {os.cpu_count()} CPUs"
    )
    tmp = Path(tempfile.mkdtemp())
    os.environ["PANNS_CACHE_DIR"] = str(tmp / "cache")
    torch.manual_seed(0)
    checkpoint = args.checkpoint or tmp / "Cnn14_mAP=0.431.pth"
    if args.checkpoint is None:
        write_official_checkpoint(checkpoint, "Cnn14")
        # panns_inference reads with torch.load's default (weights_only): keep only the weights
        torch.save({"model": read_checkpoint(checkpoint)["model"]}, checkpoint)
    try:
        ref = reference_tagger(checkpoint, tmp / "home")
    except ImportError:
        ref = None
        print("panns_inference is not installed (pip install -r requirements-bench.txt): its column is left out")
    ours, ours_onnx, export_s = backends(checkpoint)
    print(f"Cnn14 exported to ONNX in {export_s:.1f} s (first use only)")
    ours_bf16 = Tagger(ours.model, label_set="audioset", device="cpu", precision="bf16")
    clips = ten_second_clips(8)

    print(f"\n1. Cnn14, 10-s clips, seconds per batch (best of {args.repeats}, interleaved)")
    print(
        f"{'batch':>5} {'panns_inf':>9} {'torch32':>8} {'bf16':>7} {'onnx':>7} {'torch/ref':>9} {'bf16/ref':>8} "
        f"{'onnx/ref':>8} {'onnx/torch':>10} {'max|onnx-torch|':>16} {'max|torch-ref|':>15}"
    )
    for batch in (1, 8):
        x = clips[:batch]
        contenders = (("torch", ours), ("onnx", ours_onnx)) + ((("bf16", ours_bf16),) if args.bf16 else ())
        fns = {name: (lambda t=t, x=x: t.predict_batch(list(x), 32000)) for name, t in contenders}
        if ref is not None:
            fns["ref"] = lambda x=x: ref.inference(x)[0]
        t, out = interleaved(fns, args.repeats)
        r, t16 = t.get("ref", float("nan")), t.get("bf16", float("nan"))
        ref_diff = float(np.abs(np.stack([s.scores for s in out["torch"]]) - out["ref"]).max()) if ref else float("nan")
        print(
            f"{batch:>5} {r:>9.3f} {t['torch']:>8.3f} {t16:>7.3f} {t['onnx']:>7.3f} {t['torch'] / r:>9.2f} "
            f"{t16 / r:>8.2f} {t['onnx'] / r:>8.2f} {t['onnx'] / t['torch']:>10.2f} "
            f"{score_diff(out['onnx'], out['torch']):>16.1e} {ref_diff:>15.1e}"
        )

    if args.bf16:
        print("\n2. bf16 vs fp32 top-5 classes on every shared clip")
        paths = sorted(p for p in (SHARED / "audio").rglob("*") if p.suffix in (".wav", ".ogg", ".mp3"))
        same_set = same_order = 0
        for p in paths:
            a = [m for _, m, _ in ours.predict_file(p).top(5)]
            b = [m for _, m, _ in ours_bf16.predict_file(p).top(5)]
            same_set += set(a) == set(b)
            same_order += a == b
        print(f"   identical top-5 set: {same_set}/{len(paths)}; identical order: {same_order}/{len(paths)}")

    print(f"\n3. other architectures, 10-s clips: seconds per batch, ONNX / PyTorch fp32 (best of {args.repeats})")
    print(
        f"{'architecture':>24} {'export s':>8} {'torch b1':>8} {'onnx b1':>7} {'ratio':>6} {'torch b8':>8} "
        f"{'onnx b8':>7} {'ratio':>6} {'max|diff|':>10}"
    )
    for arch in ("ResNet38", "Wavegram_Logmel_Cnn14", "MobileNetV1", "Cnn14_DecisionLevelMax"):
        path = write_official_checkpoint(tmp / f"{arch}.pth", arch)
        torch_tagger, onnx_tagger, export_s = backends(path)
        row, diff = [], 0.0
        for batch in (1, 8):
            x = list(clips[:batch])
            t, out = interleaved(
                {
                    name: (lambda t=t, x=x: t.predict_batch(x, 32000))
                    for name, t in (("torch", torch_tagger), ("onnx", onnx_tagger))
                },
                args.repeats,
            )
            row += [t["torch"], t["onnx"], t["onnx"] / t["torch"]]
            diff = max(diff, score_diff(out["onnx"], out["torch"]))
        print(
            f"{arch:>24} {export_s:>8.1f} {row[0]:>8.3f} {row[1]:>7.3f} {row[2]:>6.2f} {row[3]:>8.3f} "
            f"{row[4]:>7.3f} {row[5]:>6.2f} {diff:>10.1e}"
        )

    print(
        f"\n4. `python -m panns_core tag` on a {args.minutes:g}-minute recording, Cnn14, whole command "
        "(wall time / audio time)"
    )
    long = tmp / "long.wav"
    rng = np.random.RandomState(0)
    with sf.SoundFile(long, "w", samplerate=32000, channels=1, subtype="PCM_16") as f:
        for _ in range(int(args.minutes)):
            f.write((rng.randn(32000 * 60) * 0.05).astype(np.float32))
    seconds = int(args.minutes) * 60
    for backend in ("onnx", "torch"):
        took = cli_rtf(long, checkpoint, backend, tmp)
        print(
            f"   --backend {backend}: {took:.1f} s for {seconds / 60:.0f} min -> RTF {took / seconds:.4f} "
            f"({seconds / took:.0f}x real time)"
        )


if __name__ == "__main__":
    main()
