"""Command-line stages that reproduce the animal-only PANNs study: `python -m train <stage>`."""
