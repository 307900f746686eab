"""Clip scores and embeddings of a manifest's clips, cached on disk so a refit or a new target is instant.

Running the model is the whole cost of calibrating or fitting a probe; the fitting itself takes seconds.
Each clip's result is kept in one small .npz named by a key of everything it depends on: the file (path,
size, modification time), the span, the weights' digest, the classes reported and the window settings.
Change any of them and the clip is scored again; nothing is ever reused for other weights.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from panns_core.audio.load import load_audio
from panns_core.errors import AudioError, PannsError
from panns_core.inference.heads import weights_digest
from panns_core.own_labels.manifest import Clip, raise_problems
from panns_core.weights.cache import cache_dir


def default_cache() -> Path:
    return cache_dir() / "embeddings"


@dataclass
class ClipFeatures:
    """Scores and embeddings of clips, row i for clip i."""

    scores: np.ndarray  # (clips, classes) in `labels` order
    embeddings: np.ndarray  # (clips, embedding_size)
    labels: object  # the Tagger's reported LabelSet
    weights_digest: str
    computed: int  # clips the model had to run on (the rest came from the cache)


def clip_key(clip: Clip, digest: str, tagger) -> str:
    stat = clip.path.stat()
    parts = [
        str(clip.path),
        stat.st_size,
        stat.st_mtime_ns,
        clip.start,
        clip.end,
        digest,
        hashlib.sha256("\n".join(tagger.labels.mids).encode()).hexdigest()[:16],
        tagger.window,
        tagger.hop,
        tagger.consistent,
    ]
    return hashlib.sha256(json.dumps(parts).encode("utf-8")).hexdigest()


def run_clip(tagger, clip: Clip):
    """The Tagger's result for a clip, or for its span of a longer file."""
    if clip.start is None and clip.end is None:
        return tagger.predict_file(clip.path)
    wave = load_audio(clip.path, tagger.sample_rate)
    first = round((clip.start or 0.0) * tagger.sample_rate)
    last = len(wave) if clip.end is None else round(clip.end * tagger.sample_rate)
    if first >= len(wave):
        raise AudioError(f"starts at {clip.start:g} s, but the file lasts {len(wave) / tagger.sample_rate:.2f} s")
    return tagger.predict(wave[first:last], tagger.sample_rate)


def clip_features(tagger, clips: Sequence[Clip], cache: Optional[Path] = None, progress: bool = False) -> ClipFeatures:
    """Scores and embeddings of every clip, from the cache where it has them; clips that fail are all named
    (with their manifest lines) in one error after the others are computed and cached."""
    from tqdm.auto import tqdm

    cache = Path(cache) if cache is not None else default_cache()
    digest = weights_digest(tagger.model)
    scores, embeddings, problems, computed = [], [], [], 0
    for clip in tqdm(clips, desc="embedding", unit="clip", disable=not progress):
        file = cache / (clip_key(clip, digest, tagger) + ".npz")
        if file.is_file():
            with np.load(file) as stored:
                scores.append(stored["scores"])
                embeddings.append(stored["embedding"])
            continue
        try:
            result = run_clip(tagger, clip)
        except PannsError as e:
            problems.append(f"line {clip.line}: {clip.written}: {e}")
            continue
        computed += 1
        scores.append(result.scores.astype(np.float32))
        embeddings.append(result.embedding.astype(np.float32))
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(f".{os.getpid()}.tmp.npz")
        np.savez(tmp, scores=scores[-1], embedding=embeddings[-1])
        os.replace(tmp, file)  # a killed run leaves no half-written entry
    raise_problems("the manifest's clips", problems)
    return ClipFeatures(np.stack(scores), np.stack(embeddings), tagger.labels, digest, computed)
