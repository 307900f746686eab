"""PANNs architectures; importing this package registers them all."""

from . import cnn14, mobilenet, resnet38, wavegram  # noqa: F401  (registration side effect)
from .base import PannsModel
from .registry import create_model, is_registered, list_models, register_model

__all__ = ["PannsModel", "create_model", "is_registered", "list_models", "register_model"]
