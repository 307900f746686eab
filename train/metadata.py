"""Stage 1, `python -m train metadata`: the official AudioSet lists cut down to the animal segments.

Reads the three segment lists, the class list and the ontology (downloaded once into the cache,
or taken from `--source DIR`), keeps every segment carrying at least one class of the label set,
and writes to `--out`:
    eval.csv, balanced_train.csv, unbalanced_train.csv   split lists for `fetch` and `pack`
    class_counts.csv                                     clips per class and split
With `--class-stats FILE` it also writes the per-class table the dashboard shows (counts from the
official lists, plus the label quality read from `--label-quality CSV` with columns mid, label_quality).

The set of animal classes is derived from the ontology given here and must agree with the one the
package ships (`panns_core.labels.ANIMAL`): packs are written in that order, so a disagreement
means mismatched files and stops the stage.
"""

from __future__ import annotations

import argparse
import json
import urllib.error
from pathlib import Path

import pandas as pd

from panns_core.labels.audioset import ANIMAL_ROOT_MID
from panns_core.labels.ontology import descendants
from panns_core.labels.sets import get_label_set
from panns_core.weights.cache import cache_dir, http_fetch, offline

from .segment_ids import SegmentIdsError, labels_of, read_official, write_split

_CSV = "http://storage.googleapis.com/us_audioset/youtube_corpus/v1/csv/"
OFFICIAL = {
    "eval": ("eval_segments.csv", _CSV + "eval_segments.csv"),
    "balanced_train": ("balanced_train_segments.csv", _CSV + "balanced_train_segments.csv"),
    "unbalanced_train": ("unbalanced_train_segments.csv", _CSV + "unbalanced_train_segments.csv"),
    "classes": ("class_labels_indices.csv", _CSV + "class_labels_indices.csv"),
    "ontology": ("ontology.json", "https://raw.githubusercontent.com/audioset/ontology/master/ontology.json"),
}
# A source folder may hold the unbalanced list already cut to the animal rows (as ../shared does).
_ALTERNATIVES = {"unbalanced_train": ["unbalanced_train_segments.animal_subset.csv"]}
SPLITS = ("eval", "balanced_train", "unbalanced_train")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", help="folder holding the official files (default: download them into the cache)")
    parser.add_argument("--out", default="data/metadata", help="where the split lists go (default: data/metadata)")
    parser.add_argument("--label-set", default="animal", choices=["animal", "audioset"])
    parser.add_argument("--class-stats", help="also write the per-class statistics table here")
    parser.add_argument("--label-quality", help="CSV with columns mid, label_quality for --class-stats")


def official_file(key: str, source: str | None) -> Path:
    """Path of an official file: from `source`, else from the cache, downloading it on first use."""
    name, url = OFFICIAL[key]
    if source:
        for candidate in [name, *_ALTERNATIVES.get(key, [])]:
            if (Path(source) / candidate).is_file():
                return Path(source) / candidate
        raise SegmentIdsError(f"{source} holds no {name}")
    path = cache_dir() / "audioset" / name
    if path.is_file():
        return path
    if offline():
        raise SegmentIdsError(f"{name} is not in {path.parent} and PANNS_OFFLINE=1; pass --source DIR")
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(name + ".part")
    try:
        http_fetch(url, part, True, name)  # the weights downloader's resumable fetch, with a progress bar
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise SegmentIdsError(f"could not download {url} ({exc}); run again to resume, or pass --source DIR") from None
    part.replace(path)
    return path


def ontology_subtree(ontology_path: Path, root: str = ANIMAL_ROOT_MID) -> set:
    """Every id under `root` (itself included) in an ontology.json file."""
    entries = {e["id"]: e for e in json.loads(Path(ontology_path).read_text(encoding="utf-8"))}
    return descendants(root, lambda mid: entries[mid]["child_ids"]) | {root}


def label_set_mids(label_set_name: str, classes_csv: Path, ontology: Path) -> list:
    """The label set's mids, checked against the given class list and ontology."""
    label_set = get_label_set(label_set_name)
    classes = pd.read_csv(classes_csv)
    audioset = get_label_set("audioset")
    if list(classes["mid"]) != list(audioset.mids):
        raise SegmentIdsError(f"{classes_csv} is not the {len(audioset)}-class AudioSet list this package was built on")
    if label_set_name == "animal":
        derived = [m for m in classes["mid"] if m in ontology_subtree(ontology)]
        if derived != list(label_set.mids):
            raise SegmentIdsError(
                f"{ontology} puts {len(derived)} classes under Animal, the package "
                f"{len(label_set)}: the ontology and the package disagree"
            )
    return list(label_set.mids)


def keep_segments(df: pd.DataFrame, mids: list) -> pd.DataFrame:
    wanted = set(mids)
    keep = [bool(wanted.intersection(labels)) for labels in labels_of(df)]
    return df[keep].reset_index(drop=True)


def class_counts(splits: dict, mids: list) -> pd.DataFrame:
    """Clips per class (rows, in label-set order) and split (columns `<split>_clips`)."""
    out = pd.DataFrame({"mid": mids})
    for split, df in splits.items():
        counts = pd.Series([m for labels in labels_of(df) for m in labels]).value_counts()
        out[f"{split}_clips"] = [int(counts.get(m, 0)) for m in mids]
    return out


def class_stats(counts: pd.DataFrame, label_set_name: str, label_quality: str | None) -> pd.DataFrame:
    label_set = get_label_set(label_set_name)
    stats = pd.DataFrame(
        {"index": list(label_set.indices), "mid": list(label_set.mids), "display_name": list(label_set.names)}
    )
    stats = stats.merge(counts, on="mid", how="left")
    if label_quality:
        quality = pd.read_csv(label_quality, usecols=["mid", "label_quality"])
        stats = stats.merge(quality, on="mid", how="left")
        stats["label_quality"] += 0.0  # the source writes one class as -0.0; store it as 0.0
    else:
        stats["label_quality"] = float("nan")
    return stats[
        [
            "index",
            "mid",
            "display_name",
            "balanced_train_clips",
            "unbalanced_train_clips",
            "eval_clips",
            "label_quality",
        ]
    ]


def run(args: argparse.Namespace) -> dict:
    mids = label_set_mids(args.label_set, official_file("classes", args.source), official_file("ontology", args.source))
    out = Path(args.out)
    splits = {}
    for split in SPLITS:
        kept = keep_segments(read_official(official_file(split, args.source)), mids)
        write_split(kept, out / f"{split}.csv")
        splits[split] = kept
        print(f"{split}: {len(kept):,} segments with a class of the {args.label_set} set -> {out / (split + '.csv')}")
    counts = class_counts(splits, mids)
    counts.to_csv(out / "class_counts.csv", index=False)
    if args.class_stats:
        Path(args.class_stats).parent.mkdir(parents=True, exist_ok=True)
        class_stats(counts, args.label_set, args.label_quality).to_csv(args.class_stats, index=False)
        print(f"class statistics -> {args.class_stats}")
    return {split: len(df) for split, df in splits.items()}
