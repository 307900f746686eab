"""Where a checkpoint comes from: the one place that turns what a user typed into a local file.

`--checkpoint` (CLI, training, demo) and `Tagger.from_pretrained` accept the same things:
a released name (`Cnn14`, fetched into the cache and verified), a local `.pth` path, a Hugging
Face Hub repo id `owner/repo` (its `model.pth`) or `hf://owner/repo/file.pth`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Union

from panns_core.errors import CheckpointError, WeightsUnavailableError
from panns_core.weights.cache import HUB_PREFIX, cached_path, download, hub_file, missing_message, verify_once
from panns_core.weights.catalogue import PRETRAINED, PretrainedWeights, get_weights

# A Hub model repo holding one of our checkpoints under this name can be given as just "owner/repo".
HUB_DEFAULT_FILE = "model.pth"
_HUB_REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[A-Za-z0-9][\w.-]*")

SourceLike = Union[str, Path, PretrainedWeights]


@dataclass(frozen=True)
class ResolvedSource:
    """A checkpoint source made local: the file, and the released entry it is (None for other files)."""

    given: str
    path: Path
    weights: Optional[PretrainedWeights] = None


def hub_address(source: str) -> str:
    """`owner/repo` (when no such file or released name exists here) -> hf://owner/repo/model.pth, the
    address the Hub is read by; anything else unchanged. Front ends show and key models by this form."""
    if (
        not source.startswith(HUB_PREFIX)
        and source not in PRETRAINED
        and not Path(source).exists()
        and _HUB_REPO_ID.fullmatch(source)
    ):
        return f"{HUB_PREFIX}{source}/{HUB_DEFAULT_FILE}"
    return source


def resolve_source(source: SourceLike, progress: bool = True, local_only: bool = False) -> ResolvedSource:
    """The local file behind a checkpoint source, fetching it first unless `local_only`.

    `local_only` never downloads: a source that is not on this machine raises WeightsUnavailableError
    (with how to get it), which tells a front end whether a model is ready to use.
    """
    if isinstance(source, PretrainedWeights):
        return ResolvedSource(source.name, _released(source, progress, local_only), source)
    given = str(source)
    if given.startswith(HUB_PREFIX):
        return ResolvedSource(given, hub_file(given, local_only=local_only))
    path = Path(source)
    if path.exists() or not isinstance(source, str):
        return ResolvedSource(given, path)
    try:
        weights = get_weights(source)
    except KeyError:
        if not _HUB_REPO_ID.fullmatch(source):
            raise CheckpointError(
                f"{source!r} is neither a file, a released checkpoint ({', '.join(PRETRAINED)}) "
                f"nor a Hugging Face repo id (owner/repo)"
            ) from None
        return ResolvedSource(given, hub_file(f"{HUB_PREFIX}{source}/{HUB_DEFAULT_FILE}", local_only=local_only))
    return ResolvedSource(given, _released(weights, progress, local_only), weights)


def _released(weights: PretrainedWeights, progress: bool, local_only: bool) -> Path:
    if not local_only:
        return download(weights, progress=progress)
    target = cached_path(weights)
    if not target.is_file():
        raise WeightsUnavailableError(missing_message(weights, reason="not on this machine"))
    return verify_once(target, weights)
