"""Decoding audio files into float32 blocks at their own rate, a bounded block at a time.

Two decoders, one contract. libsndfile (soundfile) reads WAV, FLAC, AIFF, OGG and MP3 fastest, but only
when its header gives a length; everything else (M4A/AAC, WebM/Opus, streamed FLAC whose header has no
length, files libsndfile refuses) goes through FFmpeg's libraries via PyAV, frame by frame. Neither ever
holds more than one block (BLOCK_SAMPLES samples over all channels), so the caller can stop reading as soon
as a length limit is passed and a refused file costs about one block of memory, whatever its format.

Every problem with the file itself becomes an AudioError naming the file and what to do about it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional

import numpy as np

from panns_core.errors import AudioError

MIN_SAMPLE_RATE = 1_000  # below this a "sample rate" is a damaged header, not a recording
MAX_SAMPLE_RATE = 2_000_000  # above the fastest ultrasound recorders (bat detectors record at up to 1 MHz)
BLOCK_SAMPLES = 1 << 21  # samples of all channels per block: 8 MB of float32
BLOCK_SECONDS = 30  # and at most this long, so short blocks arrive early from long files

# Containers whose duration is written in the header by the muxer (mp4 'mvhd', Matroska 'Duration', FLAC
# STREAMINFO, WAV data size, Ogg's last granule). MP3 and ADTS AAC are missing on purpose: FFmpeg guesses
# their duration from the bitrate, which a variable-bitrate file makes wrong, so they are only counted.
TRUSTED_DURATION_FORMATS = {"mov", "mp4", "m4a", "matroska", "webm", "ogg", "flac", "wav", "w64", "aiff", "caf"}

REENCODE_HINT = "re-encode it, e.g. `ffmpeg -i INPUT -ar 32000 OUTPUT.wav`"


@dataclass
class AudioSource:
    """An opened file: what its header says, and its samples as (frames, channels) float32 blocks."""

    name: str
    sample_rate: int
    channels: int
    declared_seconds: Optional[float]  # from a trustworthy header; None when absent or only estimated
    blocks: Callable[[], Iterator[np.ndarray]]
    decoder: str  # "soundfile" or "pyav", for messages and benchmarks


def check_rate(sample_rate, what: str) -> int:
    """A whole number of samples per second in the range real recordings use (44100.0 is fine, 0 is not)."""
    if (
        isinstance(sample_rate, bool)
        or not isinstance(sample_rate, (int, float, np.integer, np.floating))
        or not np.isfinite(sample_rate)
        or sample_rate != int(sample_rate)
        or not MIN_SAMPLE_RATE <= sample_rate <= MAX_SAMPLE_RATE
    ):
        raise AudioError(
            f"{what}: the sample rate must be a whole number of Hz between {MIN_SAMPLE_RATE} and "
            f"{MAX_SAMPLE_RATE}, got {sample_rate!r}"
        )
    return int(sample_rate)


def pcm_to_float(x: np.ndarray, what: str) -> np.ndarray:
    """Integer PCM -> float32 in [-1, 1) (unsigned PCM is centred); float stays float32."""
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        middle = (int(info.max) + 1 + int(info.min)) / 2  # 0 for signed, 128 for uint8
        return ((x.astype(np.float64) - middle) / (int(info.max) + 1 - middle)).astype(np.float32)
    if x.dtype.kind != "f":
        raise AudioError(f"{what} has dtype {x.dtype}; expected float or integer PCM samples")
    return x.astype(np.float32, copy=False)


def block_frames(sample_rate: int, channels: int) -> int:
    """Frames per block: BLOCK_SECONDS long, but never more than BLOCK_SAMPLES samples over all channels."""
    return max(1, min(int(sample_rate * BLOCK_SECONDS), BLOCK_SAMPLES // max(1, channels)))


def open_audio(path) -> AudioSource:
    """Open a file for block-wise decoding; AudioError when it is missing, empty or not audio."""
    path = _existing_file(path)
    source = _soundfile_source(path)
    return source if source is not None else _pyav_source(path)


def _existing_file(path) -> Path:
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path} does not exist")  # the full path: the name alone may not be the typo
    if path.is_dir():
        raise AudioError(f"{path} is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path.name} is empty (0 bytes): record or export it again")
    return path


# ------------------------------------------------------------------------------------------------ soundfile
def _soundfile_source(path: Path) -> Optional[AudioSource]:
    """libsndfile's view of the file, or None when it cannot read it or does not know its length."""
    import soundfile as sf

    try:
        with sf.SoundFile(str(path)) as handle:
            rate, channels, frames, container = handle.samplerate, handle.channels, handle.frames, handle.format
    except Exception:  # libsndfile refuses anything it does not know; PyAV gets its chance
        return None
    if not 0 < frames < 1 << 62:  # streamed FLAC: libsndfile reports "unknown" as 2**63 - 1 and cannot seek
        return None
    rate = check_rate(rate, path.name)

    def blocks() -> Iterator[np.ndarray]:
        # Not SoundFile.blocks(): it ignores short reads and pads the last block with uninitialised memory
        # when a file holds fewer frames than its header says (a streamed MP3 gave NaN "samples" that way).
        seen, size = 0, block_frames(rate, channels)
        try:
            with sf.SoundFile(str(path)) as handle:
                while len(block := handle.read(size, dtype="float32", always_2d=True)):
                    seen += len(block)
                    yield block
        except sf.LibsndfileError as e:
            raise _corrupt(path.name, seen / rate, e) from None

    declared = None if container == "MP3" else frames / rate  # an MP3 length may be a bitrate estimate: count
    return AudioSource(path.name, rate, channels, declared, blocks, "soundfile")


# ------------------------------------------------------------------------------------------------ PyAV
def _pyav_source(path: Path) -> AudioSource:
    import av

    try:
        container = av.open(str(path), metadata_errors="ignore")
    except av.FFmpegError as e:
        raise _undecodable(path, e) from None
    try:
        if not container.streams.audio:
            raise AudioError(f"{path.name} has no audio stream (is it a video or an image?): give an audio file")
        stream = container.streams.audio[0]
        rate = check_rate(stream.codec_context.sample_rate, path.name)
        channels = stream.codec_context.channels
        declared = _declared_seconds(container, stream)
    finally:
        container.close()

    def blocks() -> Iterator[np.ndarray]:
        frames_per_block, seen, pending, pending_frames = block_frames(rate, channels), 0, [], 0
        try:
            with av.open(str(path), metadata_errors="ignore") as box:
                for frame in box.decode(box.streams.audio[0]):
                    if frame.sample_rate != rate or len(frame.layout.channels) != channels:
                        raise AudioError(
                            f"{path.name} changes from {rate} Hz x {channels} channels to "
                            f"{frame.sample_rate} Hz x {len(frame.layout.channels)} at "
                            f"{seen / rate:.2f} s: {REENCODE_HINT}"
                        )
                    samples = _frame_samples(frame, channels, path.name)
                    pending.append(samples)
                    pending_frames += len(samples)
                    seen += len(samples)
                    if pending_frames >= frames_per_block:
                        yield np.concatenate(pending)
                        pending, pending_frames = [], 0
        except av.FFmpegError as e:
            raise _corrupt(path.name, seen / rate, e) from None
        if pending:
            yield np.concatenate(pending)

    return AudioSource(path.name, rate, channels, declared, blocks, "pyav")


def _frame_samples(frame, channels: int, what: str) -> np.ndarray:
    """(samples, channels) float32 of one decoded frame, planar or interleaved, integer or float."""
    x = frame.to_ndarray()
    x = x.T if frame.format.is_planar else x.reshape(-1, channels)
    return pcm_to_float(x, what)


def _declared_seconds(container, stream) -> Optional[float]:
    """The header's duration where the container format stores one, else None (unknown or only estimated)."""
    if not TRUSTED_DURATION_FORMATS & set(container.format.name.split(",")):
        return None
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


# ------------------------------------------------------------------------------------------------ messages
def _undecodable(path: Path, error: Exception) -> AudioError:
    header = riff_header(path)
    rate = header.sample_rate if header is not None else None
    if rate is not None and not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        return AudioError(
            f"{path.name} is a WAV file whose header declares a sample rate of {rate} Hz, which no "
            f"recording has: the header is damaged; {REENCODE_HINT} from the original"
        )
    detail = getattr(error, "strerror", None) or str(error)
    return AudioError(
        f"{path.name} is not a decodable audio file ({detail}): give a WAV, FLAC, OGG, MP3, M4A or WebM recording"
    )


def _corrupt(name: str, seconds: float, error: Exception) -> AudioError:
    detail = getattr(error, "strerror", None) or str(error)
    return AudioError(
        f"{name} is corrupt: decoding stopped after {seconds:.2f} s ({detail}); "
        f"{REENCODE_HINT} or cut the damaged end off"
    )


@dataclass(frozen=True)
class RiffHeader:
    """What a RIFF/WAVE header declares; a field is None when the header does not say."""

    sample_rate: Optional[int]
    byte_rate: Optional[int]
    data_bytes: Optional[int]  # None for a streamed WAV, whose writer left the size unset

    @property
    def seconds(self) -> Optional[float]:
        """The duration the header promises (data size / bytes per second)."""
        return self.data_bytes / self.byte_rate if self.data_bytes and self.byte_rate else None


def riff_header(path) -> Optional[RiffHeader]:
    """The 'fmt ' and 'data' chunks of a RIFF/WAVE file, from its first 4 KiB (where any sane writer puts
    them); None for any other file.

    Used to explain why neither decoder accepts a WAV (an impossible sample rate) and to tell a truncated
    WAV from a whole one (libsndfile quietly reads what is there)."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    if head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return None
    order, at = ("<" if head[:4] == b"RIFF" else ">"), 12
    rate = byte_rate = None
    while at + 8 <= len(head):
        name, size = head[at : at + 4], struct.unpack(order + "I", head[at + 4 : at + 8])[0]
        if name == b"data":
            return RiffHeader(rate, byte_rate, None if size in (0, 0xFFFFFFFF) else size)
        if name == b"fmt ":
            rate = struct.unpack(order + "I", head[at + 12 : at + 16])[0] if at + 16 <= len(head) else None
            byte_rate = struct.unpack(order + "I", head[at + 16 : at + 20])[0] if at + 20 <= len(head) else None
        at += 8 + size + (size & 1)
    return RiffHeader(rate, byte_rate, None)
    order, at = ("<" if head[:4] == b"RIFF" else ">"), 12
    while at + 8 <= len(head):
        chunk, size = head[at : at + 4], struct.unpack(order + "I", head[at + 4 : at + 8])[0]
        if chunk == b"fmt ":
            return struct.unpack(order + "I", head[at + 12 : at + 16])[0] if at + 16 <= len(head) else None
        at += 8 + size + (size & 1)
    return None
