"""Segment-id lists: reading AudioSet's official CSVs, and our split lists that the later stages share.

A *segment id* is one row of AudioSet's lists: a YouTube id and the 10-s span cut from it, with its labels
(not to be confused with *events*, the score spans a tagger finds in a clip).

Official format (eval_segments.csv and friends): three `#` header lines, then
    YTID, start_seconds, end_seconds, "mid1,mid2,..."
Our split lists are plain CSV with the same four columns (`ytid, start_seconds, end_seconds,
positive_labels`), so a user can cut or merge them with any tool before fetching.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from panns_core.errors import PannsError

COLUMNS = ["ytid", "start_seconds", "end_seconds", "positive_labels"]


class SegmentIdsError(PannsError, ValueError):
    """A segment-id list is missing or not in the expected format; the message names the file."""


def read_official(path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise SegmentIdsError(f"{path}: no such segment-id list")
    try:
        df = pd.read_csv(
            path,
            comment="#",
            header=None,
            names=COLUMNS,
            skipinitialspace=True,
            quotechar='"',
            dtype={"ytid": str, "positive_labels": str},
        )
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise SegmentIdsError(f"{path}: not an AudioSet segment-id list ({exc})") from None
    return _checked(df, path)


def read_split(path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise SegmentIdsError(f"{path}: no such split list (run `python -m train metadata` first)")
    try:
        df = pd.read_csv(path, dtype={"ytid": str, "positive_labels": str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise SegmentIdsError(f"{path}: unreadable split list ({exc})") from None
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise SegmentIdsError(f"{path}: lacks columns {', '.join(missing)}")
    return _checked(df[COLUMNS], path)


def write_split(df: pd.DataFrame, path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    df[COLUMNS].to_csv(tmp, index=False, float_format="%.3f")
    tmp.replace(path)


def _checked(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    if df.empty:
        return df.reset_index(drop=True)
    bad = df["ytid"].isna() | df["positive_labels"].isna() | pd.to_numeric(df["start_seconds"], errors="coerce").isna()
    if bad.any():
        row = df[bad].iloc[0]
        raise SegmentIdsError(f"{path}: malformed row {row.to_dict()}")
    df = df.copy()
    df["start_seconds"] = df["start_seconds"].astype(float)
    df["end_seconds"] = df["end_seconds"].astype(float)
    return df.reset_index(drop=True)


def labels_of(df: pd.DataFrame) -> list:
    """The positive labels of each row as a list of mids."""
    return [s.split(",") for s in df["positive_labels"]]


def audio_name(ytid: str) -> str:
    """File name of a segment's audio, as in the PANNs packs (`Y` + YouTube id + `.wav`)."""
    return f"Y{ytid}.wav"
