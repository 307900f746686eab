"""panns_core: exact PANNs models, AudioSet's animal classes, checkpoints and one Tagger for every front end.

The names below are the public surface; everything else is importable from its folder (`audio`, `labels`,
`models`, `weights`, `inference`, `training`, `evaluation`). They load on first use, so `import panns_core`
stays light (no torch) and the dashboard and the command line start fast.
"""

import importlib

_PUBLIC = {
    # tagging
    "Tagger": "panns_core.inference.tagger",
    "TaggingResult": "panns_core.inference.tagger",
    # checkpoints
    "load_checkpoint": "panns_core.weights.checkpoints",
    "save_checkpoint": "panns_core.weights.checkpoints",
    "LoadedCheckpoint": "panns_core.weights.checkpoints",
    # models
    "create_model": "panns_core.models.registry",
    "list_models": "panns_core.models.registry",
    "register_model": "panns_core.models.registry",
    "PannsModel": "panns_core.models.base",
    # label sets
    "ANIMAL": "panns_core.labels.sets",
    "AUDIOSET": "panns_core.labels.sets",
    "LabelSet": "panns_core.labels.sets",
    "get_label_set": "panns_core.labels.sets",
    # audio
    "load_audio": "panns_core.audio.load",
    "AudioConfig": "panns_core.config",
    # errors
    "PannsError": "panns_core.errors",
    "AudioError": "panns_core.errors",
    "BackendError": "panns_core.errors",
    "CheckpointError": "panns_core.errors",
    "ConfigError": "panns_core.errors",
    "DownloadError": "panns_core.errors",
    "WeightsUnavailableError": "panns_core.errors",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(importlib.import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'panns_core' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PUBLIC))
