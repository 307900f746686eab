"""`panns calibrate --clips manifest.csv --out DIR`: per-class thresholds from your own labelled clips."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from panns_core.cli.options import add_checkpoint_options, positive_int
from panns_core.errors import EXIT_OK, ConfigError

THRESHOLDS_FILE = "thresholds.csv"
SKIPPED_FILE = "skipped.csv"


def add_parser(sub) -> None:
    c = sub.add_parser("calibrate", help="per-class thresholds from labelled clips (writes a thresholds file)")
    c.add_argument("--clips", required=True, help="manifest CSV: path, labels (';'-separated), optional start/end")
    add_checkpoint_options(c)
    target = c.add_mutually_exclusive_group()
    target.add_argument("--target-precision", type=float, default=None, help="precision to reach (default 0.9)")
    target.add_argument("--target-recall", type=float, default=None, help="recall to keep, instead")
    c.add_argument("--label-set", choices=["animal", "audioset"], default="animal", help="the classes to calibrate")
    c.add_argument("--min-positives", type=positive_int, default=5, help="fewer positive clips: listed, not guessed")
    c.add_argument("--out", required=True, help="folder for thresholds.csv, skipped.csv and the pictures")
    c.add_argument("--cache", default=None, help="embeddings cache folder (default: the weights cache/embeddings)")
    c.add_argument("--quiet", action="store_true")
    c.set_defaults(func=run)


def calibrate_clips(tagger, manifest, target, out, min_positives: int = 5, cache=None, progress=False) -> dict:
    """Score the manifest's clips (cached), calibrate the classes it names and write the files; return a summary."""
    import numpy as np

    from panns_core.inference.thresholds import write_thresholds
    from panns_core.own_labels.calibrate import EXTRA_COLUMNS, calibrate
    from panns_core.own_labels.embeddings import clip_features
    from panns_core.own_labels.manifest import resolve_labels
    from panns_core.own_labels.plots import pr_curves, reliability_plot

    mid_of = resolve_labels(manifest, tagger.labels)
    mids = list(dict.fromkeys(mid_of[label] for label in manifest.classes))
    features = clip_features(tagger, manifest.clips, cache=cache, progress=progress)
    columns = [tagger.labels.index_of(m) for m in mids]
    scores = features.scores[:, columns]
    truth = np.array([[m in {mid_of[x] for x in clip.labels} for m in mids] for clip in manifest.clips])
    names = [tagger.labels.name_of(m) for m in mids]
    result = calibrate(scores, truth, mids, names, target, min_positives=min_positives)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    write_thresholds(out / THRESHOLDS_FILE, result.rows, extra=EXTRA_COLUMNS)
    with open(out / SKIPPED_FILE, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=["mid", "display_name", "positives", "reason"])
        writer.writeheader()
        writer.writerows(result.skipped)
    done = [mids.index(r["mid"]) for r in result.rows]
    if done:
        reliability_plot(scores[:, done], truth[:, done], out / "reliability.png")
        pr_curves(result.curves, result.rows, out / "precision_recall.png")
    summary = {
        "manifest": str(manifest.path),
        "manifest_digest": manifest.digest(),
        "clips": len(manifest),
        "checkpoint_weights": features.weights_digest,
        "arch": tagger.arch,
        "target": target.text(),
        "calibrated": len(result.rows),
        "skipped": len(result.skipped),
        "clips_scored_now": features.computed,
    }
    (out / "calibration.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    summary["rows"], summary["skipped_rows"] = result.rows, result.skipped
    return summary


def run(args) -> int:
    from panns_core.inference.tagger import Tagger
    from panns_core.own_labels.calibrate import Target
    from panns_core.own_labels.manifest import read_manifest

    target = (
        Target(recall=args.target_recall) if args.target_recall is not None else Target(args.target_precision or 0.9)
    )
    manifest = read_manifest(args.clips)  # every problem of the file told before any model loads
    tagger = Tagger.from_pretrained(args.checkpoint, arch=args.arch, label_set=args.label_set)
    summary = calibrate_clips(
        tagger, manifest, target, args.out, args.min_positives, cache=args.cache, progress=not args.quiet
    )
    if not summary["rows"]:
        raise ConfigError(f"no class could be calibrated to {target.text()}; see {Path(args.out) / SKIPPED_FILE}")
    print(f"{summary['calibrated']} classes calibrated to {target.text()} -> {Path(args.out) / THRESHOLDS_FILE}")
    for r in summary["rows"]:
        print(
            f"  {r['display_name']}: threshold {r['threshold']:.3f} "
            f"[{r['threshold_low']:.3f}, {r['threshold_high']:.3f}]"
            f"  precision {r['precision']:.2f} recall {r['recall']:.2f}  ({r['positives']} positives)"
        )
    for s in summary["skipped_rows"]:
        print(f"  not calibrated: {s['display_name']} ({s['positives']} positives): {s['reason']}", file=sys.stderr)
    return EXIT_OK
