"""check_ready: "is this checkpoint usable offline, and if not, how to get it", the one answer front ends ask for."""

import dataclasses
import hashlib

import pytest

from panns_core.weights.catalogue import PRETRAINED
from panns_core.weights.sources import check_ready


@pytest.fixture(autouse=True)
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PANNS_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("PANNS_OFFLINE", raising=False)
    return tmp_path / "cache"


def test_a_missing_release_says_the_command_and_can_be_fetched_unless_offline(monkeypatch):
    readiness = check_ready("MobileNetV1")
    assert not readiness.ready and readiness.fetchable
    assert "python -m panns_core download MobileNetV1" in readiness.how_to_get
    monkeypatch.setenv("PANNS_OFFLINE", "1")
    offline = check_ready("MobileNetV1")
    assert not offline.fetchable and "PANNS_OFFLINE=1" in offline.how_to_get


def test_a_cached_release_is_ready_only_with_the_published_checksum(empty_cache, monkeypatch):
    content = b"released bytes"
    entry = dataclasses.replace(
        PRETRAINED["MobileNetV1"], size=len(content), md5=None, sha256=hashlib.sha256(content).hexdigest()
    )
    monkeypatch.setitem(PRETRAINED, "MobileNetV1", entry)
    empty_cache.mkdir()
    cached = empty_cache / entry.filename
    cached.write_bytes(b"released bytez")
    bad = check_ready("MobileNetV1")
    assert not bad.ready and "sha256" in bad.reason and f"Delete {cached}" in bad.how_to_get
    cached.write_bytes(content)
    good = check_ready("MobileNetV1")
    assert good.ready and good.path == cached and good.how_to_get == ""


def test_local_files_are_ready_when_they_exist_and_never_fetchable(tmp_path):
    here = tmp_path / "mine.pth"
    here.write_bytes(b"x")
    assert check_ready(str(here)).ready and not check_ready(str(here)).fetchable
    gone = check_ready(str(tmp_path / "gone.pth"))
    assert not gone.ready and not gone.fetchable and "existing checkpoint file" in gone.how_to_get
