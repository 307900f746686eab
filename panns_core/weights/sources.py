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

from panns_core.errors import CheckpointError, DownloadError, WeightsUnavailableError
from panns_core.weights.cache import (
    HUB_PREFIX,
    cached_path,
    download,
    fetch_command,
    hub_file,
    missing_message,
    offline,
    verify_once,
)
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


@dataclass(frozen=True)
class Readiness:
    """Whether a checkpoint can be loaded now without the network, and when it cannot, why and how to get it.

    Front ends (the demo's picker, a status line) ask this instead of looking into the cache themselves, so
    "ready" means what a load would find: the file is here and, for a released checkpoint, passes its checksum.
    """

    ready: bool
    path: Optional[Path] = None  # the local file, when ready
    reason: str = ""  # why it is not ready (empty when ready)
    how_to_get: str = ""  # the exact ways to get it, commands in backticks (empty when ready)
    fetchable: bool = False  # a fetch (released name or Hub file, network allowed) could bring it


def fetchable(source: SourceLike) -> bool:
    """True when fetching could bring this source: a released name or a Hub address, and not PANNS_OFFLINE=1
    (released files on the Hub are still read through the Hub's own cache offline, but never fetched)."""
    if isinstance(source, PretrainedWeights):
        return not offline()
    given = str(source)
    if Path(given).exists():
        return False
    known_kind = given in PRETRAINED or given.startswith(HUB_PREFIX) or bool(_HUB_REPO_ID.fullmatch(given))
    return known_kind and not offline()


def check_ready(source: SourceLike) -> Readiness:
    """Is `source` usable offline right now? Never downloads; verifies a released file's checksum like a load."""
    can_fetch = fetchable(source)
    offline_note = " This machine is offline (PANNS_OFFLINE=1), so nothing is fetched." if offline() else ""
    try:
        resolved = resolve_source(source, progress=False, local_only=True)
    except DownloadError as e:  # here, but its size or checksum is wrong: fetching again will not replace it
        weights = source if isinstance(source, PretrainedWeights) else get_weights(str(source))
        target = cached_path(weights)
        how = f"Delete {target} and fetch it again with `{fetch_command(weights)}`."
        return Readiness(False, reason=str(e), how_to_get=f"{e}. {how}", fetchable=can_fetch)
    except WeightsUnavailableError as e:
        given = source.name if isinstance(source, PretrainedWeights) else str(source)
        if given in PRETRAINED:
            how = missing_message(get_weights(given), reason="not on this machine")
        else:
            how = (
                f"{hub_address(given)} is not on this machine and could not be read from the Hugging Face Hub's "
                "cache. Fetch it (network), or download the file and give its path as --checkpoint."
            )
        return Readiness(False, reason=str(e), how_to_get=how + offline_note, fetchable=can_fetch)
    except CheckpointError as e:  # neither a file, a released name nor a Hub address
        return Readiness(False, reason=str(e), how_to_get=f"{e}. Give the path of an existing checkpoint file.")
    if not resolved.path.is_file():
        reason = f"checkpoint {resolved.given} does not exist"
        return Readiness(False, reason=reason, how_to_get=f"{reason}. Give the path of an existing checkpoint file.")
    return Readiness(True, path=resolved.path, fetchable=can_fetch)
