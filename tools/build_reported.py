"""Build the shipped `results/reported_*` runs from the published figures, so their provenance is reproducible.

    python tools/build_reported.py --source ../shared/audioset/panns_paper_classwise_ap.csv [--out results]

Two groups of reported runs (all kind/status "reported", each with its citation; the reference
study's runs are read from its figures by tools/read_study_figures.py):
- the PANNs paper's per-class AP of four general models, kept for the 65 animal classes (AudioSet
  indices 72..136), their mAP over those classes computed here from the per-class figures;
- the PANNs paper's overall 527-class mAPs (no per-class table).
The per-class figures come from a CSV read off the PANNs authors' vector plot; only the numbers are
carried over, into our own format. Re-running this script rewrites the same files.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from a checkout

from panns_core.evaluation.results import EVAL_SETS, RunInfo, write_run

ANIMAL_FIRST, ANIMAL_LAST = 72, 136  # the Animal subtree (/m/0jbk) in AudioSet output order

PANNS_PAPER = (
    "Kong, Cao, Iqbal, Wang, Wang, Plumbley. PANNs: Large-Scale Pretrained Audio Neural Networks "
    "for Audio Pattern Recognition. IEEE/ACM TASLP 28 (2020), 2880-2894"
)
PANNS_CLASSWISE = (
    PANNS_PAPER + "; per-class AP read from the class-wise plot resources/long_fig.pdf of "
    "github.com/qiuqiangkong/audioset_tagging_cnn"
)
# (column in the source CSV, run_id, model, display name, note)
CLASSWISE_MODELS = [
    ("ap_cnn14", "reported_panns_cnn14_animal", "Cnn14", "CNN14 (general, PANNs paper)", ""),
    (
        "ap_wavegram_logmel_cnn14",
        "reported_panns_wavegram_logmel_cnn14_animal",
        "Wavegram_Logmel_Cnn14",
        "Wavegram-Logmel-CNN (general, PANNs paper)",
        "The plotted per-class figures average 0.434 over all 527 classes, below the 0.439 of the released checkpoint.",
    ),
    ("ap_mobilenetv1", "reported_panns_mobilenetv1_animal", "MobileNetV1", "MobileNetV1 (general, PANNs paper)", ""),
    (
        "ap_google_baseline_averaging_instances",
        "reported_google_baseline_animal",
        "GoogleBaseline",
        "Google's baseline (general, PANNs paper)",
        "Google's AudioSet baseline ('averaging instances' series), as plotted by the PANNs authors.",
    ),
]
OVERALL_MAPS = [  # PANNs paper, Table of AudioSet tagging results, all 527 classes
    ("reported_panns_cnn14_audioset527", "Cnn14", "CNN14 (general, PANNs paper)", 0.431),
    ("reported_panns_resnet38_audioset527", "ResNet38", "ResNet38 (general, PANNs paper)", 0.434),
    (
        "reported_panns_wavegram_logmel_cnn14_audioset527",
        "Wavegram_Logmel_Cnn14",
        "Wavegram-Logmel-CNN (general, PANNs paper)",
        0.439,
    ),
    ("reported_panns_mobilenetv1_audioset527", "MobileNetV1", "MobileNetV1 (general, PANNs paper)", 0.389),
]
CREATED = "2020-11-01T00:00:00+00:00"  # fixed so that rebuilding gives identical files


def animal_classwise(source: pd.DataFrame, column: str) -> pd.DataFrame:
    """The 65 animal rows of one model's per-class AP, in our classwise format (iteration empty)."""
    rows = source[source["index"].between(ANIMAL_FIRST, ANIMAL_LAST)].sort_values("index")
    if len(rows) != ANIMAL_LAST - ANIMAL_FIRST + 1:
        raise ValueError(f"expected 65 animal rows (indices 72..136), found {len(rows)}")
    return pd.DataFrame(
        {
            "iteration": pd.array([pd.NA] * len(rows), dtype="Int64"),
            "index": rows["index"].to_numpy(),
            "mid": rows["mid"].to_numpy(),
            "display_name": rows["display_name"].to_numpy(),
            "ap": rows[column].astype(float).to_numpy(),
            "label_quality": rows["label_quality"].astype(float).to_numpy() + 0.0,  # + 0.0 turns -0.0 into 0.0
        }
    )


def build(source_csv, out) -> list[Path]:
    """Write every reported run into `out` (replacing earlier versions) and return their folders."""
    source = pd.read_csv(source_csv)
    written = []
    for column, run_id, model, name, note in CLASSWISE_MODELS:
        table = animal_classwise(source, column)
        info = RunInfo(
            run_id=run_id,
            kind="reported",
            status="reported",
            model=model,
            display_name=name,
            trained_on="audioset",
            label_set="animal",
            source=PANNS_CLASSWISE,
            created=CREATED,
            data={"eval": "AudioSet evaluation set", "train": "AudioSet training set (527 classes)"},
            eval_set=dict(EVAL_SETS["audioset_eval_panns"]),
            metrics={"mAP": round(float(table["ap"].mean()), 6), "classes_scored": len(table), "classes_left_out": []},
            notes=(
                "General 527-class model, per-class AP on the AudioSet eval set kept for the 65 animal classes; "
                "mAP is their mean. " + note
            ).strip(),
        )
        written.append(write_run(out, info, table, overwrite=True))
    for run_id, model, name, value in OVERALL_MAPS:
        info = RunInfo(
            run_id=run_id,
            kind="reported",
            status="reported",
            model=model,
            display_name=name,
            trained_on="audioset",
            label_set="audioset",
            source=PANNS_PAPER,
            created=CREATED,
            data={"eval": "AudioSet evaluation set", "train": "AudioSet full training set (527 classes)"},
            eval_set=dict(EVAL_SETS["audioset_eval_panns"]),
            metrics={"mAP": value, "classes_scored": 527},
            notes="Overall mAP over all 527 AudioSet classes: not comparable with a mAP over the 65 animal classes.",
        )
        written.append(write_run(out, info, overwrite=True))
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--source", required=True, help="panns_paper_classwise_ap.csv (per-class AP of the PANNs paper)"
    )
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "results"), help="results folder")
    args = parser.parse_args(argv)
    for path in build(args.source, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
