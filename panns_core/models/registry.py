"""Model registry: architectures by name, one `create_model` (no `eval()` of class names).

Adding an architecture is one model file (a `PannsModel` subclass) and one line: `@register_model("Name")`.
"""

from __future__ import annotations

from typing import Callable, Dict

from torch import nn

from panns_core.config import AudioConfig
from panns_core.labels.sets import AUDIOSET_CLASSES

_MODELS: Dict[str, Callable[..., nn.Module]] = {}


def register_model(name: str):
    """Decorator: make `create_model(name)` build this class (or factory); a class learns its `arch_name`."""

    def wrap(builder):
        if name in _MODELS:
            raise ValueError(f"model {name!r} is already registered")
        _MODELS[name] = builder
        if isinstance(builder, type):
            builder.arch_name = name
        return builder

    return wrap


def list_models() -> list:
    return sorted(_MODELS)


def is_registered(name: str) -> bool:
    return name in _MODELS


def create_model(name: str, classes_num: int = AUDIOSET_CLASSES, **audio) -> nn.Module:
    """Build a registered architecture. `audio` overrides AudioConfig fields (sample_rate, mel_bins, ...)."""
    if name not in _MODELS:
        raise KeyError(f"unknown model {name!r}; registered: {', '.join(list_models())}")
    model = _MODELS[name](classes_num=classes_num, audio=AudioConfig(**audio))
    # A PannsModel already knows both; a plain nn.Module built by a factory learns them here.
    model.arch_name = name
    model.classes_num = classes_num
    return model
