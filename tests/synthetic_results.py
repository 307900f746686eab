"""Synthetic measured runs in the real results format, for tests, the benchmark and trying the dashboard.

The numbers are made up (marked in each run's notes and data) but shaped like training: per-class
AP rises with iterations towards a ceiling that grows with the class's clip count, so every page
has something meaningful to show. Written through panns_core.results, so they are valid runs.

    python tests/synthetic_results.py OUT_DIR [--runs 20 --evals 300 --class-stats]

Test and benchmark code, so it lives in tests/ (not in the dashboard package); it runs as a plain
script from a checkout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from a checkout

from dashboard.classes import animal_classes
from panns_core.evaluation.results import RunInfo, write_run

MODELS = ("Cnn14", "ResNet38", "Wavegram_Logmel_Cnn14")


def class_clip_counts(seed: int = 0) -> pd.Series:
    """A made-up, heavy-tailed number of training clips per animal class (index -> clips)."""
    rng = np.random.default_rng(seed)
    classes = animal_classes()
    return pd.Series(np.round(10 ** rng.uniform(2.2, 4.6, len(classes))).astype(int), index=classes["index"])


def synthetic_run(
    run_id: str,
    model: str,
    settings: dict,
    n_evals: int,
    every: int,
    seed: int,
    clips: pd.Series,
    ceiling_shift: float = 0.0,
):
    """RunInfo, classwise and curve tables of one made-up fit run."""
    rng = np.random.default_rng(seed)
    classes = animal_classes()
    iterations = np.arange(n_evals) * every  # (n_evals,)
    ceiling = np.clip(0.15 * np.log10(clips.to_numpy()) + rng.normal(0, 0.1, len(classes)) + ceiling_shift, 0.05, 0.98)
    speed = rng.uniform(0.5, 2.0, len(classes)) / max(1, iterations[-1])  # per class, (classes,)
    # ap: (n_evals, classes) rising from ~0.05 to each class's ceiling
    ap = 0.05 + (ceiling - 0.05) * (1 - np.exp(-np.outer(iterations, speed) * 3))
    ap = np.clip(ap + rng.normal(0, 0.01, ap.shape), 0, 1)
    n_classes = len(classes)
    classwise = pd.DataFrame(
        {
            "iteration": np.repeat(iterations, n_classes),
            "index": np.tile(classes["index"].to_numpy(), n_evals),
            "mid": np.tile(classes["mid"].to_numpy(), n_evals),
            "display_name": np.tile(classes["class"].to_numpy(), n_evals),
            "ap": ap.ravel().round(4),
            "auc": np.clip(0.5 + ap.ravel() / 2, 0, 1).round(4),
            "positives": np.tile(rng.integers(5, 200, n_classes), n_evals),
            "train_clips": np.tile(clips.to_numpy(), n_evals),
        }
    )
    curve = pd.DataFrame(
        {
            "iteration": iterations,
            "mAP": ap.mean(axis=1).round(4),
            "mean_auc": (0.5 + ap.mean(axis=1) / 2).round(4),
            "loss": (0.7 * np.exp(-iterations / max(1, iterations[-1]) * 2) + 0.05).round(4),
        }
    )
    info = RunInfo(
        run_id=run_id,
        kind="fit",
        status="measured",
        model=model,
        display_name=f"{model} (synthetic)",
        trained_on="animal",
        label_set="animal",
        iterations=int(iterations[-1]),
        hardware="synthetic",
        data={"synthetic": True},
        settings=settings,
        metrics={"mAP": float(curve["mAP"].iloc[-1]), "classes_scored": n_classes, "classes_left_out": []},
        notes="Synthetic figures made up by tests/synthetic_results.py for tests; not a measurement.",
    )
    return info, classwise, curve


def write_synthetic_results(
    root, n_runs: int = 20, n_evals: int = 300, every: int = 50, seed: int = 0, class_stats: bool = False
) -> list[Path]:
    """Write n_runs made-up fit runs (models and settings varied) under root; optionally a class_stats.csv."""
    root = Path(root)
    clips = class_clip_counts(seed)
    paths = []
    for i in range(n_runs):
        model = MODELS[i % len(MODELS)]
        settings = {
            "batch_size": 32 if i % 2 == 0 else 16,
            "balanced": i % 4 < 2,
            "mixup": i % 4 < 2,
            "data_fraction": 1.0 if i % 3 else 0.5,
            "lr": 1e-3,
        }
        shift = 0.1 * settings["balanced"] - 0.1 * (settings["data_fraction"] < 1)
        info, classwise, curve = synthetic_run(
            f"synthetic_{i:02d}_{model.lower()}", model, settings, n_evals, every, seed + i, clips, shift
        )
        paths.append(write_run(root, info, classwise, curve, overwrite=True))
    if class_stats:
        classes = animal_classes()
        rng = np.random.default_rng(seed)
        pd.DataFrame(
            {
                "index": classes["index"],
                "mid": classes["mid"],
                "display_name": classes["class"],
                "balanced_train_clips": np.minimum(clips.to_numpy(), 60),
                "unbalanced_train_clips": clips.to_numpy() - np.minimum(clips.to_numpy(), 60),
                "eval_clips": rng.integers(5, 200, len(classes)),
                "label_quality": rng.uniform(0.2, 1.0, len(classes)).round(2),
            }
        ).to_csv(root / "class_stats.csv", index=False)
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Write synthetic (made-up) runs for trying the dashboard.")
    parser.add_argument("out")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--evals", type=int, default=300)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--class-stats", action="store_true")
    args = parser.parse_args(argv)
    for path in write_synthetic_results(args.out, args.runs, args.evals, args.every, class_stats=args.class_stats):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
