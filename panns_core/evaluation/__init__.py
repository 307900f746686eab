"""How good a model is: metrics, the results format on disk, scoring a model on a pack, training reports."""
