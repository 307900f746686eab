"""The pictures a calibration writes: a reliability plot and per-class precision-recall curves (PNG, Agg)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only: no display is needed or wanted
    import matplotlib.pyplot as plt

    return plt


def reliability_plot(scores: np.ndarray, truth: np.ndarray, path, bins: int = 10) -> Path:
    """Fraction of positives against mean score in score bins, all calibrated classes pooled.

    On the diagonal a score of 0.7 is right 70 % of the time; below it the scores are over-confident.
    """
    plt = _pyplot()
    s, y = np.asarray(scores, float).ravel(), np.asarray(truth, bool).ravel()
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(s, edges) - 1, 0, bins - 1)
    used = [b for b in range(bins) if np.any(which == b)]
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], ls="--", color="grey", label="perfectly calibrated")
    ax.plot([s[which == b].mean() for b in used], [y[which == b].mean() for b in used], marker="o", label="these clips")
    for b in used:
        ax.annotate(str(int(np.sum(which == b))), (s[which == b].mean(), y[which == b].mean()), fontsize=7)
    ax.set(xlabel="mean score in bin", ylabel="fraction of positives", xlim=(0, 1), ylim=(0, 1))
    ax.set_title("Reliability (numbers: clip-class pairs per bin)", fontsize=9)
    ax.legend(loc="upper left", fontsize=8)
    path = Path(path)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path


def pr_curves(curves: dict, rows: list, path) -> Path:
    """One precision-recall curve per calibrated class, its chosen threshold marked."""
    plt = _pyplot()
    chosen = {r["mid"]: r for r in rows}
    fig, ax = plt.subplots(figsize=(6, 5))
    for mid, (_, precision, recall) in curves.items():
        line = ax.plot(recall, precision, label=chosen[mid]["display_name"] if mid in chosen else mid)[0]
        if mid in chosen:
            ax.plot(chosen[mid]["recall"], chosen[mid]["precision"], "o", color=line.get_color())
    ax.set(xlabel="recall", ylabel="precision", xlim=(0, 1.02), ylim=(0, 1.02))
    ax.set_title("Precision-recall per class (dots: the chosen thresholds)", fontsize=9)
    ax.legend(fontsize=7, loc="lower left")
    path = Path(path)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return path
