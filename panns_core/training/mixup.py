"""Mixup in the PANNs convention: clips mixed in consecutive pairs, the batch halves.

The loader delivers 2B clips; pair i is clips 2i and 2i+1 with weights lam and 1 - lam
(lam ~ Beta(alpha, alpha)), and the model mixes its input the same way (`model(x, mixup_lambda=lam)`
returns B outputs). The targets must be mixed with the very same weights and the very same
function, `mix` (the front end's `do_mixup`, with its inputs checked).
"""

from __future__ import annotations

import numpy as np
import torch

from panns_core.models.blocks import do_mixup


def mixup_lambdas(batch: int, alpha: float, rng: np.random.Generator) -> torch.Tensor:
    """(batch,) float32 weights: [lam_0, 1 - lam_0, lam_1, 1 - lam_1, ...]."""
    if alpha <= 0:
        raise ValueError(f"mixup alpha must be positive, got {alpha}")
    if batch % 2:
        raise ValueError(f"mixup needs an even number of clips, got {batch}")
    lam = rng.beta(alpha, alpha, size=batch // 2)
    return torch.from_numpy(np.stack([lam, 1.0 - lam], axis=1).reshape(-1).astype(np.float32))


def mix(x: torch.Tensor, lam: torch.Tensor) -> torch.Tensor:
    """Mix consecutive pairs along the first axis: (2B, ...) -> (B, ...)."""
    if x.shape[0] != lam.shape[0] or x.shape[0] % 2:
        raise ValueError(f"cannot mix {x.shape[0]} rows with {lam.shape[0]} weights")
    return do_mixup(x, lam)
