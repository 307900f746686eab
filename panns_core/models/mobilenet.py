"""MobileNetV1 for audio: depthwise-separable convs, 4.8 M trainable weights, for small devices."""

from __future__ import annotations

from typing import Optional

import torch
from torch import nn

from panns_core.config import AudioConfig
from panns_core.labels.sets import AUDIOSET_CLASSES
from panns_core.models.base import PannsModel
from panns_core.models.blocks import init_bn, init_layer
from panns_core.models.registry import register_model

# (in, out, stride) of the depthwise-separable layers after the first full conv (32 channels, stride 2).
_SEPARABLE = (
    [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)]
    + [(512, 512, 1)] * 5
    + [(512, 1024, 2), (1024, 1024, 1)]
)


def _conv_bn(inp: int, oup: int, stride: int) -> nn.Sequential:
    # Downsampling is average pooling after a stride-1 conv; names .0 conv, .2 BN as in the checkpoints.
    conv, bn = nn.Conv2d(inp, oup, 3, 1, 1, bias=False), nn.BatchNorm2d(oup)
    init_layer(conv)
    init_bn(bn)
    return nn.Sequential(conv, nn.AvgPool2d(stride), bn, nn.ReLU(inplace=True))


def _conv_dw(inp: int, oup: int, stride: int) -> nn.Sequential:
    depthwise, bn1 = nn.Conv2d(inp, inp, 3, 1, 1, groups=inp, bias=False), nn.BatchNorm2d(inp)
    pointwise, bn2 = nn.Conv2d(inp, oup, 1, 1, 0, bias=False), nn.BatchNorm2d(oup)
    for layer in (depthwise, pointwise):
        init_layer(layer)
    for bn in (bn1, bn2):
        init_bn(bn)
    return nn.Sequential(
        depthwise, nn.AvgPool2d(stride), bn1, nn.ReLU(inplace=True), pointwise, bn2, nn.ReLU(inplace=True)
    )


@register_model("MobileNetV1")
class MobileNetV1(PannsModel):
    embedding_size = 1024

    def __init__(self, classes_num: int = AUDIOSET_CLASSES, audio: Optional[AudioConfig] = None):
        super().__init__(classes_num, audio)
        self.build_frontend()
        # `features` is a module here (the official state dict names it `features.*`).
        self.features = nn.Sequential(_conv_bn(1, 32, 2), *[_conv_dw(i, o, s) for i, o, s in _SEPARABLE])
        self.build_head(1024)

    def forward_features(self, waveform: torch.Tensor, mixup_lambda=None) -> torch.Tensor:
        x = self.logmel(waveform, mixup_lambda)  # (batch, 1, frames, mel)
        x = self.features(x)  # (batch, 1024, frames / 32, mel / 32)
        return torch.mean(x, dim=3)  # mean over mel: (batch, 1024, frames / 32)
