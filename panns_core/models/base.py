"""`PannsModel`: the contract every architecture keeps, so callers never reach into a model's insides.

A model knows what it is (`arch_name`, `classes_num`, `audio`) from the moment it is built, so
`Tagger(Cnn14(classes_num=65))` works without the registry. Its forward pass is split like timm's:
`forward_features` (waveform -> pooled-over-mel features, shared by every head) and `forward_head`
(features -> clip scores, embedding and, for frame models, frame scores); `forward` is just the two.
`reset_head` re-targets the classifier (fine-tuning on a subset keeps the trained rows), and
`display_log_mel` gives the log-mel image the demo shows.

The front-end modules are attached to the model itself (not a sub-module) because the official
checkpoints name them `spectrogram_extractor.*`, `logmel_extractor.*` and `bn0.*` at the top level;
each architecture calls `build_frontend` where the official state dict lists them.
"""

from __future__ import annotations

from typing import Optional, Sequence, Union

import torch
import torch.nn.functional as F
from torch import nn
from torchlibrosa.augmentation import SpecAugmentation
from torchlibrosa.stft import LogmelFilterBank, Spectrogram

from panns_core.config import AudioConfig
from panns_core.errors import ConfigError
from panns_core.labels.sets import AUDIOSET_CLASSES, LabelSet, label_set_for, view
from panns_core.models.blocks import MIN_FRAMES, clip_pool, do_mixup, init_bn, init_layer


class PannsModel(nn.Module):
    """Base class of every architecture: identity, log-mel front end, PANNs head and the forward split."""

    # Set on the class by `register_model`; an unregistered subclass is known by its class name.
    arch_name: str = "PannsModel"
    embedding_size: int = 0

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "arch_name" not in cls.__dict__:
            cls.arch_name = cls.__name__

    def __init__(self, classes_num: int = AUDIOSET_CLASSES, audio: Optional[AudioConfig] = None):
        super().__init__()
        self.classes_num = classes_num
        self.audio = audio or AudioConfig()

    # ---------------------------------------------------------------- front end
    def build_frontend(self, audio: Optional[AudioConfig] = None) -> None:
        """STFT -> mel -> log -> batch norm over mel bins, and SpecAugment for training."""
        audio = self.audio = audio or self.audio
        self.spectrogram_extractor = Spectrogram(
            n_fft=audio.window_size,
            hop_length=audio.hop_size,
            win_length=audio.window_size,
            window="hann",
            center=True,
            pad_mode="reflect",
            freeze_parameters=True,
        )
        self.logmel_extractor = LogmelFilterBank(
            sr=audio.sample_rate,
            n_fft=audio.window_size,
            n_mels=audio.mel_bins,
            fmin=audio.fmin,
            fmax=audio.fmax,
            ref=1.0,
            amin=1e-10,
            top_db=None,
            freeze_parameters=True,
        )
        self.spec_augmenter = SpecAugmentation(
            time_drop_width=64, time_stripes_num=2, freq_drop_width=8, freq_stripes_num=2
        )
        self.bn0 = nn.BatchNorm2d(audio.mel_bins)
        init_bn(self.bn0)

    @property
    def min_samples(self) -> int:
        """Shortest waveform that gives MIN_FRAMES STFT frames (frames = 1 + samples // hop)."""
        return (MIN_FRAMES - 1) * self.audio.hop_size

    def pad_short(self, waveform: torch.Tensor) -> torch.Tensor:
        """Zero-pad at the end so that even a 0.1 s clip leaves one frame after all the pooling."""
        missing = self.min_samples - waveform.shape[-1]
        return F.pad(waveform, (0, missing)) if missing > 0 else waveform

    def _raw_log_mel(self, waveform: torch.Tensor) -> torch.Tensor:
        # (batch, samples) -> (batch, 1, frames, mel_bins), before the normalisation
        return self.logmel_extractor(self.spectrogram_extractor(self.pad_short(waveform)))

    def logmel(self, waveform: torch.Tensor, mixup_lambda=None) -> torch.Tensor:
        """(batch, samples) -> (batch, 1, frames, mel_bins); short input padded, mixup in training.

        In training mode SpecAugment works on a copy (torchlibrosa's masks write in place, and the
        caller's tensor must stay intact).
        """
        # Always in fp32, even under autocast: STFT power of a loud clip overflows fp16 (max 65504)
        # and bf16 would blur the log-mel; the convolutions after it are where reduced precision pays.
        with torch.autocast(device_type=waveform.device.type, enabled=False):
            x = self._raw_log_mel(waveform.float())  # (batch, 1, frames, mel_bins)
            x = x.transpose(1, 3)  # (batch, mel_bins, frames, 1): normalise per mel bin
            x = self.bn0(x)
            x = x.transpose(1, 3)  # (batch, 1, frames, mel_bins)
        if self.training:
            x = self.spec_augmenter(x.clone())
            if mixup_lambda is not None:
                x = do_mixup(x, mixup_lambda)  # (batch // 2, 1, frames, mel_bins)
        return x

    @torch.no_grad()
    def display_log_mel(self, waveform: torch.Tensor) -> torch.Tensor:
        """(samples,) or (batch, samples) at `audio.sample_rate` -> (frames, mel_bins) or (batch, frames, mel_bins):
        the log-mel in dB before the model's normalisation, for showing people what the model hears."""
        x = waveform[None] if waveform.dim() == 1 else waveform
        with torch.autocast(device_type=x.device.type, enabled=False):
            spec = self._raw_log_mel(x.float())[:, 0]  # (batch, frames, mel_bins)
        return spec[0] if waveform.dim() == 1 else spec

    # ---------------------------------------------------------------- head
    def build_head(self, width: int, classes_num: Optional[int] = None) -> None:
        """fc1 and the `fc_audioset` classifier, named as in the official checkpoints."""
        self.fc1 = nn.Linear(width, width, bias=True)
        self.fc_audioset = nn.Linear(width, classes_num or self.classes_num, bias=True)
        init_layer(self.fc1)
        init_layer(self.fc_audioset)
        self.classes_num = self.fc_audioset.out_features

    def clip_head(self, x: torch.Tensor) -> dict:
        """(batch, width, time) features -> clip scores and embedding, as every PANNs clip model ends."""
        x = clip_pool(x)  # (batch, width)
        x = F.dropout(x, p=0.5, training=self.training)
        x = F.relu_(self.fc1(x))  # (batch, width)
        embedding = F.dropout(x, p=0.5, training=self.training)
        clipwise = torch.sigmoid(self.fc_audioset(x))  # (batch, classes)
        return {"clipwise_output": clipwise, "embedding": embedding}

    @property
    def labels(self) -> LabelSet:
        """What the head predicts when its width is that of a known set (a checkpoint's labels say otherwise)."""
        return label_set_for(self.classes_num)

    @torch.no_grad()
    def reset_head(self, target: Union[LabelSet, Sequence[int], int], current: Optional[LabelSet] = None) -> PannsModel:
        """Re-target the classifier `fc_audioset`.

        - a LabelSet: keep the trained rows of its classes (e.g. a general model cut to the animal set
          for fine-tuning); `current` says what the head predicts now (default: the known set of its width);
        - a sequence of output indices: keep those rows, in that order;
        - an int: a freshly initialised head of that many classes (nothing to keep).
        """
        head = self.fc_audioset
        if isinstance(target, int):
            new = nn.Linear(head.in_features, target, bias=True).to(head.weight.device, head.weight.dtype)
            init_layer(new)
        else:
            if isinstance(target, LabelSet):
                current = current or self.labels
                rows = view(current, target)
                rows = list(range(len(current))) if rows is None else rows
            else:
                rows = [int(i) for i in target]
            if not rows or not all(0 <= i < head.out_features for i in rows):
                raise ConfigError(f"head rows {rows[:5]}... are not all outputs of this {head.out_features}-class head")
            index = torch.tensor(rows, device=head.weight.device)
            new = nn.Linear(head.in_features, len(rows), bias=True).to(head.weight.device, head.weight.dtype)
            new.weight.copy_(head.weight[index])
            new.bias.copy_(head.bias[index])
        new.train(head.training)
        self.fc_audioset = new
        self.classes_num = new.out_features
        return self

    # ---------------------------------------------------------------- forward
    def forward_features(self, waveform: torch.Tensor, mixup_lambda=None) -> torch.Tensor:
        """(batch, samples) -> (batch, width, time) features, pooled over mel; mixed in training."""
        raise NotImplementedError

    def forward_head(self, features: torch.Tensor, frames_num: Optional[int] = None) -> dict:
        """(batch, width, time) -> {'clipwise_output', 'embedding'[, 'framewise_output']}.

        `frames_num` (STFT frames of the input) is only used by heads with frame-wise output.
        """
        return self.clip_head(features)

    def frames_of(self, waveform: torch.Tensor) -> int:
        """STFT frames the front end makes of this waveform (after padding a short one)."""
        return 1 + self.pad_short(waveform).shape[-1] // self.audio.hop_size

    def forward(self, waveform: torch.Tensor, mixup_lambda=None) -> dict:
        # waveform: (batch, samples) -> clipwise (batch, classes), embedding (batch, width)
        return self.forward_head(self.forward_features(waveform, mixup_lambda), self.frames_of(waveform))
