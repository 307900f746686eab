"""Reading and writing checkpoints: official PANNs files, bare state dicts, and our training checkpoints.

Everything is read with `torch.load(weights_only=True)`: no arbitrary object from the internet is
ever unpickled. Official files may carry training state with numpy arrays beside the weights; for
those alone a retry allow-lists numpy's array reconstruction and nothing else. Loading returns a
`LoadedCheckpoint`: the model and everything known about it (architecture, labels, audio settings).
"""

from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import numpy as np
import torch
from torch import nn

from panns_core.config import AudioConfig
from panns_core.errors import CheckpointError
from panns_core.labels.sets import LabelSet, LabelsLike, from_classes, get_label_set, label_set_for, labels_for_head
from panns_core.models.registry import create_model, list_models
from panns_core.weights.catalogue import PretrainedWeights
from panns_core.weights.sources import SourceLike, resolve_source

# Key that only one architecture family has; Cnn14 and Cnn14_DecisionLevelMax share a layout.
_SIGNATURES = [
    ("pre_conv0.weight", "Wavegram_Logmel_Cnn14"),
    ("resnet.layer1.0.conv1.weight", "ResNet38"),
    ("features.0.0.weight", "MobileNetV1"),
    ("conv_block6.conv1.weight", "Cnn14"),
]

# torch.save writes a zip archive; files from before PyTorch 1.6 are a bare pickle (protocol byte 0x80).
_CHECKPOINT_MAGIC = (b"PK\x03\x04", b"\x80")

_SAFETY_ADVICE = (
    "Use an official PANNs checkpoint (python -m panns_core list) or one written by this package "
    "(python -m train fit); a file from elsewhere can be re-saved as a plain state dict of tensors."
)


def _numpy_allow_list() -> list:
    """The globals numpy needs to rebuild arrays and scalars, under the names old and new numpy pickle them."""
    from numpy._core import multiarray

    allowed = [
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
        (multiarray._reconstruct, "numpy.core.multiarray._reconstruct"),
        (multiarray.scalar, "numpy.core.multiarray.scalar"),
    ]
    allowed += [type(np.dtype(t)) for t in ("f4", "f8", "i4", "i8", "u1", "b1", "f2", "u4", "u8", "i2")]
    return allowed


def _unpickler_reason(error: Exception) -> str:
    """torch's own diagnosis without its advice: torch suggests retrying with the safety switched off,
    which this package never does and must never tell its users to do."""
    text = str(error)
    if "WeightsUnpickler error:" in text:
        text = text.split("WeightsUnpickler error:", 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    keep = [
        line
        for line in lines
        if "weights_only" not in line
        and "torch.load" not in line
        and not line.startswith(("Please", "Check the documentation", "(1)", "(2)"))
    ]
    return (keep[0] if keep else "the file's contents are not plain tensors").rstrip(".")


def read_checkpoint(path, map_location="cpu") -> dict:
    """Load a checkpoint file safely; a clear CheckpointError, naming the file, for anything that is not one."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(4)
    if not head.startswith(_CHECKPOINT_MAGIC):
        kind = (
            "an empty file"
            if not head
            else "text"
            if head.isascii() and head.decode("ascii").isprintable()
            else f"bytes {head!r}"
        )
        raise CheckpointError(
            f"{path} ({size:,} bytes) is not a readable PyTorch checkpoint: it holds {kind}, "
            "not a zip archive or pickle written by torch.save"
        )
    try:
        try:
            obj = torch.load(path, map_location=map_location, weights_only=True)
        except pickle.UnpicklingError as e:
            if "numpy" not in str(e):
                raise
            with torch.serialization.safe_globals(_numpy_allow_list()):
                obj = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        if "Unsupported global" in str(e):
            unsafe = str(e).split("Unsupported global:", 1)[1].split(" was not", 1)[0].strip()
            raise CheckpointError(
                f"{path} was refused for safety: it holds objects that are not safe to load "
                f"({unsafe}), and loading them could run code. Only tensors, plain containers "
                f"and numpy arrays are accepted. {_SAFETY_ADVICE}"
            ) from None
        raise CheckpointError(
            f"{path} ({size:,} bytes) is not a readable PyTorch checkpoint and was refused for "
            f"safety: {_unpickler_reason(e)}. {_SAFETY_ADVICE}"
        ) from None
    except Exception as e:
        raise CheckpointError(
            f"{path} ({size:,} bytes) is not a readable PyTorch checkpoint; "
            f"it may be truncated or corrupt: {type(e).__name__}: {e}"
        ) from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path} holds a {type(obj).__name__}, not a checkpoint dict")
    return obj


def split_checkpoint(obj: dict, source="checkpoint") -> tuple[dict, dict]:
    """(state_dict, config) from an official file ({'model': ...}), ours ({'model', 'config'}) or a bare dict."""
    state = obj.get("model", obj)
    if not isinstance(state, dict) or not state or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f"{source} has no state dict of tensors (expected a 'model' entry or a bare state dict)")
    config = obj.get("config") if isinstance(obj.get("config"), dict) else {}
    return state, config


def infer_arch(state: dict, config: dict, filename: str = "") -> Optional[str]:
    """Architecture from the checkpoint's config, else its file name, else its layout."""
    if config.get("arch"):
        return config["arch"]
    for name in sorted(list_models(), key=len, reverse=True):
        if Path(filename).name.startswith(name):
            return name
    for key, arch in _SIGNATURES:
        if key in state:
            return arch
    return None


def check_state_dict(model: nn.Module, state: dict, source="checkpoint") -> None:
    """Name the missing/unexpected keys and shape mismatches before torch would fail."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    shapes = [
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in expected.items()
        if k in state and state[k].shape != v.shape
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing weights (e.g. {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected weights (e.g. {', '.join(unexpected[:3])})")
    if shapes:
        problems.append(f"{len(shapes)} shape mismatches (e.g. {'; '.join(shapes[:3])})")
    if problems:
        raise CheckpointError(
            f"{source} does not fit {getattr(model, 'arch_name', type(model).__name__)}: " + "; ".join(problems)
        )


@dataclass(frozen=True, eq=False)
class LoadedCheckpoint:
    """A loaded checkpoint: the model (in eval mode) and everything known about it."""

    model: nn.Module
    arch: str
    head_labels: LabelSet  # what the head's outputs mean, in order
    audio: AudioConfig
    path: Path  # the local file read
    weights: Optional[PretrainedWeights] = None  # the released entry, when it is one
    iteration: Optional[int] = None  # training iterations, when the file records them
    config: dict = field(default_factory=dict)  # the file's own config (e.g. the fit settings)

    @property
    def classes_num(self) -> int:
        return len(self.head_labels)

    @property
    def label_set(self) -> str:
        return self.head_labels.name


def _labels_of(
    config: dict, weights: Optional[PretrainedWeights], head: int, labels: LabelsLike, path: Path
) -> LabelSet:
    """Labels given by the caller, else the file's config, else the released entry, else by head width."""
    if labels is None:
        if isinstance(config.get("labels"), dict):
            saved = config["labels"]
            labels = from_classes(config.get("label_set") or path.stem, saved.get("mids", []), saved.get("names"))
        elif config.get("label_set"):
            try:
                labels = get_label_set(config["label_set"])
            except KeyError:
                labels = None  # a name we do not know: fall back on the head's width
        elif weights is not None:
            labels = weights.labels
    return labels_for_head(head, labels, source=str(path))


def load_checkpoint(
    source: SourceLike,
    arch: Optional[str] = None,
    classes_num: Optional[int] = None,
    map_location="cpu",
    progress: bool = True,
    head_labels: LabelsLike = None,
) -> LoadedCheckpoint:
    """Build the model a checkpoint describes and load it strictly.

    `source` is anything `resolve_source` takes: a file path, a released name (fetched into the cache),
    a Hugging Face Hub repo id `owner/repo` (its `model.pth`) or hf://owner/repo/file.pth.
    `arch` names the architecture when neither the file's config nor its name says it. `head_labels` (a
    label set, its name, or a CSV/JSON labels file) names the outputs of a head that matches no known
    set; without it such a head gets `class_0..N-1` and a warning.
    """
    resolved = resolve_source(source, progress=progress)
    path, weights = resolved.path, resolved.weights
    obj = read_checkpoint(path, map_location)
    state, config = split_checkpoint(obj, str(path))
    found = weights.arch if weights is not None else infer_arch(state, config, path.name)
    arch = arch or found
    if arch is None:
        raise CheckpointError(f"cannot tell the architecture of {path}; pass arch= one of {', '.join(list_models())}")
    if arch not in list_models():
        raise CheckpointError(f"unknown architecture {arch!r} for {path}; known: {', '.join(list_models())}")
    if "fc_audioset.weight" not in state:
        raise CheckpointError(f"{path} has no fc_audioset head: not a PANNs checkpoint")
    head = int(state["fc_audioset.weight"].shape[0])
    if classes_num is not None and classes_num != head:
        raise CheckpointError(f"{path} predicts {head} classes, not the {classes_num} asked for")
    label_set = _labels_of(config, weights, head, head_labels, path)
    audio = (
        AudioConfig.from_dict(config.get("audio", {}))
        if config.get("audio")
        else (weights.audio if weights else AudioConfig())
    )
    model = create_model(arch, classes_num=head, **audio.to_dict())
    check_state_dict(model, state, str(path))
    model.load_state_dict(state, strict=True)
    model.eval()
    return LoadedCheckpoint(
        model=model,
        arch=arch,
        head_labels=label_set,
        audio=audio,
        path=path,
        weights=weights,
        iteration=obj.get("iteration"),
        config=config,
    )


def model_config(model: nn.Module, label_set: LabelsLike = None) -> dict:
    """What a checkpoint must carry to be rebuilt without guessing: architecture, labels and audio settings.

    Labels of a known set are stored by name; any other set is stored in full (ids and names).
    """
    labels = get_label_set(label_set) if isinstance(label_set, (str, LabelSet)) else label_set_for(model.classes_num)
    config = {
        "arch": model.arch_name,
        "classes_num": model.classes_num,
        "label_set": labels.name,
        "audio": model.audio.to_dict(),
    }
    try:
        get_label_set(labels.name)
    except KeyError:
        config["labels"] = {"mids": list(labels.mids), "names": list(labels.names)}
    return config


def atomic_save(obj, path) -> Path:
    """torch.save to a temporary file in the same folder, then rename: a crash never leaves half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())  # the bytes are on disk before the new name points at them
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would hide checkpoints from other users
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def save_checkpoint(path, model: nn.Module, label_set: LabelsLike = None, **extra) -> Path:
    """Write {'model', 'config', **extra} atomically; `extra` may hold optimiser/sampler state and iteration."""
    config = {**model_config(model, label_set), **extra.pop("config", {})}
    return atomic_save({"model": model.state_dict(), "config": config, **extra}, path)
