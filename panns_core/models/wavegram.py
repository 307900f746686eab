"""Wavegram-Logmel-CNN: a learnt 1-D front end (the Wavegram) beside the log-mel, joined after the first block."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import nn

from panns_core.config import AudioConfig
from panns_core.labels.sets import AUDIOSET_CLASSES
from panns_core.models.base import PannsModel
from panns_core.models.blocks import (
    ConvBlock,
    ConvPreWavBlock,
    build_cnn14_blocks,
    do_mixup,
    init_bn,
    init_layer,
    run_cnn14_blocks,
)
from panns_core.models.registry import register_model


@register_model("Wavegram_Logmel_Cnn14")
class WavegramLogmelCnn14(PannsModel):
    """The published model concatenates the two branches only when their time axes agree (10-s clips).

    Here the Wavegram's time axis is cut or edge-padded to the log-mel's after `conv_block1`, so any
    length works; at 10 s both have 500 frames and nothing changes.
    """

    embedding_size = 2048

    def __init__(self, classes_num: int = AUDIOSET_CLASSES, audio: Optional[AudioConfig] = None):
        super().__init__(classes_num, audio)
        # Wavegram first: the official state dict lists pre_* before the front end.
        self.pre_conv0 = nn.Conv1d(1, 64, kernel_size=11, stride=5, padding=5, bias=False)
        self.pre_bn0 = nn.BatchNorm1d(64)
        self.pre_block1 = ConvPreWavBlock(64, 64)
        self.pre_block2 = ConvPreWavBlock(64, 128)
        self.pre_block3 = ConvPreWavBlock(128, 128)
        self.pre_block4 = ConvBlock(4, 64)
        init_layer(self.pre_conv0)
        init_bn(self.pre_bn0)
        self.build_frontend()
        self.conv_block1 = ConvBlock(1, 64)
        build_cnn14_blocks(self, first_in=128, start=2)
        self.build_head(2048)

    def wavegram(self, waveform: torch.Tensor) -> torch.Tensor:
        # waveform: (batch, samples)
        a = F.relu_(self.pre_bn0(self.pre_conv0(waveform[:, None, :])))  # (batch, 64, samples / 5)
        a = self.pre_block1(a, pool_size=4)  # (batch, 64, samples / 20)
        a = self.pre_block2(a, pool_size=4)  # (batch, 128, samples / 80)
        a = self.pre_block3(a, pool_size=4)  # (batch, 128, samples / 320)
        a = a.reshape(a.shape[0], -1, 32, a.shape[-1]).transpose(2, 3)  # (batch, 4, samples / 320, 32)
        return self.pre_block4(a, pool_size=(2, 1), pool_type="avg")  # (batch, 64, samples / 640, 32)

    def forward_features(self, waveform: torch.Tensor, mixup_lambda=None) -> torch.Tensor:
        a = self.wavegram(self.pad_short(waveform))  # (batch, 64, Tw, 32)
        x = self.logmel(waveform, mixup_lambda)  # (batch, 1, frames, mel); mixed in training
        if self.training and mixup_lambda is not None:
            a = do_mixup(a, mixup_lambda)
        x = self.conv_block1(x, pool_size=(2, 2), pool_type="avg")  # (batch, 64, frames / 2, 32)
        x = torch.cat((x, _match_time(a, x.shape[2])), dim=1)  # (batch, 128, frames / 2, 32)
        x = F.dropout(x, p=0.2, training=self.training)
        x = run_cnn14_blocks(self, x, start=2)  # (batch, 2048, frames / 32, 2)
        return torch.mean(x, dim=3)  # mean over mel: (batch, 2048, frames / 32)


def _match_time(a: torch.Tensor, frames: int) -> torch.Tensor:
    """Cut, or repeat the last frame, so a (batch, C, T, F) Wavegram has `frames` time steps.

    Branch-free on purpose (append `frames` copies of the last step, then cut): a Python `if` on the
    lengths would be frozen into an exported ONNX graph at the traced length, and clip lengths where
    the Wavegram is one step short (every odd number of log-mel frames) would then fail to run.
    """
    return torch.cat([a, a[:, :, -1:].expand(-1, -1, frames, -1)], dim=2)[:, :, :frames]
