"""Finds the example clips the page lists under the input.

demo/examples/ ships a few short CC0 / CC BY clips (credited in its ATTRIBUTION.csv); a deployer
may add clips there or point --examples / PANNS_DEMO_EXAMPLES at another folder.
"""

from __future__ import annotations

from pathlib import Path

from panns_core.audio.files import AUDIO_SUFFIXES  # the one list of what the package can decode


def find_examples(folder: Path | None, limit: int = 20) -> list[Path]:
    """Audio files directly in `folder`, sorted by name; none when the folder is absent or empty."""
    if folder is None or not folder.is_dir():
        return []
    clips = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    return clips[:limit]
