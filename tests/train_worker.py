"""Runs the real training loop (`panns_core.training.fit`) for the DDP and AMP tests, in this process or as
one rank of a gloo process group (torchrun's environment variables set by the caller).

    python tests/train_worker.py CONFIG.json   # CONFIG: FitConfig fields as JSON

The model is registered here so that every rank can build it. It has no dropout, SpecAugment or batch
norm: its gradient on a batch is the mean of its gradients on the halves, so one process on the whole
batch and two processes on half each must end with the same weights. (PANNs models have batch norm,
whose per-rank statistics make DDP differ from one process by design.)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from panns_core import AudioConfig, list_models, register_model
from panns_core.models.base import PannsModel

DETERMINISTIC = "DeterministicTrainTest"

if DETERMINISTIC not in list_models():

    @register_model(DETERMINISTIC)
    class DeterministicTagger(PannsModel):
        """Log-mel averaged over time -> tanh layer -> sigmoid head; the same answer in train and eval."""

        embedding_size = 16

        def __init__(self, classes_num: int = 527, audio: AudioConfig = AudioConfig()):
            super().__init__()
            self.build_frontend(audio)
            del self.bn0  # unused here, and DDP requires every parameter to get a gradient
            self.fc1 = nn.Linear(audio.mel_bins, self.embedding_size)
            self.fc_audioset = nn.Linear(self.embedding_size, classes_num)

        def forward(self, waveform, mixup_lambda=None):
            x = self.logmel_extractor(self.spectrogram_extractor(waveform.float()))  # (batch, 1, frames, mels)
            x = x.mean(dim=(1, 2)) / 20  # (batch, mels)
            embedding = torch.tanh(self.fc1(x))  # (batch, 16)
            return {"clipwise_output": torch.sigmoid(self.fc_audioset(embedding)), "embedding": embedding}


def main(config_path: str) -> None:
    from panns_core.training.config import FitConfig
    from panns_core.training.loop import fit

    fit(FitConfig(**json.loads(Path(config_path).read_text())))


if __name__ == "__main__":
    main(sys.argv[1])
