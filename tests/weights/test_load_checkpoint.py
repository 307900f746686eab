"""What `load_checkpoint` hands back, field by field: the audio settings, labels, file, release and config it
found, and what it passed on (progress, map_location, the file name for the error messages). Written against
the survivors of a mutation run. The model is a two-weight stand-in: building a real one costs seconds, and
these tests run hundreds of times under mutation testing."""

import os
import re
from dataclasses import replace

import pytest
import torch

from panns_core import CheckpointError
from panns_core.config import AudioConfig
from panns_core.labels.sets import from_classes
from panns_core.weights import checkpoints
from panns_core.weights.catalogue import PRETRAINED
from panns_core.weights.checkpoints import (
    check_state_dict,
    load_checkpoint,
    split_checkpoint,
)
from panns_core.weights.sources import ResolvedSource

UNDER_MUTMUT = "MUTANT_UNDER_TEST" in os.environ  # mutmut's trampoline adds a frame between caller and callee
CUSTOM_AUDIO = AudioConfig(sample_rate=16000, window_size=512, hop_size=160, mel_bins=32, fmin=20, fmax=7000)


class Stand(torch.nn.Module):
    """Records how load_checkpoint built it."""

    def __init__(self, arch: str, classes_num: int, **audio):
        super().__init__()
        self.arch_name, self.classes_num, self.audio = arch, classes_num, AudioConfig(**audio)
        self.fc_audioset = torch.nn.Linear(2, classes_num)

    def reset_head(self, labels):
        self.new_labels = labels
        return self


@pytest.fixture
def calls(monkeypatch):
    """Stand in for the real model, and record what resolve_source and read_checkpoint were given."""
    seen = {}

    def resolve(source, progress=True, **kw):
        seen["progress"] = progress
        return resolve_source(source, progress=progress, **kw)

    def read(path, map_location=None):
        seen["map_location"] = map_location
        return read_checkpoint(path, map_location)

    resolve_source, read_checkpoint = checkpoints.resolve_source, checkpoints.read_checkpoint
    monkeypatch.setattr(checkpoints, "resolve_source", resolve)
    monkeypatch.setattr(checkpoints, "read_checkpoint", read)
    monkeypatch.setattr(
        checkpoints, "create_model", lambda arch, classes_num, **audio: Stand(arch, classes_num, **audio)
    )
    return seen


def head(classes: int) -> dict:
    return {
        "fc_audioset.weight": torch.arange(classes * 2.0).reshape(classes, 2),
        "fc_audioset.bias": torch.arange(float(classes)),
    }


def test_our_file_gives_back_its_audio_labels_config_and_path(tmp_path, calls):
    config = {
        "arch": "MobileNetV1",
        "labels": {"mids": ["/m/a", "/m/b", "/m/c"], "names": ["A", "B", "C"]},
        "audio": CUSTOM_AUDIO.to_dict(),
    }
    path = tmp_path / "birds.pth"
    torch.save({"model": head(3), "config": config, "iteration": 7}, path)
    loaded = load_checkpoint(path)
    assert loaded.audio == CUSTOM_AUDIO and loaded.model.audio == CUSTOM_AUDIO  # the file's settings, not 32 kHz
    assert loaded.head_labels.names == ("A", "B", "C")
    assert loaded.path == path and loaded.weights is None and loaded.config == config and loaded.iteration == 7
    assert torch.equal(loaded.model.fc_audioset.weight, head(3)["fc_audioset.weight"])
    assert not loaded.model.training
    assert calls == {"progress": True, "map_location": "cpu"}  # the defaults: a progress bar, tensors on the CPU

    def keep(storage, _location):
        return storage

    load_checkpoint(path, progress=False, map_location=keep)
    assert calls == {"progress": False, "map_location": keep}


def test_a_bare_state_dict_is_named_by_its_file_and_labelled_by_the_caller(tmp_path, calls):
    path = tmp_path / "MobileNetV1_run3.pth"  # nothing in the weights says MobileNetV1: only the file name does
    torch.save(head(3), path)
    mine = from_classes("mine", ["x", "y", "z"])
    loaded = load_checkpoint(path, head_labels=mine)
    assert loaded.arch == "MobileNetV1" and loaded.head_labels is mine and loaded.audio == AudioConfig()
    with pytest.warns(UserWarning, match=rf"^{re.escape(str(path))} predicts 3 classes, which match no known"):
        unnamed = load_checkpoint(path)
    assert unnamed.head_labels.names == ("class_0", "class_1", "class_2")


def test_a_release_gives_its_architecture_and_audio_settings(tmp_path, calls, monkeypatch):
    release = replace(PRETRAINED["MobileNetV1"], audio=CUSTOM_AUDIO)
    path = tmp_path / "downloaded.pth"  # neither the name nor the layout says the architecture: the release does
    torch.save({"model": head(527)}, path)
    monkeypatch.setattr(checkpoints, "resolve_source", lambda source, progress=True: ResolvedSource("x", path, release))
    loaded = load_checkpoint("MobileNetV1")
    assert loaded.arch == "MobileNetV1" and loaded.weights is release and loaded.path == path
    assert loaded.audio == CUSTOM_AUDIO and loaded.model.audio == CUSTOM_AUDIO
    assert loaded.config == {}


def test_a_file_that_does_not_fit_is_named_in_the_error(tmp_path, calls):
    path = tmp_path / "MobileNetV1_wrong.pth"
    torch.save({"fc_audioset.weight": torch.zeros(3, 5), "fc_audioset.bias": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(path)
    assert str(err.value).startswith(f"{path} does not fit MobileNetV1: 1 shape mismatches (e.g. fc_audioset.weight")


def test_shape_mismatches_are_counted_in_full_but_three_are_shown():
    model = torch.nn.Sequential(*(torch.nn.Linear(2, 2, bias=False) for _ in range(5)))
    model.arch_name = "Five"
    state = {f"{i}.weight": torch.zeros(3, 3) for i in range(5)}
    with pytest.raises(CheckpointError) as err:
        check_state_dict(model, state, "f.pth")
    shown = "; ".join(f"{i}.weight: file (3, 3) vs model (2, 2)" for i in range(3))
    assert str(err.value) == f"f.pth does not fit Five: 5 shape mismatches (e.g. {shown})"


def test_an_unnamed_source_is_called_checkpoint():
    with pytest.raises(CheckpointError, match=r"^checkpoint has no state dict of tensors"):
        split_checkpoint({"model": {}})
