"""ResNet38: a CNN14-style stem, a ResNet-34 body ([3, 4, 6, 3] basic blocks) and a 2048-wide conv head."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from panns_core.config import AudioConfig
from panns_core.labels.sets import AUDIOSET_CLASSES
from panns_core.models.base import PannsModel
from panns_core.models.blocks import ConvBlock, init_bn, init_layer
from panns_core.models.registry import register_model


def _conv3x3(in_planes: int, out_planes: int) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=1, padding=1, bias=False)


class BasicBlock(nn.Module):
    """Residual block that downsamples by 2x2 average pooling (not a strided conv), as PANNs does."""

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: Optional[nn.Module] = None):
        super().__init__()
        self.stride = stride
        self.conv1 = _conv3x3(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        init_layer(self.conv1)
        init_bn(self.bn1)
        init_layer(self.conv2)
        nn.init.constant_(self.bn2.weight, 0)  # zero-init residual: each block starts as identity

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # x: (batch, inplanes, time, mel) -> (batch, planes, time / stride, mel / stride)
        out = F.avg_pool2d(x, kernel_size=(2, 2)) if self.stride == 2 else x
        out = self.relu(self.bn1(self.conv1(out)))
        out = F.dropout(out, p=0.1, training=self.training)
        out = self.bn2(self.conv2(out))
        identity = self.downsample(x) if self.downsample is not None else x
        return self.relu(out + identity)


class ResNetBody(nn.Module):
    """layer1..layer4 of ResNet-34 widths (64, 128, 256, 512); layers 2-4 halve time and mel."""

    def __init__(self, layers=(3, 4, 6, 3)):
        super().__init__()
        self.inplanes = 64
        self.layer1 = self._make_layer(64, layers[0], stride=1)
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)

    def _make_layer(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            conv = nn.Conv2d(self.inplanes, planes, kernel_size=1, stride=1, bias=False)
            bn = nn.BatchNorm2d(planes)
            init_layer(conv)
            init_bn(bn)
            # Index 0 is the pooling when downsampling, so checkpoint names are downsample.1 / .2.
            downsample = (
                nn.Sequential(nn.AvgPool2d(kernel_size=2), conv, bn) if stride == 2 else nn.Sequential(conv, bn)
            )
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (batch, 64, T, M) -> (batch, 512, T / 8, M / 8)
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


@register_model("ResNet38")
class ResNet38(PannsModel):
    embedding_size = 2048

    def __init__(self, classes_num: int = AUDIOSET_CLASSES, audio: Optional[AudioConfig] = None):
        super().__init__(classes_num, audio)
        self.build_frontend()
        self.conv_block1 = ConvBlock(1, 64)
        self.resnet = ResNetBody()
        self.conv_block_after1 = ConvBlock(512, 2048)
        self.build_head(2048)

    def forward_features(self, waveform: torch.Tensor, mixup_lambda=None) -> torch.Tensor:
        x = self.logmel(waveform, mixup_lambda)  # (batch, 1, frames, mel)
        x = self.conv_block1(x, pool_size=(2, 2), pool_type="avg")  # (batch, 64, T/2, M/2)
        x = F.dropout(x, p=0.2, training=self.training)
        x = self.resnet(x)  # (batch, 512, T/16, M/16)
        x = F.avg_pool2d(x, kernel_size=(2, 2))  # (batch, 512, T/32, M/32)
        x = F.dropout(x, p=0.2, training=self.training)
        x = self.conv_block_after1(x, pool_size=(1, 1), pool_type="avg")  # (batch, 2048, T/32, M/32)
        x = F.dropout(x, p=0.2, training=self.training)
        return torch.mean(x, dim=3)  # mean over mel: (batch, 2048, T/32)
