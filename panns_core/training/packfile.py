"""The packed-data file: HDF5 in the PANNs layout, written resumably and checked on open.

Layout (what the official PANNs scripts read and write):
    audio_name  (N,)          bytes   e.g. b"Y--PJHxphWEs.wav"
    waveform    (N, 320000)   int16   10 s at 32 kHz, zero-padded or cut
    target      (N, classes)  bool    columns in the order of the file's label set
Our additions are attributes only, so official readers are unaffected:
    label_set ("animal" | "audioset"), mids (one per target column), sample_rate,
    count (rows written for certain) and complete (False while a pack is in progress).

Packing tens of thousands of clips takes hours; a killed pack must resume rather than restart,
and must never leave a file that trains on zeros or half-written rows. So rows past `count`
are discarded on resume, and a reader refuses a file whose `complete` flag is False.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from panns_core.config import AudioConfig
from panns_core.errors import PannsError
from panns_core.labels.sets import label_set_for

CLIP_SECONDS = 10
INT16_SCALE = 32767.0  # PANNs stores float audio as round(x * 32767) and divides by the same
_GROW = 256  # rows added to the datasets at a time while writing


class PackError(PannsError, ValueError):
    """A packed HDF5 file is missing, truncated, unfinished or not in the PANNs layout."""


def _known_set_name(classes: int):
    """A file written before packs recorded their label set: name it by its width, if that is a known set."""
    try:
        return label_set_for(classes).name
    except KeyError:
        return None


@dataclass(frozen=True)
class PackInfo:
    path: Path
    clips: int
    classes: int
    clip_samples: int
    sample_rate: int
    label_set: str | None  # None for a file without our attributes and an unknown class count
    mids: list | None


def open_pack(path, mode="r") -> h5py.File:
    """Open with h5py, turning "not HDF5 / truncated" into a PackError that says what to do."""
    path = Path(path)
    if mode == "r" and not path.is_file():
        raise PackError(f"{path}: no such packed file (run `python -m train pack` first)")
    try:
        return h5py.File(path, mode)
    except OSError as exc:
        raise PackError(
            f"{path}: not a readable HDF5 file, probably truncated or corrupt ({exc}); delete it and pack again"
        ) from None


def inspect_pack(path) -> PackInfo:
    """Check the layout and return what a reader needs; raise PackError with the reason otherwise."""
    with open_pack(path) as f:
        return _check(f, Path(path))


def _check(f: h5py.File, path: Path) -> PackInfo:
    missing = [k for k in ("audio_name", "waveform", "target") if k not in f]
    if missing:
        raise PackError(f"{path}: not in the PANNs layout, lacks {', '.join(missing)}")
    wave, target, names = f["waveform"], f["target"], f["audio_name"]
    if wave.ndim != 2 or wave.dtype != np.int16:
        raise PackError(f"{path}: waveform must be int16 (clips, samples), is {wave.dtype} {wave.shape}")
    if target.ndim != 2:
        raise PackError(f"{path}: target must be (clips, classes), is {target.shape}")
    if not f.attrs.get("complete", True):
        raise PackError(f"{path}: packing did not finish (run the pack command again to resume it)")
    if not len(names) == len(wave) == len(target):
        raise PackError(
            f"{path}: audio_name, waveform and target disagree in length ({len(names)}, {len(wave)}, {len(target)})"
        )
    mids = json.loads(f.attrs["mids"]) if "mids" in f.attrs else None
    label_set = f.attrs.get("label_set") or _known_set_name(target.shape[1])
    if mids is not None and len(mids) != target.shape[1]:
        raise PackError(f"{path}: {len(mids)} class ids for {target.shape[1]} target columns")
    return PackInfo(
        path=path,
        clips=len(wave),
        classes=target.shape[1],
        clip_samples=wave.shape[1],
        sample_rate=int(f.attrs.get("sample_rate", AudioConfig.sample_rate)),
        label_set=label_set,
        mids=mids,
    )


class PackWriter:
    """Append clips to a packed file, creating it or resuming an unfinished one.

    Use as a context manager; leaving the block normally marks the file complete, an exception
    (or a kill) leaves it resumable. Rows are only counted once they are flushed with the count.
    """

    def __init__(
        self, path, label_set: str, mids: list, sample_rate: int = AudioConfig.sample_rate, flush_every: int = 32
    ):
        self.path = Path(path)
        self.flush_every = flush_every
        self.clip_samples = sample_rate * CLIP_SECONDS
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fresh = not self.path.exists()
        self.f = open_pack(self.path, "w" if fresh else "r+")
        if fresh:
            self._create(label_set, mids, sample_rate)
        else:
            self._reopen(label_set, mids, sample_rate)
        self.names = {n.decode() for n in self.f["audio_name"][: self.count]}

    def _create(self, label_set, mids, sample_rate):
        f = self.f
        f.create_dataset("audio_name", (0,), maxshape=(None,), dtype=h5py.string_dtype("utf-8"))  # read as bytes
        f.create_dataset(
            "waveform",
            (0, self.clip_samples),
            maxshape=(None, self.clip_samples),
            dtype=np.int16,
            chunks=(1, self.clip_samples),
        )
        f.create_dataset("target", (0, len(mids)), maxshape=(None, len(mids)), dtype=bool)
        f.attrs.update(
            {
                "label_set": label_set,
                "mids": json.dumps(list(mids)),
                "sample_rate": sample_rate,
                "count": 0,
                "complete": False,
            }
        )
        self.count = 0

    def _reopen(self, label_set, mids, sample_rate):
        f = self.f
        if "count" not in f.attrs:
            f.close()
            raise PackError(f"{self.path}: exists and was not written by this packer; choose another output")
        if (
            f.attrs["label_set"] != label_set
            or json.loads(f.attrs["mids"]) != list(mids)
            or f.attrs["sample_rate"] != sample_rate
        ):
            f.close()
            raise PackError(f"{self.path}: exists with another label set or sample rate; choose another output")
        self.count = int(f.attrs["count"])
        f.attrs["complete"] = False
        for key in ("audio_name", "waveform", "target"):  # drop rows a killed run wrote but never counted
            f[key].resize(self.count, axis=0)

    def __contains__(self, name: str) -> bool:
        return name in self.names

    def append(self, name: str, waveform: np.ndarray, target: np.ndarray) -> None:
        """Add one clip: float audio in [-1, 1] at the file's rate, any length (cut or zero-padded to 10 s)."""
        if name in self.names:
            raise PackError(f"{name} is already packed")
        waveform = np.asarray(waveform, dtype=np.float32)
        if waveform.ndim != 1 or not waveform.size or not np.isfinite(waveform).all():
            raise PackError(f"{name}: waveform must be a non-empty finite 1-D array")
        row = np.zeros(self.clip_samples, dtype=np.int16)
        clip = waveform[: self.clip_samples]
        row[: len(clip)] = np.round(np.clip(clip, -1.0, 1.0) * INT16_SCALE)
        f = self.f
        if self.count >= len(f["waveform"]):
            for key in ("audio_name", "waveform", "target"):
                f[key].resize(self.count + _GROW, axis=0)
        f["audio_name"][self.count] = name.encode()
        f["waveform"][self.count] = row
        f["target"][self.count] = target
        self.count += 1
        self.names.add(name)
        if self.count % self.flush_every == 0:
            self._commit()

    def _commit(self) -> None:
        self.f.attrs["count"] = self.count
        self.f.flush()

    def close(self, complete: bool) -> None:
        if not self.f.id.valid:
            return
        if complete:
            for key in ("audio_name", "waveform", "target"):
                self.f[key].resize(self.count, axis=0)
        self.f.attrs["complete"] = complete
        self._commit()
        self.f.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(complete=exc_type is None)
