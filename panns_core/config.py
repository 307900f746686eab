"""Audio settings shared by every PANNs model and checkpoint."""

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class AudioConfig:
    """Front-end settings of the official PANNs checkpoints (32 kHz, 1024/320 STFT, 64 mels, 50-14000 Hz).

    A checkpoint is only valid with the settings it was trained with, so they travel with it.
    """

    sample_rate: int = 32000
    window_size: int = 1024
    hop_size: int = 320
    mel_bins: int = 64
    fmin: int = 50
    fmax: int = 14000

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "AudioConfig":
        return cls(**{k: values[k] for k in cls.__dataclass_fields__ if k in values})
