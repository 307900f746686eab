"""Stage 3, `python -m train pack`: fetched WAVs of one split into one HDF5 file (PANNs layout).

Each clip is cut or zero-padded to 10 s at 32 kHz and its labels become a boolean row over the
label set. A clip that cannot be used (undecodable, NaN, digital silence from a broken fetch,
no label of the set) is reported in `<out>.bad.csv` and skipped: it is never written as zeros, which
would teach the model that silence is a dog. Segments not fetched are counted, not errors.
Packing is resumable: run it again after a kill and it continues after the last saved clip.
`--manifest` packs your own labelled recordings instead (any format, rate and length).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from panns_core.audio.load import load_audio
from panns_core.config import AudioConfig
from panns_core.errors import AudioError
from panns_core.labels.sets import get_label_set
from panns_core.training.packfile import PackWriter

from .segment_ids import SegmentIdsError, audio_name, labels_of, read_split


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--split", help="split list, e.g. data/metadata/eval.csv (with --audio)")
    parser.add_argument("--audio", help="folder of fetched WAVs (`python -m train fetch`), e.g. data/audio/eval")
    parser.add_argument(
        "--manifest",
        help="instead of --split/--audio: a CSV of your own labelled files, "
        "with a `path` column (relative to the CSV) and a labels column",
    )
    parser.add_argument("--path-column", default="path", help="manifest column of file paths")
    parser.add_argument("--labels-column", default="labels", help="manifest column of comma-separated class ids")
    parser.add_argument("--out", required=True, help="HDF5 file to write, e.g. data/packed/eval.h5")
    parser.add_argument("--label-set", default="animal", choices=["animal", "audioset"])


def split_items(split, audio_dir):
    """(name, path, labels) for every segment of a split list, fetched or not."""
    segments = read_split(split)
    for segment, labels in zip(segments.itertuples(index=False), labels_of(segments)):
        name = audio_name(segment.ytid)
        yield name, Path(audio_dir) / name, labels


def manifest_items(manifest, labels_column: str = "labels", path_column: str = "path"):
    """(name, path, labels) for every row of a manifest; the name is the path as written in it."""
    table = pd.read_csv(manifest, dtype=str)
    for column in (path_column, labels_column):
        if column not in table.columns:
            raise SegmentIdsError(f"{manifest}: no {column!r} column (has {', '.join(table.columns)})")
    for rel, labels in zip(table[path_column], table[labels_column].fillna("")):
        yield rel, Path(manifest).parent / rel, [m.strip() for m in labels.split(",") if m.strip()]


def target_row(labels: list, mids: list) -> np.ndarray:
    position = {m: i for i, m in enumerate(mids)}
    row = np.zeros(len(mids), dtype=bool)
    row[[position[m] for m in labels if m in position]] = True
    return row


def usable_audio(path: Path, sample_rate: int) -> np.ndarray:
    """The clip as float32, or AudioError saying why it must not be packed."""
    waveform = load_audio(path, sample_rate)
    if not np.any(waveform):
        raise AudioError(f"{path.name} is digital silence (a broken fetch?)")
    return waveform


def pack(items, out, label_set: str = "animal", sample_rate: int = AudioConfig.sample_rate) -> dict:
    """Pack (name, path, labels) items; return counts {"packed", "added", "missing", "bad"}."""
    labels = get_label_set(label_set)
    items = list(items)
    out = Path(out)
    bad, missing, added = [], 0, 0
    with PackWriter(out, labels.name, list(labels.mids), sample_rate) as writer:
        for name, path, clip_labels in tqdm(items, desc=f"pack {out.name}", unit="clip"):
            if name in writer:
                continue
            if not path.exists():
                missing += 1
                continue
            target = target_row(clip_labels, labels.mids)
            if not target.any():
                bad.append({"audio_name": name, "error": f"no label of the {labels.name} set"})
                continue
            try:
                waveform = usable_audio(path, sample_rate)
            except AudioError as exc:
                bad.append({"audio_name": name, "error": str(exc)})
                continue
            writer.append(name, waveform, target)
            added += 1
        packed = writer.count
    pd.DataFrame(bad, columns=["audio_name", "error"]).to_csv(bad_log(out), index=False)
    return {"packed": packed, "added": added, "missing": missing, "bad": len(bad)}


def bad_log(out: Path) -> Path:
    return out.with_name(out.stem + ".bad.csv")


def run(args: argparse.Namespace) -> dict:
    if args.manifest:
        items = manifest_items(args.manifest, args.labels_column, args.path_column)
    elif args.split and args.audio:
        items = split_items(args.split, args.audio)
    else:
        raise SegmentIdsError("pack needs --split and --audio, or --manifest")
    summary = pack(items, args.out, args.label_set)
    out = Path(args.out)
    print(
        f"{out}: {summary['packed']} clips ({summary['added']} added now); {summary['missing']} not fetched; "
        f"{summary['bad']} unusable, skipped (see {bad_log(out)})"
    )
    return summary
