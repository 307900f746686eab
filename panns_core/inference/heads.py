"""Probe heads: a few new classes scored from a checkpoint's frozen embedding (written by `panns probe fit`).

A head is a linear layer (weights folded with the feature scaling it was fit with) plus what it needs to be
used safely: the digest of the base checkpoint's weights (embeddings of other weights mean nothing to it),
the base arch, its class names and a training summary. The file holds only tensors and plain Python data,
so it loads with `torch.load(weights_only=True)` like every checkpoint of this package.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Tuple

import numpy as np
import torch

from panns_core.errors import CheckpointError
from panns_core.labels.sets import LabelSet

HEAD_FORMAT = "panns-probe-head/1"
OWN_PREFIX = "own:"  # mids of the user's own classes, so they never collide with AudioSet mids


def weights_digest(model: torch.nn.Module) -> str:
    """'sha256:...' of a model's weights (names, shapes and values in name order): same weights, same digest,
    however the file holding them was written."""
    h = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        t = tensor.detach().cpu().contiguous()
        h.update(name.encode("utf-8"))
        h.update(str(tuple(t.shape)).encode("ascii"))
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return "sha256:" + h.hexdigest()


def own_mid(name: str) -> str:
    return name if name.startswith(OWN_PREFIX) else OWN_PREFIX + name


@dataclass
class ProbeHead:
    """Scores = sigmoid(embedding @ weight.T + bias), one column per class in `names` order."""

    weight: np.ndarray  # (classes, embedding_size)
    bias: np.ndarray  # (classes,)
    names: Tuple[str, ...]
    base_digest: str
    base_arch: str
    summary: dict = field(default_factory=dict)

    @property
    def mids(self) -> Tuple[str, ...]:
        return tuple(own_mid(n) for n in self.names)

    @property
    def labels(self) -> LabelSet:
        return LabelSet("head", tuple(-1 for _ in self.names), self.mids, tuple(self.names))

    def scores(self, embeddings: np.ndarray) -> np.ndarray:
        """(n, embedding_size) -> (n, classes) probabilities."""
        embeddings = np.asarray(embeddings, np.float64)
        if embeddings.shape[-1] != self.weight.shape[1]:
            raise CheckpointError(
                f"the head expects {self.weight.shape[1]}-d embeddings, the model gives {embeddings.shape[-1]}"
            )
        logits = embeddings @ self.weight.T + self.bias
        return (1.0 / (1.0 + np.exp(-np.clip(logits, -60, 60)))).astype(np.float32)

    def check_base(self, digest: str, arch: str, where: str = "the checkpoint") -> None:
        """A head fit on other weights would give confident nonsense: refuse it, naming both."""
        if digest != self.base_digest:
            raise CheckpointError(
                f"this head was fit on the embeddings of another checkpoint ({self.base_arch}, weights "
                f"{self.base_digest[:19]}...), not {where} ({arch}, weights {digest[:19]}...): "
                "fit it again on this checkpoint with `panns probe fit`"
            )


def save_head(path, head: ProbeHead) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "format": HEAD_FORMAT,
            "weight": torch.as_tensor(np.asarray(head.weight, np.float32)),
            "bias": torch.as_tensor(np.asarray(head.bias, np.float32)),
            "names": list(head.names),
            "base_digest": head.base_digest,
            "base_arch": head.base_arch,
            "summary": head.summary,
        },
        path,
    )
    return path


def load_head(path) -> ProbeHead:
    """Read a head file (weights_only=True); anything else is a CheckpointError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"head file {path} not found")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # a pickle that is not plain data, or a truncated file
        raise CheckpointError(f"{path} is not a head file written by `panns probe fit`: {e}") from None
    if not isinstance(data, dict) or data.get("format") != HEAD_FORMAT:
        raise CheckpointError(f"{path} is not a head file written by `panns probe fit` (format {HEAD_FORMAT})")
    weight, bias = data["weight"].double().numpy(), data["bias"].double().numpy()
    if weight.ndim != 2 or bias.shape != (weight.shape[0],) or len(data["names"]) != weight.shape[0]:
        raise CheckpointError(f"{path}: weight {tuple(weight.shape)}, bias {tuple(bias.shape)} and names disagree")
    return ProbeHead(
        weight, bias, tuple(data["names"]), str(data["base_digest"]), str(data["base_arch"]), dict(data["summary"])
    )
