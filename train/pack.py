"""Stage 3, `python -m train pack`: downloaded WAVs of one split into one HDF5 file (PANNs layout).

Each clip is cut or zero-padded to 10 s at 32 kHz and its labels become a boolean row over the
label set. A clip that cannot be used (undecodable, NaN, digital silence from a broken download,
no label of the set) is reported in `<out>.bad.csv` and skipped: it is never written as zeros, which
would teach the model that silence is a dog. Segments not downloaded are counted, not errors.
Packing is resumable: run it again after a kill and it continues after the last saved clip.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from panns_core.audio import load_audio
from panns_core.errors import AudioError
from panns_core.labels import get_label_set
from panns_core.training.packfile import PackWriter

from .segments import audio_name, labels_of, read_split


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--split", required=True, help="split list, e.g. data/metadata/eval.csv")
    parser.add_argument("--audio", required=True, help="folder of downloaded WAVs, e.g. data/audio/eval")
    parser.add_argument("--out", required=True, help="HDF5 file to write, e.g. data/packed/eval.h5")
    parser.add_argument("--label-set", default="animal", choices=["animal", "audioset"])


def target_row(labels: list, mids: list) -> np.ndarray:
    position = {m: i for i, m in enumerate(mids)}
    row = np.zeros(len(mids), dtype=bool)
    row[[position[m] for m in labels if m in position]] = True
    return row


def usable_audio(path: Path, sample_rate: int) -> np.ndarray:
    """The clip as float32, or AudioError saying why it must not be packed."""
    waveform = load_audio(path, sample_rate)
    if not np.any(waveform):
        raise AudioError(f"{path.name} is digital silence (a broken download?)")
    return waveform


def pack(split, audio_dir, out, label_set: str = "animal", sample_rate: int = 32000) -> dict:
    """Pack what is downloaded; return counts {"packed", "added", "missing", "bad"}."""
    labels = get_label_set(label_set)
    segments = read_split(split)
    audio_dir, out = Path(audio_dir), Path(out)
    bad, missing, added = [], 0, 0
    with PackWriter(out, labels.name, list(labels.mids), sample_rate) as writer:
        for segment, clip_labels in tqdm(zip(segments.itertuples(index=False), labels_of(segments)),
                                         total=len(segments), desc=f"pack {out.name}", unit="clip"):
            name = audio_name(segment.ytid)
            if name in writer:
                continue
            path = audio_dir / name
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
    bad_log = out.with_name(out.stem + ".bad.csv")
    pd.DataFrame(bad, columns=["audio_name", "error"]).to_csv(bad_log, index=False)
    return {"packed": packed, "added": added, "missing": missing, "bad": len(bad)}


def run(args: argparse.Namespace) -> dict:
    summary = pack(args.split, args.audio, args.out, args.label_set)
    out = Path(args.out)
    print(f"{out}: {summary['packed']} clips ({summary['added']} added now); {summary['missing']} not downloaded; "
          f"{summary['bad']} unusable, skipped (see {out.with_name(out.stem + '.bad.csv')})")
    return summary
