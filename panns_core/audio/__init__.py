"""Audio in: decoding any file block by block, conditioning to a model's rate and length, finding audio files."""
