"""The model picker: which checkpoints it offers, when each is ready, and what it says when one is not."""

import dataclasses
import hashlib
import os

import pytest

from demo.models import (
    DemoConfigError,
    ModelChoice,
    compare_keys,
    fetch,
    how_to_get,
    is_ready,
    list_choices,
)
from panns_core.errors import CheckpointError, PannsError, WeightsUnavailableError
from panns_core.weights.catalogue import PRETRAINED


def test_every_released_checkpoint_is_offered_default_first():
    choices = list_choices("ResNet38")
    assert next(c.key for c in choices) == "ResNet38"
    assert {c.key for c in choices} == set(PRETRAINED)
    cnn14 = next(c for c in choices if c.key == "Cnn14")
    assert cnn14.pretrained and "65 animal classes" in cnn14.about
    # The published mAP is over all 527 classes, not the 65 animal ones the page shows: the label says so.
    assert "mAP 0.431 on all 527 AudioSet classes" in cnn14.label


def test_a_local_checkpoint_comes_first_with_its_architecture(tmp_path):
    path = tmp_path / "animal.pth"
    first = list_choices("Cnn14", str(path), "MobileNetV1")[0]
    assert (first.key, first.source, first.arch, first.pretrained) == (f"local:{path}", str(path), "MobileNetV1", False)
    assert "animal.pth" in first.label and "MobileNetV1" in first.label


def test_unknown_default_checkpoint_is_a_package_error_with_the_known_names():
    with pytest.raises(DemoConfigError, match="--default-checkpoint 'Cnn15'.*Cnn14") as err:
        list_choices("Cnn15")
    assert isinstance(err.value, PannsError)  # library code never exits: demo/app.py decides


def test_a_released_name_as_checkpoint_is_that_entry_first_and_owner_repo_is_the_hub():
    choices = list_choices("Cnn14", "MobileNetV1")
    assert [c.key for c in choices][:2] == ["MobileNetV1", "Cnn14"] and len(choices) == len(PRETRAINED)
    hub = list_choices("Cnn14", "someone/panns-animal", "Cnn14")[0]
    assert hub.source == "hf://someone/panns-animal/model.pth" and not hub.pretrained


def test_compare_runs_the_named_models_and_the_given_checkpoint(tmp_path):
    path = str(tmp_path / "animal.pth")
    choices = list_choices("Cnn14", path, "MobileNetV1")
    assert compare_keys(("Cnn14", "ResNet38"), choices, path) == ["Cnn14", "ResNet38", f"local:{path}"]
    assert compare_keys(("Cnn14",), list_choices("Cnn14", "Cnn14"), "Cnn14") == ["Cnn14"]  # not twice
    with pytest.raises(DemoConfigError, match="--compare 'Cnn99'"):
        compare_keys(("Cnn99",), choices, None)


def test_readiness_follows_the_files_and_their_checksums(tmp_path, monkeypatch):
    """Ready means what a load would find: a cached file with the wrong checksum is not ready, and the
    page says why and how to replace it (fetching again would keep the bad file)."""
    monkeypatch.setenv("PANNS_CACHE_DIR", str(tmp_path))
    cnn14 = next(c for c in list_choices("Cnn14") if c.key == "Cnn14")
    assert not is_ready(cnn14)
    cached = tmp_path / PRETRAINED["Cnn14"].filename
    cached.write_bytes(b"placeholder")
    assert not is_ready(cnn14)
    text = how_to_get(cnn14)
    assert "expected 327,428,481" in text and f"Delete {cached}" in text and "download Cnn14" in text
    # the same bytes, published as the release: ready
    content = b"placeholder"
    entry = dataclasses.replace(
        PRETRAINED["Cnn14"], size=len(content), sha256=hashlib.sha256(content).hexdigest(), md5=None
    )
    monkeypatch.setitem(PRETRAINED, "Cnn14", entry)
    assert is_ready(cnn14)
    cached.write_bytes(b"placeholdeR")  # same size, another file: the checksum catches it
    os.utime(cached, ns=(1, 1))  # a new mtime for sure, so the verified stamp of the first file no longer fits
    assert not is_ready(cnn14) and "sha256" in how_to_get(cnn14)

    local = ModelChoice("local:x", "x", "", str(tmp_path / "missing.pth"))
    assert not is_ready(local) and "does not exist" in how_to_get(local)
    with pytest.raises(WeightsUnavailableError):
        fetch(local)


def test_hub_checkpoint_offline_is_not_ready_and_says_so(monkeypatch):
    monkeypatch.setenv("PANNS_OFFLINE", "1")
    hub = list_choices("Cnn14", "hf://someone/panns-animal/Cnn14_animal.pth", "Cnn14")[0]
    assert not is_ready(hub)
    with pytest.raises(WeightsUnavailableError, match="hf://someone/panns-animal/Cnn14_animal.pth"):
        fetch(hub)
    assert "Hugging Face Hub" in how_to_get(hub)


def test_malformed_hub_address_is_refused():
    with pytest.raises(CheckpointError, match="hf://owner/repo/file.pth"):
        fetch(ModelChoice("local:hf", "hf", "", "hf://only-an-owner"))
