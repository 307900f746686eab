"""The embeddings cache: a second run never touches the model; a changed file, span or weights runs it again."""

from __future__ import annotations

import os

import numpy as np
import pytest

from panns_core.own_labels.embeddings import clip_features
from panns_core.own_labels.manifest import read_manifest
from tests.own_labels.conftest import write_manifest


@pytest.mark.slow
def test_second_run_skips_the_model(tmp_path, esc10, tagger, monkeypatch):
    files = []
    for i, (path, mid, rec) in enumerate(esc10[:3]):
        copy = tmp_path / f"clip{i}.ogg"
        copy.write_bytes(path.read_bytes())
        files.append((copy.name, mid, rec))
    rows = [(*row, "", "") for row in files] + [(files[0][0], files[0][1], "x", "1", "3")]  # a 2-s span
    manifest = read_manifest(write_manifest(tmp_path / "m.csv", rows, ("path", "labels", "group", "start", "end")))
    calls = []
    real = tagger._forward
    monkeypatch.setattr(tagger, "_forward", lambda batch: calls.append(len(batch)) or real(batch))
    cache = tmp_path / "cache"
    first = clip_features(tagger, manifest.clips, cache=cache)
    assert first.computed == 4 and len(calls) == 4
    # the span is scored on its own 2 s, not the whole file
    assert not np.allclose(first.embeddings[3], first.embeddings[0])
    assert first.embeddings.shape == (4, 1024) and first.scores.shape == (4, len(tagger.labels))

    calls.clear()
    second = clip_features(tagger, manifest.clips, cache=cache)
    assert second.computed == 0 and calls == []
    np.testing.assert_array_equal(second.embeddings, first.embeddings)
    np.testing.assert_array_equal(second.scores, first.scores)

    os.utime(tmp_path / "clip1.ogg", ns=(1, 1))  # an edited file (same size, other time) is scored again
    third = clip_features(tagger, manifest.clips, cache=cache)
    assert third.computed == 1 and len(calls) == 1
