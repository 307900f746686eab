"""Small pieces every architecture shares: weight initialisation, PANNs mixup and pooling.

The log-mel front end itself lives on `PannsModel` (panns_core.models.base), which all models
inherit; `LogmelFrontend`, its old name, still works with a deprecation warning.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

# Five 2x poolings in time: the CNNs need 32 frames to leave one output frame.
MIN_FRAMES = 32


def init_bn(bn: nn.BatchNorm2d) -> None:
    bn.bias.data.fill_(0.0)
    bn.weight.data.fill_(1.0)


def init_layer(layer: nn.Module) -> None:
    nn.init.xavier_uniform_(layer.weight)
    if getattr(layer, "bias", None) is not None:
        layer.bias.data.fill_(0.0)


def do_mixup(x: torch.Tensor, mixup_lambda: torch.Tensor) -> torch.Tensor:
    """PANNs mixup: pairs (0,1), (2,3), ... mixed with weights lambda; (batch, ...) -> (batch // 2, ...).

    The one copy of mixup: models mix their inputs with it, training mixes the targets with it.
    """
    lam = mixup_lambda.to(x.dtype).view(-1, *([1] * (x.dim() - 1)))
    mixed = x * lam
    return mixed[0::2] + mixed[1::2]


def clip_pool(x: torch.Tensor) -> torch.Tensor:
    """(batch, channels, time) -> (batch, channels): max + mean over time, as PANNs does."""
    return torch.amax(x, dim=2) + torch.mean(x, dim=2)


def __getattr__(name):
    if name == "LogmelFrontend":
        warnings.warn(
            "panns_core.frontend.LogmelFrontend is now panns_core.models.PannsModel", DeprecationWarning, stacklevel=2
        )
        from .models.base import PannsModel

        return PannsModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
