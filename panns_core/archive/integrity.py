"""Truncated recordings: files that decode, but hold less audio than their header promises.

Decoders read what is there and say nothing (libsndfile even corrects a WAV header to the bytes present),
so a copy cut short by a full disk or a dropped transfer would be tagged as if it were whole. The job
checks the header's promise against what was decoded, and records a shortfall as a failure.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path
from typing import Optional

from panns_core.audio.load import audio_info

TOLERANCE_SECONDS = 0.5  # resampling edges and MP3 length estimates differ from the truth by a little
TOLERANCE_FRACTION = 0.02


def wav_declared_seconds(path) -> Optional[float]:
    """The duration a RIFF/WAVE header declares (data chunk size / bytes per second), or None."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
                return None
            fmt = "<" if head[:4] == b"RIFF" else ">"
            byte_rate = None
            while True:
                chunk = f.read(8)
                if len(chunk) < 8:
                    return None
                cid, size = chunk[:4], struct.unpack(fmt + "I", chunk[4:])[0]
                if cid == b"fmt ":
                    body = f.read(size + (size & 1))
                    if len(body) < 12:
                        return None
                    byte_rate = struct.unpack(fmt + "I", body[8:12])[0]
                elif cid == b"data":
                    if not byte_rate or size in (0, 0xFFFFFFFF):  # streamed WAVs leave the size unset
                        return None
                    return size / byte_rate
                else:
                    f.seek(size + (size & 1), os.SEEK_CUR)
    except OSError:
        return None


def shortfall(path, decoded_seconds: float) -> Optional[str]:
    """Why the file is truncated (header's duration against the decoded one), or None when it is whole."""
    declared = wav_declared_seconds(path) if Path(path).suffix.lower() == ".wav" else None
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
