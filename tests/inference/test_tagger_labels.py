"""Tagger options whose bugs would be quiet: bf16 must track fp32 closely (tighter than the scores' own
spread), and `consistent=True` must lift each parent to its best descendant on the real ontology while
leaving every other score alone."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from panns_core import Tagger
from panns_core.config import AudioConfig
from panns_core.labels.sets import ANIMAL


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p.astype(np.float64), 1e-7, 1 - 1e-7)
    return np.log(p / (1 - p))


def clips(shared_dir) -> list:
    """Six different sounds, 2 s each: real animal recordings, noise and a tone."""
    folder = shared_dir / "audio" / "animal_clips" / "esc10" / "audio"
    out = []
    for path in sorted(folder.glob("*.ogg"))[::8][:4]:
        wave, sr = sf.read(str(path), dtype="float32")
        assert sr in (44100, 32000)
        out.append((wave if wave.ndim == 1 else wave.mean(1), sr))
    t = np.arange(64000) / 32000
    out.append(((np.random.RandomState(0).randn(64000) * 0.1).astype(np.float32), 32000))
    out.append(((0.4 * np.sin(2 * np.pi * 880 * t)).astype(np.float32), 32000))
    return out


def test_bf16_tracks_fp32_within_a_fraction_of_the_scores_spread(shared_dir, official_checkpoint):
    exact = Tagger.from_pretrained(str(official_checkpoint("MobileNetV1")), device="cpu")
    fast = Tagger(exact.model, precision="bf16", device="cpu")
    a = np.stack([exact.predict(w, sr).scores for w, sr in clips(shared_dir)])  # (clips, 65)
    b = np.stack([fast.predict(w, sr).scores for w, sr in clips(shared_dir)])
    la, lb = logit(a), logit(b)
    spread = la.std()
    assert spread > 0.1  # the scores themselves differ: a real comparison
    assert np.abs(la - lb).max() < 0.1 * spread  # a constant answer would be off by ~spread
    assert np.corrcoef(la.ravel(), lb.ravel())[0, 1] > 0.99
    # per clip, bf16 ranks the classes like fp32 (what a user reads from top())
    for x, y in zip(la, lb):
        assert np.corrcoef(np.argsort(np.argsort(x)), np.argsort(np.argsort(y)))[0, 1] > 0.95
    assert not np.array_equal(a, b)  # and bf16 really ran in reduced precision


def ontology_pairs(shared_dir) -> dict:
    """parent mid -> every descendant mid in the animal set, walked here from the official ontology.json."""
    entries = {e["id"]: e for e in json.loads((shared_dir / "audioset" / "ontology.json").read_text())}
    members = set(ANIMAL.mids)
    below = {}
    for mid in ANIMAL.mids:
        found, stack = set(), list(entries[mid]["child_ids"])
        while stack:
            child = stack.pop()
            if child not in found:
                found.add(child)
                stack += entries[child]["child_ids"]
        below[mid] = found & members
    return below


class ClassProbe(torch.nn.Module):
    """Scores with a known, uneven pattern: children often beat their parents. framewise too."""

    classes_num = len(ANIMAL)
    arch_name = "ClassProbe"

    def __init__(self):
        super().__init__()
        self.audio = AudioConfig()
        rng = np.random.RandomState(7)
        self.a = torch.from_numpy(rng.uniform(-4, 4, self.classes_num).astype(np.float32))
        self.c = torch.from_numpy(rng.uniform(-3, 3, self.classes_num).astype(np.float32))

    def pad_short(self, x):
        return x

    def forward(self, x):  # (batch, samples)
        frames = 1 + x.shape[1] // 320
        energy = torch.nn.functional.pad(x.abs(), (0, frames * 320 - x.shape[1])).view(len(x), frames, 320).mean(-1)
        framewise = torch.sigmoid(self.a * energy[..., None] * 10 + self.c)  # (batch, frames, 65)
        return {"clipwise_output": framewise.amax(1), "embedding": energy[:, :4], "framewise_output": framewise}


def test_consistent_scores_lift_parents_on_real_pairs_and_leave_the_rest(shared_dir):
    below = ontology_pairs(shared_dir)
    pairs = [(p, c) for p, cs in below.items() for c in cs]
    assert len(pairs) > 60 and ("/m/0bt9lr", "/m/05tny_") in pairs  # Dog > Bark among them
    wave = (np.random.RandomState(1).randn(32000 * 5) * np.linspace(0, 0.3, 32000 * 5)).astype(np.float32)
    raw = Tagger(ClassProbe(), window_seconds=2.0, device="cpu").predict(wave, 32000)
    lifted = Tagger(ClassProbe(), window_seconds=2.0, device="cpu", consistent=True).predict(wave, 32000)
    for field in ("timeline", "framewise"):
        r, c = getattr(raw, field), getattr(lifted, field)
        idx = {m: i for i, m in enumerate(ANIMAL.mids)}
        expected = r.copy()
        for mid, kids in below.items():
            if kids:
                expected[..., idx[mid]] = np.maximum(r[..., idx[mid]], r[..., [idx[k] for k in kids]].max(-1))
        np.testing.assert_allclose(c, expected, rtol=0, atol=0)
        for parent, child in pairs:
            assert (c[..., idx[parent]] >= c[..., idx[child]]).all(), (field, parent, child)
        leaves = [idx[m] for m, kids in below.items() if not kids]
        np.testing.assert_array_equal(c[..., leaves], r[..., leaves])  # unchanged where no child is in the set
        assert (c != r).any()  # the probe's raw scores broke the hierarchy somewhere: the lift did something
    np.testing.assert_array_equal(lifted.scores, lifted.timeline.max(0))
    np.testing.assert_array_equal(raw.embedding, lifted.embedding)


def test_consistent_top_list_puts_parents_above_the_planted_child(planted_mobilenet):
    """A model that says Bark (8.0) and Cat (3.0): consistent tags show Dog and Animal at least as high."""
    wave = (np.random.RandomState(2).randn(32000) * 0.1).astype(np.float32)
    raw = Tagger.from_pretrained(str(planted_mobilenet), device="cpu").predict(wave, 32000)
    tagged = Tagger.from_pretrained(str(planted_mobilenet), device="cpu", consistent=True).predict(wave, 32000)
    bark, cat = ANIMAL.index_of("/m/05tny_"), ANIMAL.index_of("/m/01yrx")
    for parent in ("/m/0bt9lr", "/m/068hy", "/m/0jbk"):  # Dog, Domestic animals, Animal
        assert tagged.scores[ANIMAL.index_of(parent)] >= raw.scores[bark] > 0.99
    assert tagged.scores[bark] == raw.scores[bark] and tagged.scores[cat] == raw.scores[cat]
    assert {mid for _, mid, _ in tagged.top(5)} >= {"/m/05tny_", "/m/0bt9lr", "/m/068hy", "/m/0jbk"}
    assert raw.scores[ANIMAL.index_of("/m/0bt9lr")] < 0.01  # the raw model did not say Dog


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_tagger_matches_cpu_and_its_bf16_tracks_fp32(shared_dir, official_checkpoint):
    """On a GPU machine this asserts: the same scores as on CPU, and bf16 autocast on CUDA within the bound above."""
    path = str(official_checkpoint("MobileNetV1"))
    cpu = Tagger.from_pretrained(path, device="cpu")
    gpu = Tagger.from_pretrained(path, device="cuda")
    gpu16 = Tagger.from_pretrained(path, device="cuda", precision="bf16")
    assert gpu.device.type == "cuda"
    a = np.stack([cpu.predict(w, sr).scores for w, sr in clips(shared_dir)])
    b = np.stack([gpu.predict(w, sr).scores for w, sr in clips(shared_dir)])
    c = np.stack([gpu16.predict(w, sr).scores for w, sr in clips(shared_dir)])
    np.testing.assert_allclose(b, a, atol=1e-4)
    assert np.abs(logit(c) - logit(b)).max() < 0.1 * logit(b).std()
