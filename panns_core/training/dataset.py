"""A torch Dataset over a packed HDF5 file, opened lazily once per data-loader worker.

Opening an HDF5 file costs far more than reading one clip from it, and an h5py handle must not
cross a fork (workers would share one file position and corrupt each other's reads). So the
handle is created on first use inside the process that reads, and is never pickled: each worker
opens the file once and keeps it. The targets (a few MB of booleans) are read up front because
the balanced sampler needs them all before any clip is loaded.
"""

from __future__ import annotations

import os

import h5py
import numpy as np
import torch
from torch.utils.data import Dataset

from panns_core.training.packfile import INT16_SCALE, PackError, inspect_pack, open_pack


class PackedDataset(Dataset):
    """Items are dicts: `waveform` float32 (samples,) in [-1, 1], `target` float32 (classes,), `index`."""

    def __init__(self, path):
        self.info = inspect_pack(path)  # fails early, in the main process, with a clear message
        with open_pack(path) as f:
            self.targets = np.asarray(f["target"][:], dtype=bool)
            self.audio_names = [n.decode() for n in f["audio_name"][:]]
        self._file: h5py.File | None = None
        self._pid: int | None = None

    def __len__(self) -> int:
        return self.info.clips

    def _handle(self) -> h5py.File:
        if self._file is None or self._pid != os.getpid():  # a forked worker must not reuse its parent's handle
            self._file = open_pack(self.info.path)
            self._pid = os.getpid()
        return self._file

    def __getitem__(self, index: int) -> dict:
        try:
            wave = self._handle()["waveform"][index]
        except OSError as exc:  # a file truncated after it was opened fails only when the lost rows are read
            raise PackError(f"{self.info.path}: cannot read clip {index} ({exc}); the file is damaged") from None
        return {
            "waveform": torch.from_numpy(wave.astype(np.float32) / INT16_SCALE),
            "target": torch.from_numpy(self.targets[index].astype(np.float32)),
            "index": index,
        }

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_file"] = state["_pid"] = None  # each process opens its own handle
        return state

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
