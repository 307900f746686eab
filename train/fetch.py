"""Stage 2, `python -m train fetch`: fetch the audio of every segment id of a split list as a 32 kHz WAV.

("download" is kept for checkpoints: `panns download`.)

Many AudioSet videos have been removed; a failure is normal, is written to the failure log
(`<out>/failures.csv`: ytid, error) and never stops the run. The stage is resumable: a segment
whose WAV exists is skipped, and so is one that failed before unless `--retry-failed`. A WAV only
appears under its final name once complete (written as `.part`, then renamed), so a killed run
never leaves a half file that a resumed run would take as done.
"""

from __future__ import annotations

import argparse
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from panns_core.errors import ConfigError

from .fetchers import FetchError, LocalFetcher, YtDlpFetcher
from .segment_ids import audio_name, read_split

FAILURES = "failures.csv"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--split", required=True, help="split list from the metadata stage, e.g. data/metadata/eval.csv"
    )
    parser.add_argument("--out", required=True, help="folder for the WAV files, e.g. data/audio/eval")
    parser.add_argument("--workers", type=int, default=8, help="segments fetched at once (default: 8)")
    parser.add_argument("--fetcher", choices=["yt-dlp", "local"], default="yt-dlp")
    parser.add_argument("--mirror", help="for --fetcher local: folder of clips named Y<ytid>.<ext>")
    parser.add_argument("--retry-failed", action="store_true", help="try again the segments in the failure log")
    parser.add_argument("--limit", type=int, help="fetch at most this many segments (a trial run)")


def read_failures(out: Path) -> pd.DataFrame:
    path = out / FAILURES
    if not path.is_file():
        return pd.DataFrame(columns=["ytid", "error"])
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _fetch_one(fetcher, segment, dest: Path) -> None:
    part = dest.with_name(dest.name + ".part")
    try:
        fetcher(segment, part)
        os.replace(part, dest)
    finally:
        if part.exists():
            part.unlink()


def fetch_split(split, out, fetcher, workers: int = 8, retry_failed: bool = False, limit: int | None = None) -> dict:
    """Fetch what is missing; return counts {"done", "fetched", "failed", "skipped_failed"}."""
    segments = read_split(split)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    failures = read_failures(out)
    failed_before = set() if retry_failed else set(failures["ytid"])
    todo = [
        s
        for s in segments.itertuples(index=False)
        if not (out / audio_name(s.ytid)).exists() and s.ytid not in failed_before
    ]
    skipped_failed = sum(
        1
        for s in segments.itertuples(index=False)
        if s.ytid in failed_before and not (out / audio_name(s.ytid)).exists()
    )
    if limit is not None:
        todo = todo[:limit]
    fetched, new_failures = 0, []
    try:
        with (
            ThreadPoolExecutor(max_workers=max(1, workers)) as pool,
            tqdm(total=len(todo), desc=f"fetch {Path(split).stem}", unit="clip") as bar,
        ):
            futures = {pool.submit(_fetch_one, fetcher, s, out / audio_name(s.ytid)): s for s in todo}
            for future in as_completed(futures):
                segment = futures[future]
                try:
                    future.result()
                    fetched += 1
                except FetchError as exc:
                    new_failures.append({"ytid": segment.ytid, "error": str(exc)})
                except Exception as exc:  # a fetcher bug on one clip must not lose the other clips' work
                    new_failures.append({"ytid": segment.ytid, "error": f"{type(exc).__name__}: {exc}"})
                bar.update()
                bar.set_postfix(ok=fetched, failed=len(new_failures))
    finally:  # also on Ctrl-C: the failures seen so far are kept
        attempted = {s.ytid for s in todo}
        log = pd.concat(
            [failures[~failures["ytid"].isin(attempted)], pd.DataFrame(new_failures, columns=["ytid", "error"])]
        )
        if len(log) or (out / FAILURES).exists():
            log.to_csv(out / FAILURES, index=False)
    done = sum(1 for s in segments.itertuples(index=False) if (out / audio_name(s.ytid)).exists())
    return {"done": done, "fetched": fetched, "failed": len(new_failures), "skipped_failed": skipped_failed}


def run(args: argparse.Namespace) -> dict:
    if args.fetcher == "local":
        if not args.mirror:
            raise ConfigError("--fetcher local needs --mirror DIR")
        fetcher = LocalFetcher(args.mirror)
    else:
        fetcher = YtDlpFetcher()
    summary = fetch_split(args.split, args.out, fetcher, args.workers, args.retry_failed, args.limit)
    print(
        f"{summary['done']} clips present in {args.out}; fetched {summary['fetched']} now, "
        f"{summary['failed']} failed (see {Path(args.out) / FAILURES}), "
        f"{summary['skipped_failed']} skipped as failed before"
    )
    return summary
