"""Writing test recordings in any container and codec, in-process with PyAV (no ffmpeg binary needed).

`streamed=True` writes through a file object that cannot seek, as `ffmpeg ... -f flac -` writes to a
pipe: the muxer cannot go back to fill in the header's length, so the file carries none.
"""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np

FORMATS = {  # suffix: (container, codec, rate the codec accepts or None for any)
    "wav": ("wav", "pcm_s16le", None),
    "flac": ("flac", "flac", None),
    "ogg": ("ogg", "libopus", 48000),  # FFmpeg's own Vorbis encoder is "experimental" and refuses to open
    "mp3": ("mp3", "libmp3lame", None),
    "m4a": ("ipod", "aac", None),
    "aac": ("adts", "aac", None),  # raw AAC: streams written one after the other still make one playable file
    "webm": ("webm", "libopus", 48000),
}


class _Pipe:
    """A write-only sink: no seek, no tell, like a pipe."""

    def __init__(self):
        self.buffer = io.BytesIO()

    def write(self, data) -> int:
        return self.buffer.write(data)


def encode(path: Path, wave: np.ndarray, rate: int, streamed: bool = False, bit_rate: int = 32000) -> Path:
    """Write `wave` ((samples,) or (samples, channels) float in [-1, 1]) to `path`, encoded by its suffix."""
    container, codec, codec_rate = FORMATS[Path(path).suffix[1:]]
    wave = np.asarray(wave, np.float32).reshape(len(wave), -1)
    if codec_rate and codec_rate != rate:
        import soxr

        wave, rate = soxr.resample(wave, rate, codec_rate).astype(np.float32), codec_rate
    layout = {1: "mono", 2: "stereo"}[wave.shape[1]]
    sink = _Pipe() if streamed else str(path)
    with av.open(sink, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        if codec not in ("pcm_s16le", "flac"):
            stream.bit_rate = bit_rate
        for start in range(0, len(wave), 4096):
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(wave[start : start + 4096].T), format="fltp", layout=layout
            )
            frame.sample_rate = rate
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    if streamed:
        Path(path).write_bytes(sink.buffer.getvalue())
    return Path(path)


def tone(seconds: float, rate: int, channels: int = 1, freq: float = 440.0, amplitude: float = 0.3) -> np.ndarray:
    """(samples, channels) sine, each channel a little higher than the last."""
    t = np.arange(round(seconds * rate)) / rate
    return np.stack([amplitude * np.sin(2 * np.pi * freq * (1 + c / 10) * t) for c in range(channels)], 1).astype(
        np.float32
    )
