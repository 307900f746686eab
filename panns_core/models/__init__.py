"""PANNs architectures; importing this package registers them all."""
from . import cnn14, mobilenet, resnet38, wavegram  # noqa: F401  (registration side effect)
from .registry import create_model, list_models, register_model

__all__ = ["create_model", "list_models", "register_model"]
