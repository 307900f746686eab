"""Shared pieces of the PANNs CNNs: initialisation, mixup, pooling, conv blocks (names fixed by the checkpoints)."""

import torch
import torch.nn.functional as F
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


def pool2d(x: torch.Tensor, size, kind: str) -> torch.Tensor:
    if kind == "max":
        return F.max_pool2d(x, kernel_size=size)
    if kind == "avg":
        return F.avg_pool2d(x, kernel_size=size)
    if kind == "avg+max":
        return F.avg_pool2d(x, kernel_size=size) + F.max_pool2d(x, kernel_size=size)
    raise ValueError(f"unknown pool type {kind!r}")


class ConvBlock(nn.Module):
    """Two 3x3 conv + BN + ReLU, then pooling: the unit of CNN14."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        for layer in (self.conv1, self.conv2):
            init_layer(layer)
        for bn in (self.bn1, self.bn2):
            init_bn(bn)

    def forward(self, x: torch.Tensor, pool_size=(2, 2), pool_type: str = "avg") -> torch.Tensor:
        # x: (batch, in_channels, time, mel) -> (batch, out_channels, time / p0, mel / p1)
        x = F.relu_(self.bn1(self.conv1(x)))
        x = F.relu_(self.bn2(self.conv2(x)))
        return pool2d(x, pool_size, pool_type)


class ConvPreWavBlock(nn.Module):
    """Two 1-D convs (the second dilated) + BN + ReLU, then max pooling: the Wavegram's unit."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv1 = nn.Conv1d(in_channels, out_channels, 3, stride=1, padding=1, bias=False)
        self.conv2 = nn.Conv1d(out_channels, out_channels, 3, stride=1, padding=2, dilation=2, bias=False)
        self.bn1 = nn.BatchNorm1d(out_channels)
        self.bn2 = nn.BatchNorm1d(out_channels)
        for layer in (self.conv1, self.conv2):
            init_layer(layer)
        for bn in (self.bn1, self.bn2):
            init_bn(bn)

    def forward(self, x: torch.Tensor, pool_size: int) -> torch.Tensor:
        # x: (batch, in_channels, samples) -> (batch, out_channels, samples / pool_size)
        x = F.relu_(self.bn1(self.conv1(x)))
        x = F.relu_(self.bn2(self.conv2(x)))
        return F.max_pool1d(x, kernel_size=pool_size)


def build_cnn14_blocks(model: nn.Module, first_in: int = 1, start: int = 1) -> None:
    """Attach conv_block{start}..conv_block6 with CNN14's widths (64, 128, ..., 2048).

    They are set on the model itself, not wrapped in a sub-module, because the official state
    dicts name them `conv_blockN.*` at the top level.
    """
    widths = [64, 128, 256, 512, 1024, 2048]
    in_channels = first_in
    for i in range(start, 7):
        out_channels = widths[i - 1]
        setattr(model, f"conv_block{i}", ConvBlock(in_channels, out_channels))
        in_channels = out_channels


def run_cnn14_blocks(model: nn.Module, x: torch.Tensor, start: int = 1) -> torch.Tensor:
    """conv_block{start}..6: 2x2 average pooling except the last, dropout 0.2 after each."""
    for i in range(start, 7):
        pool = (1, 1) if i == 6 else (2, 2)
        x = getattr(model, f"conv_block{i}")(x, pool_size=pool, pool_type="avg")
        x = F.dropout(x, p=0.2, training=model.training)
    return x
