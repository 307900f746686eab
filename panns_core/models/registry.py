"""Model registry: architectures by name, one `create_model` (no `eval()` of class names)."""
from typing import Callable, Dict

from torch import nn

from ..config import AudioConfig

_MODELS: Dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str):
    """Decorator: make `create_model(name)` build this class (or factory)."""

    def wrap(builder):
        if name in _MODELS:
            raise ValueError(f"model {name!r} is already registered")
        _MODELS[name] = builder
        return builder

    return wrap


def list_models() -> list:
    return sorted(_MODELS)


def create_model(name: str, classes_num: int = 527, **audio) -> nn.Module:
    """Build a registered architecture. `audio` overrides AudioConfig fields (sample_rate, mel_bins, ...)."""
    if name not in _MODELS:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(list_models())}")
    model = _MODELS[name](classes_num=classes_num, audio=AudioConfig(**audio))
    model.arch_name = name
    model.classes_num = classes_num
    return model
