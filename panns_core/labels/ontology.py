"""The AudioSet ontology around the animal classes: paths, branches, and ontology-consistent scores."""

from functools import cache
from typing import Callable, List, Optional, Sequence, Set

import numpy as np

from panns_core.labels.audioset import ANIMAL_ROOT_MID, audioset_data

WILD_ANIMALS_MID = "/m/01280g"


def _entries() -> dict:
    return audioset_data()["ontology"]


def name_of(mid: str) -> str:
    return _entries()[mid]["name"]


def children(mid: str) -> List[str]:
    return list(_entries()[mid]["children"])


@cache
def _parents_map() -> dict:
    parents = {}
    for mid, entry in _entries().items():
        for child in entry["children"]:
            parents.setdefault(child, []).append(mid)
    return parents


def parents(mid: str) -> List[str]:
    return list(_parents_map().get(mid, []))


def descendants(mid: str, children_of: Callable[[str], List[str]] = children) -> Set[str]:
    """Every id below `mid`; `children_of` reads another copy of the ontology (e.g. a downloaded one)."""
    found, stack = set(), list(children_of(mid))
    while stack:
        child = stack.pop()
        if child not in found:
            found.add(child)
            stack.extend(children_of(child))
    return found


@cache
def _path_mids(mid: str, root: str = ANIMAL_ROOT_MID) -> Optional[tuple]:
    """Shortest chain of ids from `root` down to `mid` (the ontology is a DAG; take the first shortest)."""
    frontier = [(root,)]
    while frontier:
        nxt = []
        for path in frontier:
            if path[-1] == mid:
                return path
            nxt.extend((*path, c) for c in children(path[-1]) if c not in path)
        frontier = nxt
    return None


def ontology_path(mid: str) -> List[str]:
    """Names from Animal down to `mid`, e.g. ['Animal', 'Domestic animals, pets', 'Dog', 'Bark'].

    For a class outside the animal subtree, the chain from its top-level ancestor.
    """
    path = _path_mids(mid)
    if path is None:
        chain = [mid]
        while parents(chain[0]):
            chain.insert(0, parents(chain[0])[0])
        path = tuple(chain)
    return [name_of(m) for m in path]


def branch_of(mid: str) -> str:
    """A short branch label for filtering: a child of Animal, or of 'Wild animals' (Bird, Insect, ...)."""
    path = _path_mids(mid)
    if path is None:
        return name_of(mid)
    if len(path) == 1:
        return name_of(path[0])
    if path[1] == WILD_ANIMALS_MID and len(path) > 2:
        return name_of(path[2])
    return name_of(path[1])


def make_consistent(scores: np.ndarray, mids: Sequence[str]) -> np.ndarray:
    """Raise each parent to at least its best descendant in the set (Dog >= Bark), along the last axis.

    A model's raw scores need not respect the hierarchy; users reading a tag list expect it to.
    """
    scores = np.asarray(scores)
    out = scores.copy()
    mids = list(mids)
    for i, mid in enumerate(mids):
        below = [mids.index(d) for d in descendants(mid) if d in mids]
        if below:
            out[..., i] = np.maximum(scores[..., i], scores[..., below].max(axis=-1))
    return out
