"""Fetchers: how one segment's audio is obtained, as a 32 kHz mono 16-bit WAV at a given path.

A fetcher is any callable `fetch(segment, dest)`, where `segment` has `ytid`, `start_seconds` and
`end_seconds`; it writes `dest` or raises FetchError saying why (video gone, not in the mirror,
undecodable). The fetch stage does the rest (workers, resuming, the failure log), so a new
source of audio only needs a new fetcher. Two are built in:

- YtDlpFetcher: YouTube through yt-dlp (stream address) and ffmpeg (cut, downmix, resample).
- LocalFetcher: a local mirror of already-cut clips in any format, e.g. a colleague's download;
  the tests use it to run the stage offline on real recordings.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from panns_core.audio.load import load_audio
from panns_core.config import AudioConfig
from panns_core.errors import AudioError, PannsError

SAMPLE_RATE = AudioConfig.sample_rate  # clips are stored at the models' rate


class FetchError(PannsError, RuntimeError):
    """One segment could not be fetched; the fetch stage logs it and carries on."""


class ToolMissingError(PannsError, RuntimeError):
    """yt-dlp or ffmpeg is not installed: nothing can be fetched, so the stage stops at once."""


def write_wav(path: Path, waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    sf.write(str(path), np.clip(waveform, -1.0, 1.0), sample_rate, subtype="PCM_16", format="WAV")


class YtDlpFetcher:
    def __init__(self, timeout: float = 180.0):
        self.timeout = timeout
        if shutil.which("ffmpeg") is None:
            raise ToolMissingError("ffmpeg is not installed (apt-get install ffmpeg)")
        if shutil.which("yt-dlp"):
            self.yt_dlp = ["yt-dlp"]
        else:
            probe = subprocess.run([sys.executable, "-m", "yt_dlp", "--version"], capture_output=True)
            if probe.returncode != 0:
                raise ToolMissingError("yt-dlp is not installed (pip install yt-dlp)")
            self.yt_dlp = [sys.executable, "-m", "yt_dlp"]

    def _run(self, command: list, what: str) -> str:
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise FetchError(f"{what} timed out after {self.timeout:.0f} s") from None
        if done.returncode != 0:
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
            raise FetchError(f"{what} failed: {lines[-1] if lines else 'exit code ' + str(done.returncode)}")
        return done.stdout

    def __call__(self, segment, dest: Path) -> None:
        url = f"https://www.youtube.com/watch?v={segment.ytid}"
        stream = (
            self._run(
                [*self.yt_dlp, "--no-playlist", "--quiet", "--no-warnings", "-f", "bestaudio/best", "--get-url", url],
                "yt-dlp",
            )
            .strip()
            .splitlines()
        )
        if not stream:
            raise FetchError("yt-dlp gave no stream address")
        duration = segment.end_seconds - segment.start_seconds
        self._run(
            [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-ss",
                f"{segment.start_seconds:.3f}",
                "-i",
                stream[0],
                "-t",
                f"{duration:.3f}",
                "-vn",
                "-ac",
                "1",
                "-ar",
                str(SAMPLE_RATE),
                "-c:a",
                "pcm_s16le",
                "-f",
                "wav",
                str(dest),
            ],
            "ffmpeg",
        )
        if not dest.is_file() or dest.stat().st_size <= 44:  # a bare WAV header: the cut held no audio
            raise FetchError("ffmpeg wrote no audio (segment outside the video?)")


class LocalFetcher:
    """Clips from a folder whose files are named `Y<ytid>.<ext>` or `<ytid>.<ext>` (any audio format)."""

    def __init__(self, mirror):
        self.mirror = Path(mirror)
        if not self.mirror.is_dir():
            raise ToolMissingError(f"mirror folder {self.mirror} does not exist")
        self.files = {}
        for path in sorted(self.mirror.iterdir()):
            self.files.setdefault(path.stem, path)

    def __call__(self, segment, dest: Path) -> None:
        source = self.files.get(f"Y{segment.ytid}") or self.files.get(segment.ytid)
        if source is None:
            raise FetchError("not in the mirror")
        try:
            waveform = load_audio(source, SAMPLE_RATE)
        except AudioError as exc:
            raise FetchError(str(exc)) from None
        write_wav(dest, waveform[: int(SAMPLE_RATE * (segment.end_seconds - segment.start_seconds))])
