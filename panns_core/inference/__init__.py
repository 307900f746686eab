"""Tagging: the Tagger that turns audio into scores, on PyTorch or ONNX Runtime."""
