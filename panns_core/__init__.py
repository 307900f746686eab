"""panns_core: exact PANNs models, AudioSet animal labels, checkpoints and one Tagger for every front end."""
from .config import AudioConfig
from .errors import AudioError, CheckpointError, PannsError, WeightsUnavailableError
from .models import create_model, list_models, register_model

__all__ = ["AudioConfig", "AudioError", "CheckpointError", "PannsError", "WeightsUnavailableError",
           "create_model", "list_models", "register_model", "Tagger", "TaggingResult"]


def __getattr__(name):
    # The Tagger pulls in audio decoding; import it lazily so `import panns_core` stays light.
    if name in ("Tagger", "TaggingResult"):
        from . import tagger
        return getattr(tagger, name)
    raise AttributeError(name)
