"""panns_core: exact PANNs models, AudioSet animal labels, checkpoints and one Tagger for every front end.

Importing the package is light (no torch): the model and Tagger names load on first use, so the
dashboard and the CLI's help start fast.
"""

from .config import AudioConfig
from .errors import AudioError, CheckpointError, ConfigError, PannsError, WeightsUnavailableError

_LAZY = {
    "create_model": "models",
    "list_models": "models",
    "register_model": "models",
    "PannsModel": "models",
    "Tagger": "tagger",
    "TaggingResult": "tagger",
    "load_checkpoint": "checkpoints",
    "LoadedCheckpoint": "checkpoints",
    "resolve_source": "sources",
    "get_weights": "weights",
}

__all__ = [
    "AudioConfig",
    "AudioError",
    "CheckpointError",
    "ConfigError",
    "PannsError",
    "WeightsUnavailableError",
    *_LAZY,
]


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'panns_core' has no attribute {name!r}")
