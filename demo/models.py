"""The model picker's entries and the app-layer cache of loaded taggers.

The core package knows how to find, fetch and load a checkpoint; this module only decides
which checkpoints the page offers, says whether each is ready (and, when it is not, exactly
how to get it), and keeps each loaded `Tagger` for reuse so that a checkpoint is read from
disk once, not once per request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from panns_core import Tagger
from panns_core.errors import CheckpointError, PannsError, WeightsUnavailableError
from panns_core.inference.heads import load_head
from panns_core.weights.cache import HUB_PREFIX
from panns_core.weights.catalogue import PRETRAINED
from panns_core.weights.sources import check_ready, hub_address, resolve_source


class DemoConfigError(PannsError, ValueError):
    """A start-up setting names no checkpoint the demo can offer; demo/app.py decides what to do."""


@dataclass(frozen=True)
class ModelChoice:
    """One entry of the picker: `source` is a pretrained name, a file path or hf://owner/repo/file."""

    key: str
    label: str
    about: str
    source: str
    arch: str | None = None

    @property
    def pretrained(self) -> bool:
        return self.source in PRETRAINED


def _pretrained_choice(name: str) -> ModelChoice:
    w = PRETRAINED[name]
    # The published mAP averages all 527 classes; say so, or it reads as a score on the animals shown.
    score = f", mAP {w.reported_map:.3f} on all 527 AudioSet classes" if getattr(w, "reported_map", None) else ""
    return ModelChoice(
        key=name,
        label=f"{name} (PANNs general{score})",
        about=(
            f"The published PANNs **{name}** trained on all 527 AudioSet classes{score}, "
            f"viewed on the 65 animal classes. Licence: {w.licence}."
        ),
        source=name,
        arch=w.arch,
    )


def _local_choice(source: str, arch: str | None) -> ModelChoice:
    source = hub_address(source)
    name = source.rsplit("/", 1)[-1]
    return ModelChoice(
        key=f"local:{source}",
        label=f"{name} (local{', ' + arch if arch else ''})",
        about=f"Checkpoint `{source}`" + (f" ({arch})" if arch else "") + ", given at start.",
        source=source,
        arch=arch,
    )


def _released(name: str, option: str) -> str:
    if name not in PRETRAINED:
        known = ", ".join(PRETRAINED)
        raise DemoConfigError(f"{option} {name!r} is not a released checkpoint; known: {known}")
    return name


def is_released_name(source: str | None) -> bool:
    """A released checkpoint's name (and no file of that name here): the picker's own entry serves it."""
    return bool(source) and source in PRETRAINED and not Path(source).exists()


def list_choices(default_checkpoint: str, checkpoint: str | None = None, arch: str | None = None) -> list[ModelChoice]:
    """The --checkpoint weights first (when given), then the default released one, then the others.
    A released name given as --checkpoint is that released entry, moved first."""
    first = checkpoint if is_released_name(checkpoint) else _released(default_checkpoint, "--default-checkpoint")
    names = [first] + [n for n in PRETRAINED if n != first]
    choices = [_pretrained_choice(n) for n in names]
    if checkpoint and not is_released_name(checkpoint):
        choices.insert(0, _local_choice(checkpoint, arch))
    return choices


def compare_keys(names: tuple[str, ...] | list[str], choices: list[ModelChoice], checkpoint: str | None) -> list[str]:
    """The picker keys compare mode runs: the named released checkpoints, then the --checkpoint
    weights when they are not one of them."""
    keys = [_released(name, "--compare") for name in names]
    if checkpoint:
        own = choices[0].key  # list_choices puts the --checkpoint weights first
        if own not in keys:
            keys.append(own)
    return keys


def can_fetch(choice: ModelChoice) -> bool:
    """True when a fetch could bring this choice's weights (a local file cannot be fetched; offline nothing can)."""
    return check_ready(choice.source).fetchable


def how_to_get(choice: ModelChoice) -> str:
    """What is missing and the exact ways to get it, in the core's words (file, command, URL, cache path, a
    failed checksum) plus where this page fits in. Plain text (commands in backticks) so that it reads the
    same in the page's Markdown, in an error pop-up and on the terminal."""
    readiness = check_ready(choice.source)
    if choice.pretrained:
        return readiness.how_to_get + (
            " The cache folder is set by PANNS_CACHE_DIR; reload this page once the file is there."
        )
    if choice.source.startswith(HUB_PREFIX):
        return readiness.how_to_get.replace("as --checkpoint", "as the app's `--checkpoint PATH`")
    return f"Checkpoint {choice.source} does not exist. Start the app with `--checkpoint PATH` to an existing file."


def failure_message(choice: ModelChoice, exc: Exception) -> str:
    """Why getting `choice` failed and what to do, said once: the core's message for a released
    checkpoint already carries the fetch command and the cache path; the Hub's errors do not."""
    if choice.pretrained:
        return str(exc)
    return f"{exc}\n{how_to_get(choice)}"


def is_ready(choice: ModelChoice) -> bool:
    """True when the weights are on this machine and pass their checks: no network needed to analyse with them."""
    return check_ready(choice.source).ready


def fetch(choice: ModelChoice) -> Path:
    """Bring the weights onto this machine (download with progress when needed) and return their path."""
    if not choice.pretrained and not choice.source.startswith(HUB_PREFIX) and not Path(choice.source).is_file():
        raise WeightsUnavailableError(f"checkpoint {choice.source} does not exist")
    return resolve_source(choice.source).path


class TaggerCache:
    """Loaded taggers by picker key, shared by all requests; the least recently used is dropped
    beyond `max_loaded` so that trying every model does not hold every model in memory.

    Loading takes a lock per key: two first requests for one checkpoint read it once, while a
    slow first load of one checkpoint never holds up requests for another that is already loaded.
    `tagger_options` go to every `Tagger` (window_seconds, hop_seconds, device)."""

    def __init__(self, max_loaded: int = 2, head=None, **tagger_options):
        self.max_loaded = max_loaded
        self.head = load_head(head) if head else None  # added to the models whose weights it was fit on
        self.tagger_options = tagger_options
        self._taggers: OrderedDict[str, Tagger] = OrderedDict()
        self._lock = threading.Lock()  # guards the two dicts, held only briefly
        self._loading: dict[str, threading.Lock] = {}  # one per key, held while that key loads
        self.loads = 0  # how many times a checkpoint was read from disk (tests check sharing)

    def _cached(self, key: str) -> Tagger | None:
        with self._lock:
            tagger = self._taggers.get(key)
            if tagger is not None:
                self._taggers.move_to_end(key)
            return tagger

    def loaded_keys(self) -> list[str]:
        """Keys of the taggers in memory now, least recently used first."""
        with self._lock:
            return list(self._taggers)

    def get(self, choice: ModelChoice) -> Tagger:
        tagger = self._cached(choice.key)
        if tagger is not None:
            return tagger
        with self._lock:
            key_lock = self._loading.setdefault(choice.key, threading.Lock())
        with key_lock:
            tagger = self._cached(choice.key)  # loaded by the request we waited for
            if tagger is not None:
                return tagger
            tagger = Tagger.from_pretrained(choice.source, arch=choice.arch, label_set="animal", **self.tagger_options)
            if self.head is not None:
                try:
                    tagger.attach_head(self.head, "add")
                except CheckpointError:
                    pass  # fit on other weights: this model answers without the head's classes
            with self._lock:
                self.loads += 1
                self._taggers[choice.key] = tagger
                while len(self._taggers) > self.max_loaded:
                    self._taggers.popitem(last=False)
            return tagger
