"""CNN14 and its decision-level variant (frame-wise output for sound-event timelines)."""

from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F

from panns_core.config import AudioConfig
from panns_core.labels.sets import AUDIOSET_CLASSES
from panns_core.models.base import PannsModel
from panns_core.models.blocks import build_cnn14_blocks, run_cnn14_blocks
from panns_core.models.registry import register_model


@register_model("Cnn14")
class Cnn14(PannsModel):
    """Six double-conv blocks over the log-mel image, then max+mean pooling over time (Kong et al. 2020)."""

    embedding_size = 2048

    def __init__(self, classes_num: int = AUDIOSET_CLASSES, audio: Optional[AudioConfig] = None):
        super().__init__(classes_num, audio)
        self.build_frontend()
        build_cnn14_blocks(self)
        self.build_head(2048)

    def forward_features(self, waveform: torch.Tensor, mixup_lambda=None) -> torch.Tensor:
        # waveform: (batch, samples)
        x = self.logmel(waveform, mixup_lambda)  # (batch, 1, frames, mel)
        x = run_cnn14_blocks(self, x)  # (batch, 2048, frames / 32, mel / 32)
        return torch.mean(x, dim=3)  # (batch, 2048, frames / 32)


@register_model("Cnn14_DecisionLevelMax")
class Cnn14DecisionLevelMax(Cnn14):
    """CNN14 that classifies every ~0.32 s segment and takes the max: gives *when* a sound happens."""

    # Five 2x poolings in time: one segment per 32 STFT frames.
    interpolate_ratio = 32

    def forward_head(self, features: torch.Tensor, frames_num: Optional[int] = None) -> dict:
        x = features  # (batch, 2048, segments)
        x = F.max_pool1d(x, kernel_size=3, stride=1, padding=1) + F.avg_pool1d(x, kernel_size=3, stride=1, padding=1)
        x = F.dropout(x, p=0.5, training=self.training)
        x = x.transpose(1, 2)  # (batch, segments, 2048)
        x = F.relu_(self.fc1(x))
        x = F.dropout(x, p=0.5, training=self.training)
        segmentwise = torch.sigmoid(self.fc_audioset(x))  # (batch, segments, classes)
        clipwise = torch.amax(segmentwise, dim=1)  # (batch, classes)
        embedding = torch.amax(x, dim=1)  # (batch, 2048)
        framewise = segmentwise.repeat_interleave(self.interpolate_ratio, dim=1)  # (batch, segments*32, classes)
        if frames_num is not None:
            framewise = _fit_frames(framewise, frames_num)  # (batch, frames, classes)
        return {"clipwise_output": clipwise, "embedding": embedding, "framewise_output": framewise}


def _fit_frames(framewise: torch.Tensor, frames_num: int) -> torch.Tensor:
    """Repeat the last segment's scores to cover the frames that pooling dropped (or cut extra ones)."""
    missing = frames_num - framewise.shape[1]
    if missing <= 0:
        return framewise[:, :frames_num]
    return torch.cat([framewise, framewise[:, -1:].expand(-1, missing, -1)], dim=1)
