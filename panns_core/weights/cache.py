"""Fetching released checkpoints into a local cache: resumable, with progress, verified before use.

A download is only moved to its final name after its size and checksums match; a file placed in
the cache by hand is verified on first use. An interrupted download stays as `<name>.part` and the
next attempt continues it with an HTTP Range request. Nothing here runs at import time.
"""

import hashlib
import os
import urllib.error
import urllib.request
from pathlib import Path
from typing import Optional

from panns_core.errors import CheckpointError, DownloadError, WeightsUnavailableError
from panns_core.weights.catalogue import PretrainedWeights

CHUNK = 1 << 20


def offline() -> bool:
    """PANNS_OFFLINE=1: nothing may be downloaded (tests, air-gapped servers); the one place that reads it."""
    return os.environ.get("PANNS_OFFLINE") == "1"


def cache_dir() -> Path:
    """$PANNS_CACHE_DIR, else ~/.cache/panns_core (created on demand, never at import)."""
    return Path(os.environ.get("PANNS_CACHE_DIR") or Path.home() / ".cache" / "panns_core")


def cached_path(weights: PretrainedWeights, cache: Optional[Path] = None) -> Path:
    return Path(cache or cache_dir()) / weights.filename


def fetch_command(weights: PretrainedWeights) -> str:
    return f"python -m panns_core download {weights.name}"


def missing_message(weights: PretrainedWeights, cache: Optional[Path] = None, reason: str = "") -> str:
    target = cached_path(weights, cache)
    why = f" ({reason})" if reason else ""
    return (
        f"{weights.filename} is not available{why}. Fetch it with `{fetch_command(weights)}`, "
        f"or download {weights.url} yourself and put it at {target}."
    )


def file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def verify(path: Path, weights: PretrainedWeights) -> None:
    """Raise DownloadError unless size and every published checksum match."""
    size = path.stat().st_size
    if weights.size is not None and size != weights.size:
        raise DownloadError(f"{path} has {size:,} bytes, expected {weights.size:,}: truncated or a different file")
    for algorithm in ("sha256", "md5"):
        expected = getattr(weights, algorithm)
        if expected and file_digest(path, algorithm) != expected:
            raise DownloadError(f"{path} fails its {algorithm} check (expected {expected}); it will not be loaded")


def _progress(total: Optional[int], initial: int, desc: str, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(
        total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, desc=desc, disable=not enabled
    )


def http_fetch(url: str, part: Path, progress: bool, desc: str, timeout: float = 60) -> None:
    """Append the rest of `url` to `part`, resuming from its current size."""
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416:  # nothing left to fetch: the part file is already complete
            return
        raise
    with response:
        if have and response.status != 206:  # server ignored Range: start again
            have = 0
        length = response.headers.get("Content-Length")
        total = have + int(length) if length is not None else None
        with open(part, "ab" if have else "wb") as out, _progress(total, have, desc, progress) as bar:
            for block in iter(lambda: response.read(CHUNK), b""):
                out.write(block)
                bar.update(len(block))


HUB_PREFIX = "hf://"


def hub_file(uri: str, local_only: bool = False) -> Path:
    """hf://owner/repo/path/in/repo.pth -> local file through huggingface_hub (its own cache and resume).

    `local_only` (or PANNS_OFFLINE=1) only looks in the Hub cache, e.g. to tell whether a file is ready.
    """
    parts = uri[len(HUB_PREFIX) :].split("/", 2) if uri.startswith(HUB_PREFIX) else []
    if len(parts) != 3 or not all(parts):
        raise CheckpointError(f"{uri!r} is not of the form hf://owner/repo/file.pth")
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(f"{parts[0]}/{parts[1]}", parts[2], local_files_only=local_only or offline()))
    except Exception as e:  # the Hub raises many types (offline, 404, auth): all mean "not available"
        raise WeightsUnavailableError(f"cannot fetch {uri}: {e}") from e


def _place(source: Path, target: Path) -> None:
    """Put a verified Hub file at its cache name (hard link when possible, else a copy)."""
    import shutil

    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def download(weights: PretrainedWeights, cache: Optional[Path] = None, progress: bool = True) -> Path:
    """Return the verified local file, fetching (or resuming) it first if needed."""
    target = cached_path(weights, cache)
    if target.exists():
        return verify_once(target, weights)
    if offline() and not weights.url.startswith(HUB_PREFIX):
        raise WeightsUnavailableError(missing_message(weights, cache, "PANNS_OFFLINE=1"))
    target.parent.mkdir(parents=True, exist_ok=True)
    if weights.url.startswith(HUB_PREFIX):
        fetched = hub_file(weights.url)
        verify(fetched, weights)
        _place(fetched, target)
        _stamp(target).write_text(_fingerprint(target))
        return target
    part = target.with_name(target.name + ".part")
    try:
        http_fetch(weights.url, part, progress, weights.filename)
    except (urllib.error.URLError, OSError, TimeoutError) as e:
        raise WeightsUnavailableError(missing_message(weights, cache, f"download failed: {e}")) from e
    try:
        verify(part, weights)
    except DownloadError:
        # A complete-looking file with a wrong checksum cannot be resumed into a good one.
        if weights.size is None or part.stat().st_size >= weights.size:
            part.unlink()
        raise
    os.replace(part, target)
    _stamp(target).write_text(_fingerprint(target))
    return target


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size} {stat.st_mtime_ns}"


def verify_once(path: Path, weights: PretrainedWeights) -> Path:
    """Verify a cached file (one placed by hand, too), remembering success beside it so that
    later loads skip re-hashing hundreds of megabytes unless the file changes."""
    stamp = _stamp(path)
    if stamp.exists() and stamp.read_text() == _fingerprint(path):
        return path
    verify(path, weights)
    stamp.write_text(_fingerprint(path))
    return path
