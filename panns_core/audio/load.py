"""Conditioning audio for the models: any format, rate, channel count and length, within limits.

Files are decoded block by block (panns_core.decode: soundfile, or PyAV for what libsndfile cannot read)
and resampled with soxr's streaming resampler, so a one-hour recording never sits in memory whole and a
length limit stops decoding as soon as it is passed, whatever the format. Every problem becomes an
AudioError that says what is wrong with which input, and where.
"""

from __future__ import annotations

from typing import Iterator, Optional

import numpy as np

from panns_core.audio.decode import BLOCK_SECONDS, check_rate, open_audio, pcm_to_float
from panns_core.config import AudioConfig
from panns_core.errors import AudioError

__all__ = [
    "BLOCK_SECONDS",
    "audio_info",
    "check_finite",
    "check_length",
    "load_audio",
    "prepare_waveform",
    "resample",
    "stream_audio",
    "to_float_mono",
]


def to_float_mono(waveform, what: str = "waveform") -> np.ndarray:
    """Integer PCM -> float in [-1, 1]; (samples,), (samples, channels) or (channels, samples) -> mono.

    For 2-D input the shorter axis is taken as channels (clips are longer than they are wide).
    """
    x = pcm_to_float(np.asarray(waveform), what)
    if x.size == 0:  # before downmixing: the mean of a (0, channels) array would be a NaN "sample"
        raise AudioError(f"{what} is empty (0 samples)")
    if x.ndim == 2:
        x = x.mean(axis=0 if x.shape[0] < x.shape[1] else 1)
    elif x.ndim != 1:
        raise AudioError(f"{what} must be 1-D or 2-D (samples, channels), got shape {x.shape}")
    return x


def check_finite(x: np.ndarray, what: str, sample_rate: int, first_frame: int = 0) -> np.ndarray:
    """Refuse NaN/inf samples, saying when the first one occurs. x: (frames,) or (frames, channels)."""
    finite = np.isfinite(x)
    if finite.all():
        return x
    bad_frames = ~finite if x.ndim == 1 else ~finite.all(axis=1)
    frame = int(np.argmax(bad_frames))
    value = x[frame] if x.ndim == 1 else x[frame][~finite[frame]][0]
    kind = "NaN" if np.isnan(value) else "infinite"
    at = first_frame + frame
    raise AudioError(
        f"{what} contains {kind} samples, the first at {at / sample_rate:.2f} s (sample {at}): "
        f"the recording is damaged or was written by a faulty program; export it again"
    )


def check_length(seconds: float, max_seconds: Optional[float], what: str, how: str = "") -> None:
    """Refuse a clip longer than the limit; `how` says where the length came from."""
    if max_seconds is not None and seconds > max_seconds:
        raise AudioError(
            f"{what} lasts {seconds:.0f} s{how}, longer than the {max_seconds:g} s limit: "
            f"cut it shorter (e.g. `ffmpeg -i INPUT -t {max_seconds:g} OUTPUT.wav`)"
        )


def resample(x: np.ndarray, sample_rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling (soxr HQ), not naive interpolation."""
    if sample_rate == target_rate or x.size == 0:
        return x
    import soxr

    return soxr.resample(x, sample_rate, target_rate, quality="HQ").astype(np.float32, copy=False)


def prepare_waveform(
    waveform, sample_rate: int, target_rate: int = AudioConfig.sample_rate, what: str = "waveform"
) -> np.ndarray:
    """Validate, downmix, convert and resample an in-memory clip to float32 mono at `target_rate`."""
    sample_rate = check_rate(sample_rate, what)
    x = np.asarray(waveform)
    if x.ndim == 2 and x.dtype.kind == "f":  # find NaN/inf before downmixing: +inf and -inf would mix to NaN
        check_finite(x if x.shape[0] >= x.shape[1] else x.T, what, sample_rate)
    x = to_float_mono(x, what)
    check_finite(x, what, sample_rate)
    return resample(x, sample_rate, target_rate)


def audio_info(path) -> tuple:
    """(sample_rate, duration in seconds or None) from the header, without decoding; (None, None) if unreadable."""
    try:
        source = open_audio(path)
    except AudioError:
        return None, None
    return source.sample_rate, source.declared_seconds


def stream_audio(
    path, target_rate: int = AudioConfig.sample_rate, max_seconds: Optional[float] = None
) -> Iterator[np.ndarray]:
    """Yield float32 mono blocks at `target_rate`, decoded and resampled block by block.

    With `max_seconds`, a file is refused by its header's duration where the container stores one, and in
    any case as soon as the decoded samples pass the limit: at most one block beyond it is ever decoded.
    Raises AudioError for a missing, empty, undecodable, corrupt, over-long or NaN-bearing file, and for a
    file with no samples at all (checked once the stream ends).
    """
    source = open_audio(path)
    rate, name = source.sample_rate, source.name
    if source.declared_seconds is not None:
        check_length(source.declared_seconds, max_seconds, name, " (according to its header)")
    limit = None if max_seconds is None else int(np.floor(max_seconds * rate))
    resampler = None
    if rate != target_rate:
        import soxr

        resampler = soxr.ResampleStream(rate, target_rate, 1, dtype="float32", quality="HQ")
    seen, blocks = 0, source.blocks()
    try:
        for block in blocks:
            check_finite(block, name, rate, seen)
            if limit is not None and seen + len(block) > limit:
                check_length((seen + len(block)) / rate, max_seconds, name, " or more (decoding stopped there)")
            seen += len(block)
            mono = block[:, 0] if block.shape[1] == 1 else block.mean(axis=1)
            out = resampler.resample_chunk(mono) if resampler else mono
            if out.size:
                yield out
    finally:
        blocks.close()  # stop the decoder and close the file now, not when the generator is collected
    if seen == 0:
        raise AudioError(f"{name} holds no audio samples: record or export it again")
    if resampler:
        tail = resampler.resample_chunk(np.zeros(0, np.float32), last=True)
        if tail.size:
            yield tail


def load_audio(path, sample_rate: int = AudioConfig.sample_rate, max_seconds: Optional[float] = None) -> np.ndarray:
    """The whole file as float32 mono at `sample_rate` (use stream_audio for very long files)."""
    return np.concatenate(list(stream_audio(path, sample_rate, max_seconds)))
