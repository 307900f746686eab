"""The PANNs architectures with their log-mel front end and shared blocks; importing it registers them all."""

from panns_core.models import cnn14, mobilenet, resnet38, wavegram  # noqa: F401  (registration side effect)
