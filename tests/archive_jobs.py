"""Helpers for the job tests: small recordings, and a job's tables read back through its journal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from panns_core.archive.command import read_job_tables


def write_recordings(folder: Path, n: int, seconds: float = 6.0, rate: int = 32000) -> list:
    """`n` different noisy recordings (each with a louder burst somewhere), as 16-bit WAVs."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        rng = np.random.RandomState(i)
        x = rng.randn(int(seconds * rate)) * 0.02
        at = int(rng.uniform(0, seconds - 1) * rate)
        x[at : at + rate] += np.sin(np.arange(rate) * 2 * np.pi * (300 + 100 * i) / rate) * 0.5
        path = folder / f"rec{i:02d}.wav"
        sf.write(path, x.astype(np.float32), rate, subtype="PCM_16")
        paths.append(path)
    return paths


def run_folders(out: Path) -> list:
    """The settings folders of a job output (one per settings digest)."""
    return sorted(p.parent for p in Path(out).glob("*/journal.sqlite"))


def read_job(out: Path) -> dict:
    """{table: DataFrame without the part column} of the job's only settings folder."""
    (folder,) = run_folders(out)
    return {name: frame.drop(columns=["part"], errors="ignore") for name, frame in read_job_tables(folder).items()}
