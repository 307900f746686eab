"""`panns probe fit --clips manifest.csv --out head.pth`: teach new classes on a checkpoint's frozen embeddings."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

from panns_core.cli.options import add_checkpoint_options, positive_int
from panns_core.errors import EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("probe", help="new classes from labelled clips: a small head on frozen embeddings")
    actions = p.add_subparsers(dest="probe_command", required=True)
    f = actions.add_parser("fit", help="fit a head for the manifest's labels and report cross-validated AP")
    f.add_argument(
        "--clips", required=True, help="manifest CSV: path, labels (';'-separated), optional start/end/group"
    )
    add_checkpoint_options(f)
    f.add_argument("--out", required=True, help="head file to write (.pth), used by `tag --head` and the demo")
    f.add_argument("--folds", type=positive_int, default=5, help="grouped cross-validation folds")
    f.add_argument("--min-positives", type=positive_int, default=5, help="positive clips each class needs")
    f.add_argument("--results", default=None, help="results folder to write the run to (the dashboard reads it)")
    f.add_argument("--cache", default=None, help="embeddings cache folder (default: the weights cache/embeddings)")
    f.add_argument("--quiet", action="store_true")
    f.set_defaults(func=run_fit)


def probe_run(fit, manifest, arch: str, head_path: Path, digest: str):
    """The results run of a probe: its cross-validated AP per class (not AudioSet classes: negative indices)."""
    import numpy as np
    import pandas as pd

    from panns_core.evaluation.results import RunInfo
    from panns_core.inference.heads import own_mid

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    run_id = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"probe_{head_path.stem}_{stamp}").lstrip("._")
    classwise = pd.DataFrame(
        {
            "iteration": 0,
            "index": [-(j + 1) for j in range(len(fit.names))],
            "mid": [own_mid(n) for n in fit.names],
            "display_name": fit.names,
            "ap": fit.cv_ap,
            "positives": fit.positives,
            "train_clips": len(manifest),
            "prior": fit.prior,
        }
    )
    info = RunInfo(
        run_id=run_id,
        kind="probe",
        status="measured",
        model=arch,
        display_name=f"Probe on {arch}: {', '.join(fit.names)}",
        trained_on="animal",
        label_set="animal",
        checkpoint=str(head_path),
        iterations=0,
        metrics={"mAP": float(np.mean(fit.cv_ap)), "classes_scored": len(fit.names)},
        settings={"folds": fit.folds, "C": fit.chosen_c, "base_weights": digest},
        eval_set={"name": f"own clips of {manifest.path.name}", "clips": len(manifest), "digest": manifest.digest()},
        notes=(
            f"linear probe on frozen {arch} embeddings; AP cross-validated over {fit.folds} folds grouped by "
            "recording, on the user's own classes (not AudioSet classes)"
        ),
    )
    return info, classwise


def run_fit(args) -> int:
    import numpy as np

    from panns_core.evaluation.results import write_run
    from panns_core.inference.heads import ProbeHead, save_head
    from panns_core.inference.tagger import Tagger
    from panns_core.own_labels.embeddings import clip_features
    from panns_core.own_labels.manifest import check_positives, read_manifest
    from panns_core.own_labels.probe import fit_probe

    manifest = read_manifest(args.clips)
    check_positives(manifest, args.min_positives)  # every class short of clips told before any model loads
    tagger = Tagger.from_pretrained(args.checkpoint, arch=args.arch)
    features = clip_features(tagger, manifest.clips, cache=args.cache, progress=not args.quiet)
    names = manifest.classes
    truth = np.array([[n in clip.labels for n in names] for clip in manifest.clips])
    fit = fit_probe(features.embeddings, truth, names, [c.group for c in manifest.clips], folds=args.folds)
    summary = {
        "manifest": str(manifest.path),
        "manifest_digest": manifest.digest(),
        "clips": len(manifest),
        "folds": fit.folds,
        "cv_ap": dict(zip(names, fit.cv_ap)),
        "prior": dict(zip(names, fit.prior)),
        "positives": dict(zip(names, fit.positives)),
        "C": dict(zip(names, fit.chosen_c)),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
    out = Path(args.out)
    save_head(out, ProbeHead(fit.weight, fit.bias, tuple(names), features.weights_digest, tagger.arch, summary))
    print(f"head for {len(names)} classes on {tagger.arch} -> {out}")
    for name, ap, prior, pos in zip(names, fit.cv_ap, fit.prior, fit.positives):
        print(f"  {name}: cross-validated AP {ap:.3f} (chance {prior:.3f}, {pos} positives)")
    if args.results:
        info, classwise = probe_run(fit, manifest, tagger.arch, out, features.weights_digest)
        print(f"results run -> {write_run(args.results, info, classwise)}")
    return EXIT_OK
