"""The one log-mel front end shared by every model: STFT -> mel -> log -> batch norm over mel bins.

Modules are attached to the model itself (not a sub-module) because the official checkpoints name
them `spectrogram_extractor.*`, `logmel_extractor.*` and `bn0.*` at the top level.
"""
import torch
import torch.nn.functional as F
from torch import nn
from torchlibrosa.augmentation import SpecAugmentation
from torchlibrosa.stft import LogmelFilterBank, Spectrogram

from .config import AudioConfig

# Five 2x poolings in time: the CNNs need 32 frames to leave one output frame.
MIN_FRAMES = 32


def init_bn(bn: nn.BatchNorm2d) -> None:
    bn.bias.data.fill_(0.0)
    bn.weight.data.fill_(1.0)


def init_layer(layer: nn.Module) -> None:
    nn.init.xavier_uniform_(layer.weight)
    if getattr(layer, "bias", None) is not None:
        layer.bias.data.fill_(0.0)


class LogmelFrontend(nn.Module):
    """Base class: builds the front-end modules and turns waveforms into normalised log-mel images.

    Subclasses call `self.build_frontend(audio)` where the official state dict lists the front end
    (first for most models, after the Wavegram branch for Wavegram_Logmel_Cnn14), and
    `self.logmel(waveform)` in `forward`. In training mode SpecAugment is applied to a copy
    (torchlibrosa's masks write in place, and the caller's tensor must stay intact).
    """

    def build_frontend(self, audio: AudioConfig) -> None:
        self.audio = audio
        self.spectrogram_extractor = Spectrogram(
            n_fft=audio.window_size, hop_length=audio.hop_size, win_length=audio.window_size,
            window="hann", center=True, pad_mode="reflect", freeze_parameters=True)
        self.logmel_extractor = LogmelFilterBank(
            sr=audio.sample_rate, n_fft=audio.window_size, n_mels=audio.mel_bins, fmin=audio.fmin,
            fmax=audio.fmax, ref=1.0, amin=1e-10, top_db=None, freeze_parameters=True)
        self.spec_augmenter = SpecAugmentation(
            time_drop_width=64, time_stripes_num=2, freq_drop_width=8, freq_stripes_num=2)
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

    def logmel(self, waveform: torch.Tensor, mixup_lambda=None) -> torch.Tensor:
        """(batch, samples) -> (batch, 1, frames, mel_bins); short input padded, mixup in training."""
        # Always in fp32, even under autocast: STFT power of a loud clip overflows fp16 (max 65504)
        # and bf16 would blur the log-mel; the convolutions after it are where reduced precision pays.
        with torch.autocast(device_type=waveform.device.type, enabled=False):
            x = self.spectrogram_extractor(self.pad_short(waveform.float()))  # (batch, 1, frames, freq_bins)
            x = self.logmel_extractor(x)          # (batch, 1, frames, mel_bins)
            x = x.transpose(1, 3)                 # (batch, mel_bins, frames, 1): normalise per mel bin
            x = self.bn0(x)
            x = x.transpose(1, 3)                 # (batch, 1, frames, mel_bins)
        if self.training:
            x = self.spec_augmenter(x.clone())
            if mixup_lambda is not None:
                x = do_mixup(x, mixup_lambda)     # (batch // 2, 1, frames, mel_bins)
        return x

    def build_head(self, width: int, classes_num: int) -> None:
        """fc1 and the `fc_audioset` classifier, named as in the official checkpoints."""
        self.fc1 = nn.Linear(width, width, bias=True)
        self.fc_audioset = nn.Linear(width, classes_num, bias=True)
        init_layer(self.fc1)
        init_layer(self.fc_audioset)

    def clip_head(self, x: torch.Tensor) -> dict:
        """(batch, width, time) features -> clip scores and embedding, as every PANNs clip model ends."""
        x = clip_pool(x)                          # (batch, width)
        x = F.dropout(x, p=0.5, training=self.training)
        x = F.relu_(self.fc1(x))                  # (batch, width)
        embedding = F.dropout(x, p=0.5, training=self.training)
        clipwise = torch.sigmoid(self.fc_audioset(x))  # (batch, classes)
        return {"clipwise_output": clipwise, "embedding": embedding}


def do_mixup(x: torch.Tensor, mixup_lambda: torch.Tensor) -> torch.Tensor:
    """PANNs mixup: pairs (0,1), (2,3), ... mixed with weights lambda; (batch, ...) -> (batch // 2, ...)."""
    lam = mixup_lambda.to(x.dtype).view(-1, *([1] * (x.dim() - 1)))
    mixed = x * lam
    return mixed[0::2] + mixed[1::2]


def clip_pool(x: torch.Tensor) -> torch.Tensor:
    """(batch, channels, time) -> (batch, channels): max + mean over time, as PANNs does."""
    return torch.amax(x, dim=2) + torch.mean(x, dim=2)
