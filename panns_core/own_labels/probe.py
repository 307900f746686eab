"""Teach new classes: one-vs-rest logistic regression on frozen embeddings ("linear probe").

With a handful of labelled clips a linear classifier on a pretrained embedding beats training any
network. Regularisation is chosen by cross-validation inside each training part, and the AP reported
is measured on folds the classifier never saw, with the clips of one recording (the manifest's
`group`, default the file) kept in one fold: neighbouring clips of a recording are near copies, and
letting them straddle folds would report memory, not recognition.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import List, Sequence

import numpy as np

CS = (0.001, 0.01, 0.1, 1.0, 10.0)  # inverse regularisation strengths tried
INNER_FOLDS = 3


def _model(c: float):
    """Scaler + logistic regression; liblinear is ten times faster than lbfgs at these sizes (d >> clips)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(
        StandardScaler(), LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=1000)
    )


def _folds(groups: np.ndarray, n: int):
    from sklearn.model_selection import GroupKFold

    k = min(n, len(np.unique(groups)))
    return list(GroupKFold(n_splits=k).split(np.zeros(len(groups)), groups=groups)) if k >= 2 else []


def _usable(y: np.ndarray) -> bool:
    return bool(y.any() and not y.all())


def choose_c(x: np.ndarray, y: np.ndarray, groups: np.ndarray) -> float:
    """The C with the best mean AP over grouped inner folds (1.0 when no fold can tell)."""
    from sklearn.metrics import average_precision_score

    splits = [(tr, te) for tr, te in _folds(groups, INNER_FOLDS) if _usable(y[tr]) and y[te].any()]
    if not splits:
        return 1.0
    means = []
    for c in CS:
        aps = [
            average_precision_score(y[te], _model(c).fit(x[tr], y[tr]).predict_proba(x[te])[:, 1]) for tr, te in splits
        ]
        means.append(np.mean(aps))
    return CS[int(np.argmax(means))]


def out_of_fold(x: np.ndarray, y: np.ndarray, groups: np.ndarray, folds: int) -> np.ndarray:
    """(clips,) probabilities, each from a classifier fit (C chosen inside) without that clip's group."""
    out = np.full(len(y), float(y.mean()))
    for tr, te in _folds(groups, folds):
        if _usable(y[tr]):
            c = choose_c(x[tr], y[tr], groups[tr])
            out[te] = _model(c).fit(x[tr], y[tr]).predict_proba(x[te])[:, 1]
    return out


@dataclass
class ProbeFit:
    weight: np.ndarray  # (classes, embedding_size), standardisation folded in
    bias: np.ndarray  # (classes,)
    names: List[str]
    cv_ap: List[float]
    prior: List[float]  # fraction of clips with the class: the AP of a classifier that knows nothing
    positives: List[int]
    chosen_c: List[float]
    folds: int
    summary: dict = field(default_factory=dict)


def fit_probe(
    embeddings: np.ndarray, truth: np.ndarray, names: Sequence[str], groups: Sequence[str], folds: int = 5
) -> ProbeFit:
    """One-vs-rest heads for `truth` (clips, classes) on `embeddings` (clips, size), cross-validated by group."""
    from sklearn.metrics import average_precision_score

    x = np.asarray(embeddings, np.float64)
    groups = np.asarray(groups)
    weights, biases, aps, cs = [], [], [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # sklearn's notes on tiny folds; the AP says enough
        for j in range(truth.shape[1]):
            y = np.asarray(truth[:, j], bool)
            aps.append(float(average_precision_score(y, out_of_fold(x, y, groups, folds))))
            c = choose_c(x, y, groups)
            pipe = _model(c).fit(x, y)
            scaler, logistic = pipe[0], pipe[1]
            w = logistic.coef_[0] / scaler.scale_
            weights.append(w)
            biases.append(float(logistic.intercept_[0] - np.dot(w, scaler.mean_)))
            cs.append(c)
    return ProbeFit(
        weight=np.stack(weights),
        bias=np.asarray(biases),
        names=list(names),
        cv_ap=aps,
        prior=[float(truth[:, j].mean()) for j in range(truth.shape[1])],
        positives=[int(truth[:, j].sum()) for j in range(truth.shape[1])],
        chosen_c=cs,
        folds=min(folds, len(np.unique(groups))),
    )
