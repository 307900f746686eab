"""Shared fixtures: the read-only ../shared data, and random-weight checkpoints in the official format."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
ARTIFACTS = REPO / "test-artifacts"

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("PANNS_OFFLINE", "1")  # nothing in the suite may reach the network
# The Tagger exports ONNX graphs into the cache folder: keep them out of ~/.cache, reused between runs
# (they are keyed by the weights, so a stale one is never used).
os.environ.setdefault("PANNS_CACHE_DIR", str(ARTIFACTS / "cache"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "panns_reference" / "golden.json").exists():
        pytest.fail(f"the shared data folder is missing: expected {SHARED} beside the repository")
    return SHARED


@pytest.fixture(scope="session")
def reference(shared_dir):
    """The PANNs reference helpers (fill_weights, compare) from ../shared/panns_reference."""
    sys.path.insert(0, str(shared_dir / "panns_reference"))
    import compare
    import fill_weights

    return type(
        "Reference",
        (),
        {
            "compare": compare,
            "fill": fill_weights,
            "golden": shared_dir / "panns_reference" / "golden.json",
            "manifest": shared_dir / "panns_reference" / "manifest.json",
            "clip": shared_dir / "audio" / "audioset_samples" / "Y-_2ITXZaxT0.wav",
        },
    )


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# Freshly initialised PANNs models answer 0.5 for every class (their activations die out), which would
# let a test pass whatever the code does. The reference filler gives every weight a real value; the head
# is then scaled so that scores spread around 0.5 (logit std ~0.2-0.6) instead of saturating at 0 or 1.
HEAD_SCALE = 0.002


def write_official_checkpoint(path: Path, arch: str, classes_num: int = 527, seed: int = 0) -> Path:
    """Non-degenerate random weights laid out like the Zenodo files.

    Weights under 'model', numpy sampler state beside.
    """
    sys.path.insert(0, str(SHARED / "panns_reference"))
    from fill_weights import fill_state_dict

    from panns_core import create_model

    model = create_model(arch, classes_num=classes_num)
    fill_state_dict(model, salt=seed + 1)
    with torch.no_grad():
        model.fc_audioset.weight.mul_(HEAD_SCALE)
    rng = np.random.RandomState(seed)
    torch.save(
        {
            "iteration": 600000,
            "model": model.state_dict(),
            "sampler": {
                "indexes_per_class": [np.arange(3) + i for i in range(4)],
                "queue": [1, 2, 3],
                "pointers_of_classes": np.zeros(4, np.int64),
                "random_state": rng.get_state(),
            },
        },
        path,
    )
    return path


@pytest.fixture(scope="session")
def official_checkpoint(tmp_path_factory):
    """official_checkpoint(arch, classes_num=527) -> Path of a random-weight checkpoint in the official format.

    Files are written once per session and named like the released ones (e.g. Cnn14_mAP=0.431.pth).
    """
    root = tmp_path_factory.mktemp("official")
    made = {}

    def make(arch: str, classes_num: int = 527) -> Path:
        key = (arch, classes_num)
        if key not in made:
            from panns_core.weights.catalogue import PRETRAINED

            name = (
                PRETRAINED[arch].filename if arch in PRETRAINED and classes_num == 527 else f"{arch}_{classes_num}.pth"
            )
            folder = root / f"{arch}_{classes_num}"
            folder.mkdir()
            made[key] = write_official_checkpoint(folder / name, arch, classes_num)
        return made[key]

    return make


def plant(official: Path, out: Path, planted: dict) -> Path:
    """Copy an official-format checkpoint with its output biases set so that `planted` classes win
    (every other class gets -8, a score of 0.0003): tests can then follow known labels end to end."""
    from panns_core.labels.sets import AUDIOSET
    from panns_core.weights.checkpoints import read_checkpoint

    state = read_checkpoint(official)["model"]
    state["fc_audioset.bias"].fill_(-8.0)
    for mid, value in planted.items():
        state["fc_audioset.bias"][AUDIOSET.index_of(mid)] = value
    torch.save({"model": state}, out)
    return out


@pytest.fixture(scope="session")
def planted_mobilenet(official_checkpoint, tmp_path_factory) -> Path:
    """A random MobileNetV1 in the official format whose scores put Bark first and Cat second."""
    return plant(
        official_checkpoint("MobileNetV1"),
        tmp_path_factory.mktemp("planted") / "animal_mobilenet.pth",
        {"/m/05tny_": 8.0, "/m/01yrx": 3.0},
    )


def run_tag_cli(*args, timeout: float = 300) -> subprocess.CompletedProcess:
    """`python -m panns_core tag ARGS...` in a fresh process, as a user runs it; output captured as text."""
    argv = [sys.executable, "-m", "panns_core", "tag", *map(str, args)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
