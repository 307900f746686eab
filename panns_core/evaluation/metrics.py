"""Clip-level tagging metrics: mAP, mean AUC and d-prime, with per-class figures.

AudioSet's eval set leaves some classes with no positive clip once it is cut down (a subset,
a failed download): their AP is undefined, and averaging a 0 or a NaN for them would move the
mean for a reason that has nothing to do with the model. So every mean here is over the classes
that can be scored, and the report names the classes that were left out, instead of hiding them.

The per-class figures are scikit-learn's (`average_precision_score`, `roc_auc_score`), so our
numbers are the ones every AudioSet paper computes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import norm
from sklearn.metrics import average_precision_score, roc_auc_score


@dataclass
class Scores:
    """Per-class and averaged figures for one set of predictions.

    `ap`/`auc` have one entry per class (NaN where undefined). `mAP` averages AP over classes
    with at least one positive; `mean_auc` averages AUC over classes with at least one positive
    and one negative (AUC needs both). `left_out` lists the class positions with no positive;
    `auc_left_out` those with no negative either, which only matters for tiny sets.
    """

    ap: np.ndarray
    auc: np.ndarray
    positives: np.ndarray
    mAP: float
    mean_auc: float
    d_prime: float
    scored: list = field(default_factory=list)
    left_out: list = field(default_factory=list)
    auc_left_out: list = field(default_factory=list)


def d_prime(auc: float) -> float:
    """Sensitivity index d' = sqrt(2) * Phi^-1(AUC), as reported by AudioSet papers (AUC 0.5 gives 0)."""
    return float(np.sqrt(2.0) * norm.ppf(auc))


def score(target, output) -> Scores:
    """Score clip-level predictions.

    target: (clips, classes) of 0/1 (bool or float; mixup-free ground truth).
    output: (clips, classes) scores, any monotone scale (sigmoid outputs or logits).
    """
    target = np.asarray(target)
    output = np.asarray(output, dtype=np.float64)
    if target.ndim != 2 or target.shape != output.shape:
        raise ValueError(f"target and output must both be (clips, classes); got {target.shape} and {output.shape}")
    if not np.isfinite(output).all():
        raise ValueError("output holds NaN or infinite scores; the model diverged or the input was not audio")
    if ((target != 0) & (target != 1)).any():
        raise ValueError("target must hold only 0 and 1 (score against the unmixed labels)")
    truth = target.astype(bool)
    positives = truth.sum(axis=0)
    classes = truth.shape[1]
    ap = np.full(classes, np.nan)
    auc = np.full(classes, np.nan)
    for k in range(classes):
        if positives[k] == 0:
            continue
        ap[k] = average_precision_score(truth[:, k], output[:, k])
        if positives[k] < truth.shape[0]:
            auc[k] = roc_auc_score(truth[:, k], output[:, k])
    scored = [k for k in range(classes) if positives[k] > 0]
    left_out = [k for k in range(classes) if positives[k] == 0]
    auc_left_out = [k for k in range(classes) if np.isnan(auc[k])]
    m_ap = float(np.mean(ap[scored])) if scored else float("nan")
    with_auc = ~np.isnan(auc)
    mean_auc = float(np.mean(auc[with_auc])) if with_auc.any() else float("nan")
    return Scores(
        ap=ap,
        auc=auc,
        positives=positives,
        mAP=m_ap,
        mean_auc=mean_auc,
        d_prime=d_prime(mean_auc) if with_auc.any() else float("nan"),
        scored=scored,
        left_out=left_out,
        auc_left_out=auc_left_out,
    )
