"""Finding audio files in folders: the one list of suffixes the CLI, the demo's examples and tools share."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, List

AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".mp3", ".opus", ".aiff", ".aif", ".au", ".m4a"})


def is_audio_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in AUDIO_SUFFIXES


def find_audio(paths: Iterable) -> List[Path]:
    """Files given directly (whatever their suffix: the decoder decides), plus audio files found
    recursively in given folders (sorted)."""
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(f for f in p.rglob("*") if is_audio_file(f))
        else:
            found.append(p)
    return found
