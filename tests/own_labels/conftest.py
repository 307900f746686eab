"""Manifests of the shared ESC-10 dog and rooster recordings, and one MobileNetV1 tagger for the folder."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

DOG, ROOSTER, CAT = "/m/0bt9lr", "/m/09b5t", "/m/01yrx"


def shared_rows(shared_dir: Path) -> list:
    with open(shared_dir / "audio" / "animal_clips" / "manifest.csv", newline="") as f:
        return list(csv.DictReader(f))


def recording_of(file: str) -> str:
    """ESC-10's 'dog_bark_1-100032-A.ogg' -> '1-100032': the takes of one Freesound recording share it."""
    return Path(file).stem.split("_")[-1].rsplit("-", 1)[0]


def write_manifest(path: Path, rows: list, header=("path", "labels", "group")) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="session")
def esc10(shared_dir):
    """(path, mid, recording) of the 40 dog and 40 rooster ESC-10 clips, in the shared manifest's order."""
    root = shared_dir / "audio" / "animal_clips"
    return [
        (root / r["file"], r["audioset_mid_guess"], recording_of(r["file"]))
        for r in shared_rows(shared_dir)
        if r["collection"] == "esc10"
    ]


@pytest.fixture(scope="session")
def cats(shared_dir):
    """The shared game-sound cat clips (too few to calibrate on)."""
    root = shared_dir / "audio" / "animal_clips"
    return [root / r["file"] for r in shared_rows(shared_dir) if r["audioset_mid_guess"] == CAT]


@pytest.fixture(scope="session")
def mobilenet(official_checkpoint):
    return official_checkpoint("MobileNetV1")


@pytest.fixture(scope="session")
def tagger(mobilenet):
    from panns_core.inference.tagger import Tagger

    return Tagger.from_pretrained(mobilenet, progress=False)


@pytest.fixture(scope="session")
def embeddings_cache(tmp_path_factory):
    """One embeddings cache for the folder's tests, so each clip runs through the model once per session."""
    return tmp_path_factory.mktemp("embeddings")
