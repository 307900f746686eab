"""Command line: `python -m panns_core tag PATH... --csv tags.csv`, `download NAME` and `export NAME --onnx OUT`.

Options mean the same in every command line of the project: `--checkpoint` names the weights (a
released name such as Cnn14, a .pth path, owner/repo or hf://owner/repo/file) and `--arch` the
architecture (needed only for a bare file). Exit codes: see panns_core.errors.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import Iterator

from panns_core.audio.files import find_audio
from panns_core.errors import EXIT_INPUTS_FAILED, EXIT_OK, ConfigError, PannsError, run_command


def result_rows(path: Path, result, k: int, per_window: bool) -> Iterator[dict]:
    """One row per file, or one per window; each with the top-k labels and scores."""
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
        order = scores.argsort()[::-1][:k]
        for rank, i in enumerate(order, 1):
            row[f"label_{rank}"] = result.labels.names[i]
            row[f"mid_{rank}"] = result.labels.mids[i]
            row[f"score_{rank}"] = round(float(scores[i]), 6)
        yield row


def tag(args) -> int:
    from tqdm.auto import tqdm

    from panns_core.inference.tagger import Tagger

    files = find_audio(args.paths)
    if not files:
        raise ConfigError(f"no audio files found in {', '.join(args.paths)}")
    tagger = Tagger.from_pretrained(
        args.checkpoint,
        arch=args.arch,
        device=args.device,
        labels=args.labels,
        checkpoint_labels=args.checkpoint_labels,
        window_seconds=args.window,
        hop_seconds=args.hop,
        consistent=args.consistent,
        precision=args.precision,
        backend=args.backend,
    )
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


def download_cmd(args) -> int:
    from panns_core.weights.cache import download
    from panns_core.weights.catalogue import get_weights

    for name in args.names:
        try:
            weights = get_weights(name)
        except KeyError as e:
            raise ConfigError(e.args[0]) from None
        print(download(weights, progress=not args.quiet))
    return 0


def export_cmd(args) -> int:
    """Write a checkpoint's model as a standalone ONNX graph (dynamic batch and length), checked against PyTorch."""
    from panns_core.inference.onnx_runtime import export_onnx
    from panns_core.inference.tagger import Tagger

    model = Tagger.from_pretrained(
        args.name, arch=args.arch, device="cpu", backend="torch", progress=not args.quiet
    ).model
    export_onnx(model, args.onnx)
    print(args.onnx)
    return 0


def list_cmd(args) -> int:
    from panns_core.weights.cache import cached_path
    from panns_core.weights.catalogue import PRETRAINED

    for w in PRETRAINED.values():
        state = "cached" if cached_path(w).exists() else "not downloaded"
        print(f"{w.name:24s} {w.arch:24s} mAP {w.reported_map}  {state}  {w.url}")
    return 0


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m panns_core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("tag", help="tag audio files or folders, write a CSV")
    t.add_argument("paths", nargs="+", help="audio files and/or folders (searched recursively)")
    t.add_argument(
        "--checkpoint",
        default="Cnn14",
        help="the weights: a released name (default: Cnn14), a .pth path, owner/repo or hf://owner/repo/file",
    )
    t.add_argument("--model", dest="deprecated_model", default=None, help=argparse.SUPPRESS)  # old --checkpoint
    t.add_argument("--arch", default=None, help="architecture of a bare checkpoint file")
    t.add_argument(
        "--checkpoint-labels",
        default=None,
        help="CSV/JSON naming the outputs of a checkpoint whose head matches no known label set",
    )
    t.add_argument("--csv", default=None, help="output CSV (default: standard output)")
    t.add_argument("--top", type=positive_int, default=5)
    t.add_argument("--labels", choices=["animal", "audioset"], default="animal")
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
    t.set_defaults(func=tag)
    d = sub.add_parser("download", help="fetch released checkpoints into the cache")
    d.add_argument("names", nargs="+")
    d.add_argument("--quiet", action="store_true")
    d.set_defaults(func=download_cmd)
    e = sub.add_parser("export", help="export a checkpoint to an ONNX graph for ONNX Runtime")
    e.add_argument(
        "name",
        metavar="CHECKPOINT",
        help="the weights: a released name, a .pth path, owner/repo or hf://owner/repo/file",
    )
    e.add_argument("--onnx", required=True, help="output .onnx file")
    e.add_argument("--arch", default=None, help="architecture of a bare checkpoint file")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(func=export_cmd)
    ls = sub.add_parser("list", help="list released checkpoints and whether they are cached")
    ls.set_defaults(func=list_cmd)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "deprecated_model", None) is not None:
        print("note: `tag --model` is deprecated; it is now `--checkpoint` (same meaning)", file=sys.stderr)
        args.checkpoint = args.deprecated_model
    return run_command(lambda: args.func(args))
