"""Batch samplers for training: balanced (PANNs) and plain shuffling, both resumable exactly.

AudioSet's animal classes range from tens of thousands of clips (Dog) to a few hundred (Yip);
drawn uniformly, the rare classes are almost never seen. The balanced sampler visits classes in
turn (a shuffled class order, reshuffled when used up) and takes the next clip of each visited
class from that class's own shuffled queue, so every class gets the same share of the batches.

Resuming a killed run must give the very batches an uninterrupted run would have seen. Every
queue is therefore a permutation generated from a seed drawn from one seeded generator, and the
whole state is a few integers per class (`state_dict`). The data loader draws batches ahead of
the training loop, so the sampler also remembers its state after each recent batch
(`state_after(n)`): a checkpoint stores the state after the batch the loop actually trained on.

Under DDP every rank builds the same sampler (same seed) and keeps its own slice of each global
batch (`rank`, `world_size`), so ranks never see the same clip in a step and need not talk. The
slices are contiguous, so mixup pairs (clips 2i, 2i+1) never straddle two ranks.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from panns_core.errors import ConfigError

_RECENT = 256  # states remembered; far more than any data loader prefetches


class _Cycle:
    """An endless shuffled queue over `items`: each pass is a fresh permutation from a drawn seed."""

    def __init__(self, items: np.ndarray):
        self.items = items
        self.seed: int | None = None
        self.pos = 0
        self._order: np.ndarray | None = None

    def next(self, rng: np.random.Generator) -> int:
        if self.seed is None or self.pos >= len(self.items):
            self.seed = int(rng.integers(0, 2**63 - 1))
            self.pos = 0
            self._order = None
        if self._order is None:
            self._order = np.random.default_rng(self.seed).permutation(self.items)
        value = int(self._order[self.pos])
        self.pos += 1
        return value

    def state(self) -> list:
        return [self.seed, self.pos]

    def restore(self, state) -> None:
        self.seed, self.pos = (None if state[0] is None else int(state[0])), int(state[1])
        self._order = None


class _ResumableBatches:
    """Common part: the seeded generator, batch counting, state snapshots and the rank slice."""

    kind = ""

    def __init__(self, batch_size: int, seed: int = 0, rank: int = 0, world_size: int = 1):
        if batch_size < 1:
            raise ConfigError(f"batch_size must be at least 1, got {batch_size}")
        if not 0 <= rank < world_size or batch_size % world_size:
            raise ConfigError(f"batch_size {batch_size} must split evenly over {world_size} ranks (rank {rank})")
        self.batch_size, self.seed, self.rank, self.world_size = batch_size, seed, rank, world_size
        self.rng = np.random.default_rng(seed)
        self.batches = 0
        self._recent: OrderedDict[int, dict] = OrderedDict()

    def _next_index(self) -> int:
        raise NotImplementedError

    def _cycles_state(self) -> dict:
        raise NotImplementedError

    def _restore_cycles(self, state: dict) -> None:
        raise NotImplementedError

    def __iter__(self):
        self._recent[self.batches] = self.state_dict()  # the state before the first batch of this stream
        while True:
            batch = [self._next_index() for _ in range(self.batch_size)]
            self.batches += 1
            self._recent[self.batches] = self.state_dict()
            while len(self._recent) > _RECENT:
                self._recent.popitem(last=False)
            share = self.batch_size // self.world_size
            yield batch[self.rank * share : (self.rank + 1) * share]

    def state_dict(self) -> dict:
        """The state now: plain ints and lists, so it loads with torch.load(weights_only=True)."""
        return {
            "kind": self.kind,
            "seed": self.seed,
            "batch_size": self.batch_size,
            "batches": self.batches,
            "rng": self.rng.bit_generator.state,
            **self._cycles_state(),
        }

    def state_after(self, batches: int) -> dict:
        """The state once `batches` batches had been drawn (the current one, or a recent one)."""
        if batches == self.batches:
            return self.state_dict()
        if batches not in self._recent:
            raise RuntimeError(f"the state after batch {batches} is no longer remembered (now at {self.batches})")
        return self._recent[batches]

    def load_state_dict(self, state: dict) -> None:
        if state.get("kind") != self.kind:
            raise ConfigError(f"sampler state is for a {state.get('kind')!r} sampler, not {self.kind!r}")
        if state["batch_size"] != self.batch_size:
            raise ConfigError(f"sampler state was saved with batch size {state['batch_size']}, not {self.batch_size}")
        self.seed, self.batches = state["seed"], state["batches"]
        self.rng.bit_generator.state = state["rng"]
        self._restore_cycles(state)
        self._recent.clear()


class BalancedSampler(_ResumableBatches):
    """Batches of clip indices that visit classes in turn (see module docstring).

    targets: (clips, classes) booleans. Classes without any clip cannot be visited; they are
    listed in `missing_classes` so the caller can report them.
    """

    kind = "balanced"

    def __init__(self, targets, batch_size: int, seed: int = 0, rank: int = 0, world_size: int = 1):
        super().__init__(batch_size, seed, rank, world_size)
        targets = np.asarray(targets, dtype=bool)
        members = [np.flatnonzero(targets[:, k]) for k in range(targets.shape[1])]
        self.visited_classes = np.array([k for k, m in enumerate(members) if len(m)], dtype=np.int64)
        self.missing_classes = [k for k, m in enumerate(members) if not len(m)]
        if not len(self.visited_classes):
            raise ConfigError("no class has any clip: nothing to sample")
        self._class_cycle = _Cycle(self.visited_classes)
        self._clip_cycles = {int(k): _Cycle(members[k]) for k in self.visited_classes}

    def _next_index(self) -> int:
        return self._clip_cycles[self._class_cycle.next(self.rng)].next(self.rng)

    def _cycles_state(self) -> dict:
        return {"classes": self._class_cycle.state(), "clips": [[k, *c.state()] for k, c in self._clip_cycles.items()]}

    def _restore_cycles(self, state: dict) -> None:
        self._class_cycle.restore(state["classes"])
        saved = {int(k): (seed, pos) for k, seed, pos in state["clips"]}
        if set(saved) != set(self._clip_cycles):
            raise ConfigError("sampler state was saved on data with other classes present")
        for k, cycle in self._clip_cycles.items():
            cycle.restore(saved[k])


class ShuffleSampler(_ResumableBatches):
    """Batches drawn from one shuffled pass over all clips after another (no balancing)."""

    kind = "shuffle"

    def __init__(self, clips: int, batch_size: int, seed: int = 0, rank: int = 0, world_size: int = 1):
        super().__init__(batch_size, seed, rank, world_size)
        if clips < 1:
            raise ConfigError("no clips: nothing to sample")
        self.clips = clips
        self._cycle = _Cycle(np.arange(clips))

    def _next_index(self) -> int:
        return self._cycle.next(self.rng)

    def _cycles_state(self) -> dict:
        return {"clips": self._cycle.state(), "clips_total": self.clips}

    def _restore_cycles(self, state: dict) -> None:
        if state["clips_total"] != self.clips:
            raise ConfigError(f"sampler state was saved on {state['clips_total']} clips, not {self.clips}")
        self._cycle.restore(state["clips"])
