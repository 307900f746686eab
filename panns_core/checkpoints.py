"""Reading and writing checkpoints: official PANNs files, bare state dicts, and our training checkpoints.

Everything is read with `torch.load(weights_only=True)`: no arbitrary object from the internet is
ever unpickled. Official files may carry training state with numpy arrays beside the weights; for
those alone a retry allow-lists numpy's array reconstruction and nothing else.
"""
import os
import pickle
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import torch
from torch import nn

from .config import AudioConfig
from .download import HUB_PREFIX, cache_dir, download, hub_file  # noqa: F401  (cache_dir re-exported)
from .errors import CheckpointError
from .labels import ANIMAL_INDICES, label_set_for
from .models import create_model, list_models
from .weights import PRETRAINED, PretrainedWeights, get_weights  # noqa: F401

# A Hub model repo holding one of our checkpoints under this name can be given as just "owner/repo".
HUB_DEFAULT_FILE = "model.pth"
_HUB_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")

# Key that only one architecture family has; Cnn14 and Cnn14_DecisionLevelMax share a layout.
_SIGNATURES = [("pre_conv0.weight", "Wavegram_Logmel_Cnn14"), ("resnet.layer1.0.conv1.weight", "ResNet38"),
               ("features.0.0.weight", "MobileNetV1"), ("conv_block6.conv1.weight", "Cnn14")]


def _numpy_allow_list() -> list:
    """The globals numpy needs to rebuild arrays and scalars, under the names old and new numpy pickle them."""
    from numpy._core import multiarray

    allowed = [np.ndarray, np.dtype, multiarray._reconstruct, multiarray.scalar,
               (multiarray._reconstruct, "numpy.core.multiarray._reconstruct"),
               (multiarray.scalar, "numpy.core.multiarray.scalar")]
    allowed += [type(np.dtype(t)) for t in ("f4", "f8", "i4", "i8", "u1", "b1", "f2", "u4", "u8", "i2")]
    return allowed


def read_checkpoint(path, map_location="cpu") -> dict:
    """Load a checkpoint file safely; clear CheckpointError for missing, truncated or foreign files."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
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
            raise CheckpointError(f"{path} holds objects that are not safe to load ({unsafe}); "
                                  "only tensors, plain containers and numpy arrays are accepted") from None
        size = path.stat().st_size
        raise CheckpointError(f"{path} ({size:,} bytes) is not a readable PyTorch checkpoint: {e}") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as e:
        size = path.stat().st_size
        raise CheckpointError(f"{path} ({size:,} bytes) is not a readable PyTorch checkpoint; "
                              f"it may be truncated or corrupt: {e}") from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{path} holds a {type(obj).__name__}, not a checkpoint dict")
    return obj


def split_checkpoint(obj: dict, source="checkpoint") -> Tuple[dict, dict]:
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
    shapes = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(v.shape)}"
              for k, v in expected.items() if k in state and state[k].shape != v.shape]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing weights (e.g. {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected weights (e.g. {', '.join(unexpected[:3])})")
    if shapes:
        problems.append(f"{len(shapes)} shape mismatches (e.g. {'; '.join(shapes[:3])})")
    if problems:
        raise CheckpointError(f"{source} does not fit {getattr(model, 'arch_name', type(model).__name__)}: "
                              + "; ".join(problems))


def load_checkpoint(source, arch: Optional[str] = None, classes_num: Optional[int] = None,
                    map_location="cpu", progress: bool = True) -> Tuple[nn.Module, dict]:
    """Build the model a checkpoint describes and load it strictly.

    `source` is a file path, the name of a released checkpoint (fetched into the cache), a Hugging
    Face Hub repo id `owner/repo` (its `model.pth`), or hf://owner/repo/file.pth.
    `arch` names the architecture when neither the file's config nor its name says it.
    Returns (model in eval mode, info) where info holds arch, classes_num, label_set, audio, path,
    iteration and the released-weights entry if any.
    """
    weights = None
    path = Path(source)
    if isinstance(source, str) and source.startswith(HUB_PREFIX):
        path = hub_file(source)
    elif not path.exists() and isinstance(source, str):
        try:
            weights = get_weights(source)
        except KeyError:
            if not _HUB_REPO_ID.fullmatch(source):
                raise CheckpointError(f"{source!r} is neither a file, a released checkpoint ({', '.join(PRETRAINED)}) "
                                      f"nor a Hugging Face repo id (owner/repo)") from None
            path = hub_file(f"{HUB_PREFIX}{source}/{HUB_DEFAULT_FILE}")
        else:
            path = download(weights, progress=progress)
    obj = read_checkpoint(path, map_location)
    state, config = split_checkpoint(obj, str(path))
    found = infer_arch(state, config, path.name)
    if weights is not None:
        found = weights.arch
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
    audio = AudioConfig.from_dict(config.get("audio", {})) if config.get("audio") else \
        (weights.audio if weights else AudioConfig())
    model = create_model(arch, classes_num=head, **audio.to_dict())
    check_state_dict(model, state, str(path))
    model.load_state_dict(state, strict=True)
    model.eval()
    label_set = config.get("label_set") or label_set_for(head).name
    info = {"arch": arch, "classes_num": head, "label_set": label_set, "audio": audio, "path": path,
            "iteration": obj.get("iteration"), "weights": weights, "config": config}
    return model, info


def model_config(model: nn.Module, label_set: Optional[str] = None) -> dict:
    """What a checkpoint must carry to be rebuilt without guessing."""
    return {"arch": model.arch_name, "classes_num": model.classes_num,
            "label_set": label_set or label_set_for(model.classes_num).name, "audio": model.audio.to_dict()}


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


def save_checkpoint(path, model: nn.Module, label_set: Optional[str] = None, **extra) -> Path:
    """Write {'model', 'config', **extra} atomically; `extra` may hold optimiser/sampler state and iteration."""
    config = {**model_config(model, label_set), **extra.pop("config", {})}
    return atomic_save({"model": model.state_dict(), "config": config, **extra}, path)


@torch.no_grad()
def head_to_animal(model: nn.Module) -> nn.Module:
    """Cut a 527-class head to the 65 animal rows (72..136), keeping their trained weights, for fine-tuning."""
    head = model.fc_audioset
    if head.out_features != 527:
        raise CheckpointError(f"head_to_animal needs a 527-class head, this one has {head.out_features}")
    new = nn.Linear(head.in_features, len(ANIMAL_INDICES), bias=True).to(head.weight.device)
    index = torch.tensor(ANIMAL_INDICES, device=head.weight.device)
    new.weight.copy_(head.weight[index])
    new.bias.copy_(head.bias[index])
    model.fc_audioset = new
    model.classes_num = len(ANIMAL_INDICES)
    return model
