"""The balanced sampler: every class visited in turn, seeded, and exactly resumable."""

import itertools

import numpy as np
import pytest
import torch

from panns_core.training.sampler import BalancedSampler, ShuffleSampler


def _skewed_targets(seed=0, clips=400, classes=10):
    """One very common class, a few rare ones (3 clips), one empty: AudioSet's shape in small."""
    rng = np.random.default_rng(seed)
    targets = np.zeros((clips, classes), dtype=bool)
    targets[:, 0] = rng.random(clips) < 0.9
    for k in range(1, classes - 1):
        rows = rng.choice(clips, size=3 if k < 4 else 40, replace=False)
        targets[rows, k] = True
    return targets  # class classes-1 has no clip


def _take(sampler, n):
    return [list(b) for b in itertools.islice(iter(sampler), n)]


def test_every_class_is_visited_equally_and_empty_classes_reported():
    targets = _skewed_targets()
    sampler = BalancedSampler(targets, batch_size=9, seed=1)
    assert sampler.missing_classes == [9]
    clips = [i for b in _take(sampler, 20) for i in b]  # 180 draws = 20 visits to each of 9 classes
    hits = targets[clips].sum(axis=0)
    # Each class is visited exactly 20 times; co-labels (mostly class 0) only add to the count.
    assert (hits[:9] >= 20).all() and hits[9] == 0
    # Drawn uniformly, the 3-clip classes would get about 180 * 3 / 400 < 2 hits.
    assert hits[1:4].min() >= 20


def test_classes_visited_in_turn():
    targets = np.eye(5, dtype=bool).repeat(4, axis=0)  # 20 clips, 4 per class, one label each
    sampler = BalancedSampler(targets, batch_size=5, seed=0)
    for batch in _take(sampler, 8):
        assert sorted(targets[batch].argmax(axis=1)) == [0, 1, 2, 3, 4]


def test_clips_of_a_class_are_all_used_before_any_repeats():
    targets = np.eye(2, dtype=bool).repeat([7, 3], axis=0)
    sampler = BalancedSampler(targets, batch_size=2, seed=3)
    firsts = [i for b in _take(sampler, 7) for i in b]
    class0 = [i for i in firsts if i < 7]
    assert sorted(class0) == list(range(7))


def test_seeded():
    targets = _skewed_targets()
    a = _take(BalancedSampler(targets, batch_size=8, seed=5), 30)
    b = _take(BalancedSampler(targets, batch_size=8, seed=5), 30)
    c = _take(BalancedSampler(targets, batch_size=8, seed=6), 30)
    assert a == b and a != c


@pytest.mark.parametrize(
    "make",
    [
        lambda: BalancedSampler(_skewed_targets(), batch_size=8, seed=2),
        lambda: ShuffleSampler(50, batch_size=8, seed=2),
    ],
)
def test_state_round_trip_gives_the_same_following_batches(make, tmp_path):
    reference = _take(make(), 40)

    first = make()
    stream = iter(first)
    seen = [next(stream) for _ in range(25)]  # a prefetching loader runs ahead of the training loop...
    state = first.state_after(17)  # ...which trained on 17 batches when it checkpointed
    assert seen[:17] == reference[:17]
    torch.save({"sampler": state}, tmp_path / "ckpt.pth")
    loaded = torch.load(tmp_path / "ckpt.pth", weights_only=True)["sampler"]

    resumed = make()
    resumed.load_state_dict(loaded)
    assert _take(resumed, 23) == reference[17:]


def test_ranks_split_each_global_batch_into_disjoint_contiguous_parts():
    targets = _skewed_targets()
    whole = _take(BalancedSampler(targets, batch_size=8, seed=4), 5)
    parts = [_take(BalancedSampler(targets, batch_size=8, seed=4, rank=r, world_size=2), 5) for r in range(2)]
    for k in range(5):
        assert parts[0][k] + parts[1][k] == whole[k]


def test_wrong_state_is_refused():
    targets = _skewed_targets()
    state = BalancedSampler(targets, batch_size=8).state_dict()
    with pytest.raises(ValueError, match="batch size"):
        BalancedSampler(targets, batch_size=4).load_state_dict(state)
    with pytest.raises(ValueError, match="balanced"):
        ShuffleSampler(50, batch_size=8).load_state_dict(state)
    other = targets.copy()
    other[:, 9] = True
    with pytest.raises(ValueError, match="other classes"):
        BalancedSampler(other, batch_size=8).load_state_dict(state)
    with pytest.raises(ValueError, match="no class"):
        BalancedSampler(np.zeros((4, 3), dtype=bool), batch_size=2)
