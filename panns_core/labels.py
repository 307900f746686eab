"""AudioSet label sets: the 527 classes in PANNs output order, and the 65 animal classes under /m/0jbk.

A 527-class model is *viewed* on the animal set by selecting its outputs 72..136 (the "general
AudioSet baseline"); a 65-class model outputs them directly. A LabelSet knows both orders.
"""
from dataclasses import dataclass
from typing import Sequence, Tuple

from .audioset import ANIMAL_ROOT_MID, audioset_data
from .ontology import descendants


@dataclass(frozen=True)
class LabelSet:
    """An ordered set of AudioSet classes: what a model's (or a view's) outputs mean."""

    name: str
    indices: Tuple[int, ...]  # position of each label among the 527 AudioSet outputs
    mids: Tuple[str, ...]
    names: Tuple[str, ...]

    def __len__(self) -> int:
        return len(self.mids)

    def index_of(self, mid: str) -> int:
        """Position of `mid` in this set (KeyError if it is not a member)."""
        try:
            return self.mids.index(mid)
        except ValueError:
            raise KeyError(f"{mid!r} is not in the {self.name!r} label set") from None

    def name_of(self, mid: str) -> str:
        return self.names[self.index_of(mid)]


def _subset(name: str, indices: Sequence[int]) -> LabelSet:
    classes = audioset_data()["classes"]
    return LabelSet(name, tuple(indices), tuple(classes[i][0] for i in indices),
                    tuple(classes[i][1] for i in indices))


def _animal_indices() -> list:
    """Every trainable class in the subtree under Animal; it is the contiguous block 72..136."""
    under = descendants(ANIMAL_ROOT_MID) | {ANIMAL_ROOT_MID}
    return [i for i, (mid, _) in enumerate(audioset_data()["classes"]) if mid in under]


AUDIOSET = _subset("audioset", range(527))
ANIMAL_INDICES = _animal_indices()
ANIMAL = _subset("animal", ANIMAL_INDICES)
_SETS = {"audioset": AUDIOSET, "animal": ANIMAL}


def get_label_set(name) -> LabelSet:
    """'animal' or 'audioset' (a LabelSet passes through)."""
    if isinstance(name, LabelSet):
        return name
    if name not in _SETS:
        raise KeyError(f"unknown label set {name!r}; choose from {sorted(_SETS)}")
    return _SETS[name]


def label_set_for(classes_num: int) -> LabelSet:
    """The label set a head of this width predicts: 527 -> AudioSet, 65 -> animal."""
    for label_set in _SETS.values():
        if len(label_set) == classes_num:
            return label_set
    raise KeyError(f"no known label set has {classes_num} classes (known: 527 AudioSet, 65 animal)")
