"""Decoding and conditioning audio for the models: any format, rate, channel count and length.

Files are decoded and resampled in blocks (soundfile + soxr's streaming resampler), so a one-hour
recording never sits in memory whole; formats libsndfile cannot read fall back to librosa
(audioread/ffmpeg), which decodes at once. Every problem becomes an AudioError that says what is
wrong with which input.
"""
from pathlib import Path
from typing import Iterator, Optional

import numpy as np

from .config import AudioConfig
from .errors import AudioError

BLOCK_SECONDS = 30


def _check_rate(sample_rate) -> int:
    """A positive whole number of samples per second (44100.0 is fine, 0 or 44100.5 is not)."""
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, float, np.integer, np.floating)) \
            or not np.isfinite(sample_rate) or sample_rate <= 0 or sample_rate != int(sample_rate):
        raise AudioError(f"sample rate must be a positive whole number, got {sample_rate!r}")
    return int(sample_rate)


def to_float_mono(waveform, what: str = "waveform") -> np.ndarray:
    """Integer PCM -> float in [-1, 1]; (samples,), (samples, channels) or (channels, samples) -> mono.

    For 2-D input the shorter axis is taken as channels (clips are longer than they are wide).
    """
    x = np.asarray(waveform)
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        x = (x.astype(np.float32) - (info.max + 1 + info.min) / 2) / (info.max + 1 - (info.max + 1 + info.min) / 2)
    elif x.dtype.kind == "b" or x.dtype.kind not in "f":
        raise AudioError(f"{what} has dtype {x.dtype}; expected float or integer PCM samples")
    x = x.astype(np.float32, copy=False)
    if x.ndim == 2:
        x = x.mean(axis=0 if x.shape[0] < x.shape[1] else 1)
    elif x.ndim != 1:
        raise AudioError(f"{what} must be 1-D or 2-D (samples, channels), got shape {x.shape}")
    return x


def check_finite(x: np.ndarray, what: str, offset_seconds: float = 0.0) -> np.ndarray:
    bad = ~np.isfinite(x)
    if bad.any():
        kind = "NaN" if np.isnan(x[bad]).any() else "infinite"
        raise AudioError(f"{what} contains {kind} samples (first near {offset_seconds:.2f} s)")
    return x


def resample(x: np.ndarray, sample_rate: int, target_rate: int) -> np.ndarray:
    """Band-limited resampling (soxr HQ), not naive interpolation."""
    if sample_rate == target_rate or x.size == 0:
        return x
    import soxr

    return soxr.resample(x, sample_rate, target_rate, quality="HQ").astype(np.float32, copy=False)


def prepare_waveform(waveform, sample_rate: int, target_rate: int = AudioConfig.sample_rate,
                     what: str = "waveform") -> np.ndarray:
    """Validate, downmix, convert and resample an in-memory clip to float32 mono at `target_rate`."""
    sample_rate = _check_rate(sample_rate)
    x = to_float_mono(waveform, what)
    if x.size == 0:
        raise AudioError(f"{what} is empty (0 samples)")
    check_finite(x, what)
    return resample(x, sample_rate, target_rate)


def audio_info(path) -> tuple:
    """(sample_rate, duration in seconds or None) from the header, without decoding."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
        return info.samplerate, (info.frames / info.samplerate if info.samplerate else None)
    except Exception:
        return None, None


def _open_checked(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path} does not exist")  # the full path: the name alone may not be the typo
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path.name} is empty (0 bytes)")
    return path


def _soundfile_blocks(path: Path) -> Optional[tuple]:
    import soundfile as sf

    try:
        handle = sf.SoundFile(str(path))
    except Exception:
        return None
    return handle, handle.samplerate


def _librosa_decode(path: Path) -> tuple:
    import warnings

    import librosa

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            x, sr = librosa.load(str(path), sr=None, mono=False)
    except Exception as e:
        detail = str(e).strip() or "no decoder recognises its contents"
        raise AudioError(f"{path.name} is not a decodable audio file ({detail})") from None
    return x, sr


def stream_audio(path, target_rate: int = AudioConfig.sample_rate, max_seconds: Optional[float] = None,
                 block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
    """Yield float32 mono blocks at `target_rate`, decoded and resampled block by block.

    Raises AudioError for a missing, empty, undecodable, over-long or NaN-bearing file, and for a
    file with no samples at all (checked once the stream ends).
    """
    path = _open_checked(path)
    opened = _soundfile_blocks(path)
    if opened is None:
        x, sr = _librosa_decode(path)
        if max_seconds is not None and x.shape[-1] / sr > max_seconds:
            raise AudioError(f"{path.name} lasts {x.shape[-1] / sr:.0f} s, longer than the {max_seconds:.0f} s limit")
        yield prepare_waveform(x.T if x.ndim == 2 else x, sr, target_rate, what=path.name)
        return
    handle, sr = opened
    with handle:
        if sr <= 0:
            raise AudioError(f"{path.name} declares a sample rate of {sr}")
        if max_seconds is not None and handle.frames / sr > max_seconds:
            raise AudioError(f"{path.name} lasts {handle.frames / sr:.0f} s, longer than the {max_seconds:.0f} s limit")
        resampler = None
        if sr != target_rate:
            import soxr

            resampler = soxr.ResampleStream(sr, target_rate, 1, dtype="float32", quality="HQ")
        seen = 0
        try:
            blocks = handle.blocks(blocksize=int(sr * block_seconds), dtype="float32", always_2d=True)
            for block in blocks:
                x = check_finite(block.mean(axis=1), path.name, seen / sr)
                seen += len(x)
                out = resampler.resample_chunk(x) if resampler else x
                if out.size:
                    yield out
        except AudioError:
            raise
        except Exception as e:
            raise AudioError(f"{path.name} is corrupt: decoding stopped after {seen / sr:.2f} s ({e})") from None
        if seen == 0:
            raise AudioError(f"{path.name} holds no audio samples")

        if resampler:
            tail = resampler.resample_chunk(np.zeros(0, np.float32), last=True)
            if tail.size:
                yield tail


def load_audio(path, sample_rate: int = AudioConfig.sample_rate, max_seconds: Optional[float] = None) -> np.ndarray:
    """The whole file as float32 mono at `sample_rate` (use stream_audio for very long files)."""
    return np.concatenate(list(stream_audio(path, sample_rate, max_seconds)))
