"""Truncated recordings: files that decode, but hold less audio than their header promises.

Decoders read what is there and say nothing (libsndfile even corrects a WAV header to the bytes present),
so a copy cut short by a full disk or a dropped transfer would be tagged as if it were whole. The job
checks the header's promise against what was decoded, and records a shortfall as a failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from panns_core.audio.decode import riff_header
from panns_core.audio.load import audio_info

TOLERANCE_SECONDS = 0.5  # resampling edges and MP3 length estimates differ from the truth by a little
TOLERANCE_FRACTION = 0.02


def shortfall(path, decoded_seconds: float) -> Optional[str]:
    """Why the file is truncated (header's duration against the decoded one), or None when it is whole."""
    header = riff_header(path) if Path(path).suffix.lower() == ".wav" else None
    declared = header.seconds if header is not None else None
    if declared is None:
        declared = audio_info(path)[1]
    if declared is None:
        return None
    if declared - decoded_seconds > max(TOLERANCE_SECONDS, TOLERANCE_FRACTION * declared):
        return (
            f"{Path(path).name} is truncated: its header declares {declared:.2f} s but only "
            f"{decoded_seconds:.2f} s of audio could be decoded; copy or export it again"
        )
    return None
