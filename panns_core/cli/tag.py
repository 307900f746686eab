"""`panns tag PATH... [--csv tags.csv]`: top classes per file, or per window for long files."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Iterator

from panns_core.audio.files import find_audio
from panns_core.cli.job_options import add_job_options
from panns_core.cli.options import add_checkpoint_options, positive_float, positive_int
from panns_core.errors import EXIT_INPUTS_FAILED, EXIT_OK, ConfigError, PannsError


def add_parser(sub) -> None:
    t = sub.add_parser("tag", help="tag audio files or folders, write a CSV")
    t.add_argument("paths", nargs="+", help="audio files and/or folders (searched recursively)")
    add_checkpoint_options(t)
    t.add_argument(
        "--head-labels",
        default=None,
        help="CSV/JSON naming the outputs of a checkpoint whose head matches no known label set",
    )
    t.add_argument(
        "--head", default=None, help="probe head file (`panns probe fit`): its classes are reported beside the others"
    )
    t.add_argument("--csv", default=None, help="output CSV (default: standard output)")
    t.add_argument("--top", type=positive_int, default=5)
    t.add_argument("--label-set", choices=["animal", "audioset"], default="animal", help="the classes to report")
    t.add_argument("--window", type=positive_float, default=10.0, help="window length in seconds")
    t.add_argument("--hop", type=positive_float, default=None, help="hop between windows in seconds (default: window)")
    t.add_argument(
        "--rows",
        choices=["auto", "file", "window"],
        default="auto",
        help="auto: one row per window for files longer than a window, else one per file",
    )
    t.add_argument("--consistent", action="store_true", help="a parent scores at least its best child")
    t.add_argument("--precision", choices=["fp32", "bf16"], default="fp32")
    t.add_argument("--device", default="auto")
    t.add_argument(
        "--backend",
        choices=["auto", "torch", "onnx"],
        default="auto",
        help="auto: ONNX Runtime on CPU when it works (exported once, cached), PyTorch on GPUs",
    )
    t.add_argument("--quiet", action="store_true")
    add_job_options(t)
    t.set_defaults(func=run)


def result_rows(path: Path, result, k: int, per_window: bool) -> Iterator[dict]:
    """One row per file, or one per window; each with the top-k labels and scores (ranked as `TaggingResult.top`)."""
    from panns_core.inference.tagger import top_indices

    spans = [(None, None, result.scores)]
    if per_window:
        spans = [
            (s, min(s + result.window_seconds, result.duration), scores)
            for s, scores in zip(result.window_starts, result.timeline)
        ]
    for start, end, scores in spans:
        row = {
            "file": str(path),
            "start": start if start is None else round(float(start), 3),
            "end": end if end is None else round(float(end), 3),
            "error": "",
        }
        for rank, i in enumerate(top_indices(scores, k), 1):
            row[f"label_{rank}"] = result.labels.names[i]
            row[f"mid_{rank}"] = result.labels.mids[i]
            row[f"score_{rank}"] = round(float(scores[i]), 6)
        yield row


def run(args) -> int:
    if args.out:  # a resumable job with a journal, Parquet parts and events: panns_core.archive
        from panns_core.archive.command import run_job

        return run_job(args)
    from tqdm.auto import tqdm

    from panns_core.archive.job_setup import tagger_options
    from panns_core.inference.tagger import Tagger

    files = find_audio(args.paths)
    if not files:
        raise ConfigError(f"no audio files found in {', '.join(args.paths)}")
    tagger = Tagger.from_pretrained(**tagger_options(args))
    fields = (
        ["file", "start", "end"]
        + [f"{c}_{r}" for r in range(1, args.top + 1) for c in ("label", "mid", "score")]
        + ["error"]
    )
    out = open(args.csv, "w", newline="") if args.csv else sys.stdout
    failures = 0
    try:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        for path in tqdm(files, desc="tagging", unit="file", disable=args.quiet):
            try:
                result = tagger.predict_file(path)
            except PannsError as e:  # one bad file must not lose the others, nor pass unnoticed
                failures += 1
                writer.writerow({"file": str(path), "error": str(e)})
                print(f"error: {e}", file=sys.stderr)
                continue
            per_window = args.rows == "window" or (args.rows == "auto" and len(result.window_starts) > 1)
            writer.writerows(result_rows(path, result, args.top, per_window))
    finally:
        if args.csv:
            out.close()
    if failures:
        print(f"{failures} of {len(files)} files could not be tagged (see the error column)", file=sys.stderr)
        return EXIT_INPUTS_FAILED  # the rows that could be written are written; the exit code still tells
    return EXIT_OK
