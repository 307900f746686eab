"""Label sets: the one authority on which classes a model predicts and how one set is seen through another.

The 527 AudioSet classes come in PANNs output order; the 65 animal classes are the subtree under
/m/0jbk (outputs 72..136 of a general model). A checkpoint whose head matches neither gets generic
labels (`class_0`, ...) or the labels of a file given with it. Every "which outputs mean which
classes" question (the Tagger, training evaluation, cutting a head for fine-tuning) goes through
`view`, so class counts are never written down anywhere else.
"""

from __future__ import annotations

import csv
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence, Tuple, Union

from panns_core.errors import ConfigError
from panns_core.labels.audioset import ANIMAL_ROOT_MID, audioset_data
from panns_core.labels.ontology import descendants


@dataclass(frozen=True)
class LabelSet:
    """An ordered set of classes: what a model's (or a view's) outputs mean."""

    name: str
    indices: Tuple[int, ...]  # position of each label among the AudioSet outputs (-1: not an AudioSet class)
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
    return LabelSet(name, tuple(indices), tuple(classes[i][0] for i in indices), tuple(classes[i][1] for i in indices))


def _animal_indices() -> list:
    """Every trainable class in the subtree under Animal; it is the contiguous block 72..136."""
    under = descendants(ANIMAL_ROOT_MID) | {ANIMAL_ROOT_MID}
    return [i for i, (mid, _) in enumerate(audioset_data()["classes"]) if mid in under]


AUDIOSET = _subset("audioset", range(len(audioset_data()["classes"])))
ANIMAL_INDICES = _animal_indices()
ANIMAL = _subset("animal", ANIMAL_INDICES)
_SETS = {"audioset": AUDIOSET, "animal": ANIMAL}

# The width of the official PANNs heads, the default of every architecture.
AUDIOSET_CLASSES = len(AUDIOSET)


def get_label_set(name) -> LabelSet:
    """'animal' or 'audioset' (a LabelSet passes through)."""
    if isinstance(name, LabelSet):
        return name
    if name not in _SETS:
        raise KeyError(f"unknown label set {name!r}; choose from {sorted(_SETS)}")
    return _SETS[name]


def label_set_for(classes_num: int) -> LabelSet:
    """The known label set a head of this width predicts: AudioSet or animal (KeyError for any other width)."""
    for label_set in _SETS.values():
        if len(label_set) == classes_num:
            return label_set
    known = ", ".join(f"{len(s)} {s.name}" for s in _SETS.values())
    raise KeyError(f"no known label set has {classes_num} classes (known: {known})")


def generic(classes_num: int) -> LabelSet:
    """Placeholder labels `class_0..class_{N-1}` for a head that matches no known set."""
    names = tuple(f"class_{i}" for i in range(classes_num))
    return LabelSet(f"generic-{classes_num}", (-1,) * classes_num, names, names)


def from_classes(name: str, mids: Sequence[str], names: Optional[Sequence[str]] = None) -> LabelSet:
    """A label set from class ids (AudioSet mids keep their AudioSet index) and display names."""
    names = list(names) if names is not None else list(mids)
    if len(names) != len(mids):
        raise ConfigError(f"label set {name!r}: {len(mids)} ids but {len(names)} names")
    position = {m: i for i, m in enumerate(AUDIOSET.mids)}
    return LabelSet(name, tuple(position.get(m, -1) for m in mids), tuple(mids), tuple(names))


def load_labels_file(path) -> LabelSet:
    """Labels from a file: a CSV with a `mid` and/or `display_name` column (one row per output, in order),
    or JSON: a list of names, a list of {"mid", "display_name"} objects, or {"mids": [...], "names": [...]}."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"labels file {path} does not exist")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text())
            if isinstance(data, dict):
                mids, names = data.get("mids") or data.get("names"), data.get("names")
            elif data and all(isinstance(x, dict) for x in data):
                mids = [x.get("mid") or x.get("display_name") for x in data]
                names = [x.get("display_name") or x.get("mid") for x in data]
            else:
                mids = names = data
        else:
            with open(path, newline="") as f:
                rows = list(csv.DictReader(f))
            if not rows or not ({"mid", "display_name"} & set(rows[0])):
                raise ValueError("needs a 'mid' or 'display_name' column")
            mids = [r.get("mid") or r["display_name"] for r in rows]
            names = [r.get("display_name") or r["mid"] for r in rows]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as e:
        raise ConfigError(f"labels file {path} is not a CSV (mid, display_name) or JSON list of labels: {e}") from None
    if not mids or not all(isinstance(m, str) and m for m in mids):
        raise ConfigError(f"labels file {path} lists no labels, or empty ones")
    return from_classes(path.stem, [str(m) for m in mids], [str(n) for n in names])


LabelsLike = Union[str, Path, LabelSet, None]


def labels_for_head(classes_num: int, labels: LabelsLike = None, source: str = "checkpoint") -> LabelSet:
    """What a head of `classes_num` outputs means: the given labels (a set, its name, or a labels file),
    else the known set of that width, else generic `class_i` labels with a warning (never an error)."""
    if labels is not None:
        if isinstance(labels, LabelSet):
            chosen = labels
        elif isinstance(labels, str) and labels in _SETS:
            chosen = _SETS[labels]
        else:
            chosen = load_labels_file(labels)
        if len(chosen) != classes_num:
            raise ConfigError(
                f"{source} predicts {classes_num} classes but the labels {chosen.name!r} name {len(chosen)}"
            )
        return chosen
    try:
        return label_set_for(classes_num)
    except KeyError:
        warnings.warn(
            f"{source} predicts {classes_num} classes, which match no known label set; its outputs are "
            f"labelled class_0..class_{classes_num - 1} (give a labels file to name them)",
            stacklevel=2,
        )
        return generic(classes_num)


def view(head_labels: LabelSet, requested: LabelSet) -> Optional[list]:
    """Which model outputs give the requested classes, in the requested order; None when they are the same.

    A general AudioSet model viewed on the animal set selects its outputs 72..136; a model lacking
    any requested class cannot be viewed on that set (ConfigError naming the class).
    """
    if head_labels.mids == requested.mids:
        return None
    position = {m: i for i, m in enumerate(head_labels.mids)}
    lacking = [m for m in requested.mids if m not in position]
    if lacking:
        raise ConfigError(
            f"a {len(head_labels)}-class {head_labels.name} model cannot be viewed on the "
            f"{requested.name!r} label set ({len(requested)} classes): it has no output for "
            f"{len(lacking)} of them (e.g. {lacking[0]})"
        )
    return [position[m] for m in requested.mids]
