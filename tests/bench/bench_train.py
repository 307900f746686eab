"""Benchmark, run by hand: what training costs, measured side by side in one run.

    python tests/bench/bench_train.py            # CPU: loader throughput + step time of the three models
    python tests/bench/bench_train.py --quick    # fewer clips and steps

1. Data loading (clips/s): our PackedDataset (HDF5 opened once per worker) against a loader that
   reopens the file for every clip, same pack, same sampler, same workers, same order.
2. Training step time per clip for Cnn14, ResNet38 and Wavegram_Logmel_Cnn14 (65 classes, mixup,
   SpecAugment, Adam, clip-level BCE: the loop's own step). On a GPU, also with AMP (bf16/fp16).
The pack is built from the real clips in ../shared/audio/animal_clips, repeated to the size asked.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from panns_core import create_model
from panns_core.audio.load import load_audio
from panns_core.device import autocast
from panns_core.labels.sets import ANIMAL
from panns_core.training.dataset import PackedDataset
from panns_core.training.mixup import mix, mixup_lambdas
from panns_core.training.packfile import INT16_SCALE, PackWriter, open_pack
from panns_core.training.sampler import ShuffleSampler

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
MODELS = ["Cnn14", "ResNet38", "Wavegram_Logmel_Cnn14"]


class ReopeningDataset(PackedDataset):
    """The naive loader: opens the HDF5 file for every clip it reads."""

    def __getitem__(self, index):
        with open_pack(self.info.path) as f:
            wave = f["waveform"][index]
        return {
            "waveform": torch.from_numpy(wave.astype(np.float32) / INT16_SCALE),
            "target": torch.from_numpy(self.targets[index].astype(np.float32)),
            "index": index,
        }


def build_pack(path: Path, clips: int) -> None:
    root = SHARED / "audio" / "animal_clips"
    table = pd.read_csv(root / "manifest.csv")
    sources = [
        (load_audio(root / f, 32000), ANIMAL.index_of(m))
        for f, m in zip(table["file"][:40], table["audioset_mid_guess"][:40])
    ]
    with PackWriter(path, "animal", list(ANIMAL.mids)) as writer:
        for i in range(clips):
            wave, k = sources[i % len(sources)]
            writer.append(f"clip{i:05d}", wave, np.eye(65, dtype=bool)[k])


def loader_throughput(dataset, batches: int, batch_size: int, workers: int) -> float:
    sampler = ShuffleSampler(len(dataset), batch_size, seed=0)
    loader = DataLoader(dataset, batch_sampler=sampler, num_workers=workers)
    stream = iter(loader)
    next(stream)  # worker start-up is not throughput
    start = time.perf_counter()
    for _ in range(batches):
        next(stream)
    return batches * batch_size / (time.perf_counter() - start)


def step_seconds_per_clip(arch: str, device: torch.device, amp: bool, batch_size: int, steps: int) -> float:
    torch.manual_seed(0)
    model = create_model(arch, classes_num=65).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, amsgrad=True)
    clips = 2 * batch_size  # mixup: 2B clips in, B out
    x = (0.1 * torch.randn(clips, 320000)).to(device)
    y = (torch.rand(clips, 65) < 0.05).float().to(device)
    rng = np.random.default_rng(0)
    times = []
    for step in range(steps + 1):  # the first step (allocation, cudnn autotune) is not timed
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        lam = mixup_lambdas(clips, 1.0, rng).to(device)
        with autocast(device, amp):
            out = model(x, mixup_lambda=lam)["clipwise_output"]
        loss = F.binary_cross_entropy(out.float(), mix(y, lam))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if device.type == "cuda":
            torch.cuda.synchronize()
        if step:
            times.append(time.perf_counter() - start)
    return float(np.median(times)) / clips


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    clips, batches, steps, batch = (128, 6, 1, 2) if args.quick else (512, 24, 2, 4)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.h5"
        build_pack(path, clips)
        print(
            f"pack: {clips} clips of 10 s, {path.stat().st_size / 2**20:.0f} MiB; "
            f"{batches} batches of 32; torch threads {torch.get_num_threads()}"
        )
        path.read_bytes()  # page cache warm for both loaders
        print(f"{'loader (median of 3, alternating)':<36}{'workers':>8}{'clips/s':>10}{'ratio':>8}")
        for workers in sorted({0, args.workers}):
            ours, naive = [], []
            for _ in range(3):  # alternate, so that load from the other agents on the machine hits both alike
                ours.append(loader_throughput(PackedDataset(path), batches, 32, workers))
                naive.append(loader_throughput(ReopeningDataset(path), batches, 32, workers))
            ours, naive = float(np.median(ours)), float(np.median(naive))
            print(f"{'open once per worker (ours)':<36}{workers:>8}{ours:>10.0f}{ours / naive:>7.2f}x")
            print(f"{'reopen per clip':<36}{workers:>8}{naive:>10.0f}{1.0:>7.2f}x")
        print()

    settings = [(torch.device("cpu"), False)]
    if torch.cuda.is_available():
        settings += [(torch.device("cuda"), False), (torch.device("cuda"), True)]
    else:
        print("no GPU here: GPU and AMP figures not measured")
    print(f"training step, {2 * batch} clips in (mixup -> {batch}), median of {steps} steps after one warm-up")
    header = "".join(f"{d.type + (' AMP' if a else ''):>14}" for d, a in settings)
    print(f"{'model':<24}{header}   (seconds per clip)")
    for arch in MODELS:
        row = [
            step_seconds_per_clip(arch, d, a, batch if d.type == "cpu" else 16, steps if d.type == "cpu" else 10)
            for d, a in settings
        ]
        print(f"{arch:<24}" + "".join(f"{t:>14.4f}" for t in row))


if __name__ == "__main__":
    main()
