"""Read the reference study's two figures back into reported runs: curves per line, AP per class per iteration.

    python tools/read_study_figures.py [--seed ../shared/seed] [--out results]

Every pixel position is found in the image (tools/figure_reader.py: spines, tick marks, legend
frames and swatches); what is transcribed from the figures' *text* is listed below and nothing
else: the tick labels' values, the legends' words (and the clip counts printed in them), and
which line belongs to which run. See results/README.md ("The reference study's figures") for the
calibration, the colours, the reading error and the figure's traps. Re-running the script rewrites
identical files (tests/evaluation/test_study_figures.py checks that).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a plain script from a checkout

from panns_core.evaluation.results import EVAL_SETS, RunInfo, write_run
from panns_core.labels.sets import ANIMAL
from tools import figure_reader as fr

CURVES_PNG = "four_figures_final.png"
CLASSWISE_PNG = "CNN14_classwise_results.png"
STUDY = (
    "Animal sound recognition using deep learning techniques (master's project, TIDE, "
    "Paris 1 Pantheon-Sorbonne), figure {figure}, panel ({panel}), read from the image by tools/read_study_figures.py"
)
CREATED = "2020-11-01T00:00:00+00:00"  # fixed so that rebuilding gives identical files
FAINT_ALPHA = 0.3  # the faint second series: the solid colour at 30 % over white (e.g. red -> (255, 178, 178))
SOLID_TOL, FAINT_TOL = 40.0, 14.0  # colour distance (RGB, 0..255) still counted as the line

# --- transcribed from the figures' text (not numbers read from pixels) ---
CURVE_X_TICKS = [0, 4000, 8000, 12000]  # "0, 4k, 8k, 12k" under every panel
CURVE_Y_TICKS = [0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.0]  # top to bottom; unlabelled minor ticks between
CURVE_STEP = 2000  # lines bend every 2k iterations: the evaluation interval
CLASS_X_TICKS = [0, 3000, 6000, 9000]
CLASS_Y_TICKS = [1.0, 0.8, 0.6, 0.4, 0.2, 0.0]
CLASS_STEP = 1000

PLAIN = {"balanced": False, "mixup": False, "batch_size": 32, "data_fraction": 1.0}
BAL_MIXUP = {"balanced": True, "mixup": True, "batch_size": 32, "data_fraction": 1.0}


@dataclass(frozen=True)
class Line:
    """One legend entry of four_figures_final.png and the run it belongs to."""

    panel: str
    legend: str
    run_id: str
    model: str
    display_name: str
    settings: dict


# Panels in reading order a, b, c, d; legend entries in legend order. A run drawn in several panels
# is read from the first panel that shows it; the others are checked against it by the tests.
CURVE_LINES = {
    "a": [
        Line("a", "ResNet38", "reported_study_resnet38_plain", "ResNet38", "ResNet38, plain (study)", PLAIN),
        Line("a", "CNN 14", "reported_study_cnn14_plain", "Cnn14", "CNN14, plain (study)", PLAIN),
        Line(
            "a",
            "Wavegram-Logmel-CNN",
            "reported_study_wavegram_logmel_cnn14_plain",
            "Wavegram_Logmel_Cnn14",
            "Wavegram-Logmel-CNN, plain (study)",
            PLAIN,
        ),
    ],
    "b": [
        Line("b", "ResNet38", "reported_study_resnet38_plain", "ResNet38", "", PLAIN),
        Line("b", "CNN14", "reported_study_cnn14_plain", "Cnn14", "", PLAIN),
        Line(
            "b",
            "CNN14,bal,mixup",
            "reported_study_cnn14_animal",
            "Cnn14",
            "CNN14 (animal-only, reference study)",
            BAL_MIXUP,
        ),
        Line(
            "b",
            "ResNet38,bal,mixup",
            "reported_study_resnet38_animal",
            "ResNet38",
            "ResNet38 (animal-only, reference study)",
            BAL_MIXUP,
        ),
    ],
    "c": [
        Line("c", "CNN14 (100% full)", "reported_study_cnn14_animal", "Cnn14", "", BAL_MIXUP),
        Line(
            "c",
            "CNN14 (50% full)",
            "reported_study_cnn14_half_data",
            "Cnn14",
            "CNN14, 50% of the data (study)",
            {**BAL_MIXUP, "data_fraction": 0.5},
        ),
    ],
    "d": [
        Line("d", "CNN14 balanced mixup, batch size=32", "reported_study_cnn14_animal", "Cnn14", "", BAL_MIXUP),
        Line(
            "d",
            "CNN14 balanced mixup, batch size=16",
            "reported_study_cnn14_batch16",
            "Cnn14",
            "CNN14, batch 16 (study)",
            {**BAL_MIXUP, "batch_size": 16},
        ),
    ],
}
COMPARISONS = {
    "a": "Model comparison",
    "b": "Comparison of training data balancing and augmentation",
    "c": "Amount of training data comparison",
    "d": "Comparison of batch size",
}
HEADLINES = {"reported_study_cnn14_animal": (0.561, 14000), "reported_study_resnet38_animal": (0.551, 12000)}
HEADLINE_NOTE = (
    "Scored on 66 classes: the 65 animal classes plus Music (index 137), kept by mistake. "
    "mAP from the study's README; curve read from four_figures_final.png."
)

# CNN14_classwise_results.png, three panels, legend entries in order: (legend text, AudioSet display name).
CLASS_LEGENDS = [
    [
        ("Animal (37,857)", "Animal"),
        ("Bird (25,61)", "Bird"),
        ("Domestic (18,504)", "Domestic animals, pets"),
        ("Dog (12,864)", "Dog"),
        ("Pigeon, dove (8,126)", "Pigeon, dove"),
        ("Bird (5,792)", "Bird vocalization, bird call, bird song"),
        ("Fowl (5,498)", "Fowl"),
        ("Chicken, rooster (5,430)", "Chicken, rooster"),
        ("Chirp, tweet (4,256)", "Chirp, tweet"),
        ("Livestock, farm (4,60)", "Livestock, farm animals, working animals"),
    ],
    [
        ("Bow-wow (3,624)", "Bow-wow"),
        ("Cat (3,583)", "Cat"),
        ("Clip-clop (3,143)", "Clip-clop"),
        ("Horse (3,97)", "Horse"),
        ("Insect (2,841)", "Insect"),
        ("Coo (2,740)", "Coo"),
        ("Bark (2,475)", "Bark"),
        ("Sheep (2,429)", "Sheep"),
        ("Duck (2,401)", "Duck"),
        ("Hiss (2,364)", "Hiss"),
        ("Quack (2,258)", "Quack"),
    ],
    [
        ("Yip (2,182)", "Yip"),
        ("Cluck (2,139)", "Cluck"),
        ("Bleat (1,879)", "Bleat"),
        ("Goat (1,865)", "Goat"),
        ("Meow (1,780)", "Meow"),
        ("Crowing, (1,761)", "Crowing, cock-a-doodle-doo"),
        ("Bee, wasp, etc. (1,731)", "Bee, wasp, etc."),
        ("Honk (1,711)", "Honk"),
        ("Whimper (dog) (1,683)", "Whimper (dog)"),
        ("Goose (1,672)", "Goose"),
        ("Canidae, dogs, (1,592)", "Canidae, dogs, wolves"),
    ],
]
CLASSWISE_RUN = "reported_study_cnn14_classwise"


def legend_count(text: str) -> float:
    """The clip count printed in a legend entry; NaN when misprinted (a group of fewer than three digits
    after the comma, as in 'Horse (3,97)', has lost a digit we cannot guess)."""
    match = re.search(r"\((\d{1,3})(?:,(\d+))?\)\s*$", text)
    if not match or (match.group(2) is not None and len(match.group(2)) != 3):
        return float("nan")
    return float(match.group(1) + (match.group(2) or ""))


@dataclass
class Panel:
    """A calibrated panel: spines, axes, legend frame and legend colours (top to bottom)."""

    box: fr.Box
    x: fr.Axis
    y: fr.Axis
    legend: fr.Box
    colours: list[np.ndarray]


def _labelled(ticks: list[float], labels: list[float]) -> list[float]:
    """The labelled tick marks: all of them, or every other one when minor ticks sit between labels."""
    if len(ticks) == 2 * len(labels) - 1:
        return ticks[::2]
    return ticks


def calibrate_panels(img: np.ndarray, x_labels, y_labels, legend_outside: bool) -> list[Panel]:
    panels = fr.find_panels(img)
    out = []
    for i, box in enumerate(panels):
        x = fr.calibrate(_labelled(fr.tick_pixels(img, box, "x"), x_labels), x_labels, f"panel {i + 1} x axis")
        y = fr.calibrate(_labelled(fr.tick_pixels(img, box, "y"), y_labels), y_labels, f"panel {i + 1} y axis")
        if legend_outside:  # right of the axes, up to the next panel's tick labels
            right = panels[i + 1].left - 40 if i + 1 < len(panels) else img.shape[1] - 1
            region = fr.Box(box.right + 1, right, box.top - 5, box.bottom)
        else:
            region = box
        legend = fr.legend_frame(img, region)
        if legend is None:
            raise ValueError(f"panel {i + 1}: no legend frame found")
        out.append(Panel(box, x, y, legend, [c for _, c in fr.legend_swatches(img, legend)]))
    return out


def _read_track(track: dict[int, float], panel: Panel, iterations: list[int], step: int) -> list[float | None]:
    half = 0.8 * float(panel.x.pixel(step) - panel.x.pixel(0))
    values = []
    for it in iterations:
        row = fr.value_at(track, float(panel.x.pixel(it)), half)
        value = None if row is None else float(panel.y.value(row))
        inside = value is not None and -0.01 <= value <= float(panel.y.value(panel.box.top)) + 0.01
        values.append(round(min(max(value, 0.0), 1.0), 4) if inside else None)
    return values


def _iterations(hits, panel: Panel, step: int) -> list[int]:
    last = fr.last_column(hits)
    end = round(float(panel.x.value(last)) / step) * step
    return list(range(0, end + 1, step))


def _hex(colour) -> str:
    return "#" + "".join(f"{int(c):02x}" for c in colour)


def read_curves(seed_dir) -> pd.DataFrame:
    """Long table panel, legend, run_id, series ('solid' or 'faint'), iteration, mAP: every line of every panel."""
    img = fr.load_rgb(Path(seed_dir) / CURVES_PNG)
    panels = calibrate_panels(img, CURVE_X_TICKS, CURVE_Y_TICKS, legend_outside=False)
    rows = []
    for panel, (name, lines) in zip(panels, CURVE_LINES.items()):
        if len(panel.colours) != len(lines):
            raise ValueError(f"panel ({name}): {len(panel.colours)} legend colours for {len(lines)} legend entries")
        solids, faints = [], []
        for line, colour in zip(lines, panel.colours):
            solid = fr.column_hits(img, panel.box, colour, SOLID_TOL, exclude=[panel.legend])
            light = fr.faint(colour, FAINT_ALPHA)
            faint = fr.column_hits(img, panel.box, light, FAINT_TOL, exclude=[panel.legend], avoid=colour)
            for series, hits, store in (("solid", solid, solids), ("faint", faint, faints)):
                iterations = _iterations(hits, panel, CURVE_STEP)
                values = _read_track(fr.single_track(hits), panel, iterations, CURVE_STEP)
                store.append(
                    (
                        line,
                        _hex(colour if series == "solid" else light),
                        pd.Series(values, index=iterations, dtype=float),
                    )
                )
        for line, colour, values in solids:
            rows += [
                {
                    "panel": name,
                    "legend": line.legend,
                    "run_id": line.run_id,
                    "series": "solid",
                    "colour": colour,
                    "iteration": it,
                    "mAP": v,
                }
                for it, v in values.items()
            ]
        for _, colour, values in faints:
            # A faint series belongs to the solid line it follows: in panel (d) the faint colours are swapped.
            owner = min(solids, key=lambda s: (values - s[2]).abs().mean())[0]
            rows += [
                {
                    "panel": name,
                    "legend": owner.legend,
                    "run_id": owner.run_id,
                    "series": "faint",
                    "colour": colour,
                    "iteration": it,
                    "mAP": v,
                }
                for it, v in values.items()
            ]
    return pd.DataFrame(rows)


def read_classwise(seed_dir) -> pd.DataFrame:
    """Long table panel, legend, display_name, iteration, ap, reading (how the line was told apart)."""
    img = fr.load_rgb(Path(seed_dir) / CLASSWISE_PNG)
    panels = calibrate_panels(img, CLASS_X_TICKS, CLASS_Y_TICKS, legend_outside=True)
    rows = []
    for p, (panel, legend) in enumerate(zip(panels, CLASS_LEGENDS), start=1):
        if len(panel.colours) != len(legend):
            raise ValueError(f"panel {p}: {len(panel.colours)} legend swatches for {len(legend)} legend entries")
        keys = [tuple(int(v) for v in c) for c in panel.colours]
        for entry, (text, name) in enumerate(legend):
            shared = [j for j, k in enumerate(keys) if k == keys[entry]]
            hits = fr.column_hits(img, panel.box, panel.colours[entry], SOLID_TOL)
            iterations = _iterations(hits, panel, CLASS_STEP)
            if len(shared) == 1:
                track, reading = fr.single_track(hits), "own colour"
            else:  # two entries share a colour (matplotlib's ten-colour cycle wrapped): upper / lower line
                upper, lower = fr.split_tracks(hits)
                first = shared.index(entry) == 0
                track = upper if first else lower
                other = legend[shared[1 if first else 0]][1]
                reading = (
                    f"ambiguous: shares its colour with {other}; read as the {'upper' if first else 'lower'} "
                    "of the two lines"
                )
            for it, v in zip(iterations, _read_track(track, panel, iterations, CLASS_STEP)):
                rows.append(
                    {
                        "panel": p,
                        "legend": text,
                        "display_name": name,
                        "iteration": it,
                        "ap": v,
                        "train_clips": legend_count(text),
                        "reading": reading,
                    }
                )
    return pd.DataFrame(rows)


def _curve_info(line: Line, series: str, last: int, panels: list[str]) -> RunInfo:
    faint = series == "faint"
    run_id = line.run_id + ("_faint" if faint else "")
    name = line.display_name + (" - faint second series" if faint else "")
    headline = HEADLINES.get(line.run_id) if not faint else None
    figure_panels = ", ".join(f"({p})" for p in panels)
    notes = (
        f"Read from four_figures_final.png, panel{'s' if len(panels) > 1 else ''} {figure_panels}, "
        f"legend '{line.legend}'"
        + (", faint line: the study's second series of the same run" if faint else "")
        + ". Reading error about 0.003 mAP (one pixel)."
    )
    if headline:
        notes = HEADLINE_NOTE + " " + notes
    return RunInfo(
        run_id=run_id,
        kind="reported",
        status="reported",
        model=line.model,
        display_name=name,
        trained_on="animal",
        label_set="animal",
        source=STUDY.format(figure="four_figures_final.png", panel=panels[0]),
        created=CREATED,
        iterations=headline[1] if headline else last,
        data={"train": "AudioSet clips carrying an animal class", "classes": 66},
        eval_set=dict(EVAL_SETS["audioset_eval_study"]),
        settings=dict(line.settings),
        metrics={"mAP": headline[0], "classes_scored": 66} if headline else {"classes_scored": 66},
        notes=notes,
        extra={
            "figure": {
                "file": CURVES_PNG,
                "panels": panels,
                "legend": line.legend,
                "series": series,
                "comparisons": {p: COMPARISONS[p] for p in panels},
            }
        },
    )


def build(seed_dir, out) -> list[Path]:
    """Write the study's curve runs and its class-wise run into `out`; return their folders."""
    curves = read_curves(seed_dir)
    written = []
    for (run_id, series), part in curves.groupby(["run_id", "series"], sort=True):
        panels = sorted(part["panel"].unique())
        first = part[part["panel"] == panels[0]]
        line = next(ln for ln in CURVE_LINES[panels[0]] if ln.run_id == run_id)
        if not line.display_name:
            line = next(ln for p in CURVE_LINES.values() for ln in p if ln.run_id == run_id and ln.display_name)
        # the first panel showing the run; an iteration hidden there (lines overlap at 0) is taken from another
        curve = (
            first.set_index("iteration")["mAP"]
            .combine_first(part.dropna(subset=["mAP"]).groupby("iteration")["mAP"].first())
            .dropna()
            .rename_axis("iteration")
            .reset_index()
        )
        info = _curve_info(line, series, int(curve["iteration"].max()), panels)
        written.append(write_run(out, info, curve_df=curve, overwrite=True))
    written.append(write_classwise(read_classwise(seed_dir), out))
    return written


def write_classwise(table: pd.DataFrame, out) -> Path:
    table = table.dropna(subset=["ap"])  # hidden or unreadable at that iteration: no row rather than a guess
    index = dict(zip(ANIMAL.names, ANIMAL.indices))
    mids = dict(zip(ANIMAL.names, ANIMAL.mids))
    unknown = sorted(set(table["display_name"]) - set(index))
    if unknown:
        raise ValueError(f"legend names not among AudioSet's animal classes: {unknown}")
    classwise = (
        pd.DataFrame(
            {
                "iteration": table["iteration"],
                "index": table["display_name"].map(index),
                "mid": table["display_name"].map(mids),
                "display_name": table["display_name"],
                "ap": table["ap"],
                "auc": np.nan,
                "positives": np.nan,
                "train_clips": table["train_clips"],
                "legend": table["legend"],
                "panel": table["panel"],
                "reading": table["reading"],
            }
        )
        .sort_values(["index", "iteration"])
        .reset_index(drop=True)
    )
    info = RunInfo(
        run_id=CLASSWISE_RUN,
        kind="reported",
        status="reported",
        model="Cnn14",
        display_name="CNN14 (animal-only, reference study, class-wise figure)",
        trained_on="animal",
        label_set="animal",
        source=STUDY.format(figure="CNN14_classwise_results.png", panel="1-3"),
        created=CREATED,
        iterations=int(classwise["iteration"].max()),
        data={"train": "AudioSet clips carrying an animal class", "classes": 66},
        eval_set=dict(EVAL_SETS["audioset_eval_study"]),
        metrics={"classes_scored": int(classwise["index"].nunique())},
        notes=(
            "AP per class at iterations 0 to 7k for the 32 legend entries (30 distinct colours) of "
            "CNN14_classwise_results.png; train_clips is the clip count printed in the legend, empty where it is "
            "misprinted (Bird (25,61), Horse (3,97), Livestock (4,60)). 'Bird (5,792)' is Bird vocalization, bird "
            "call, bird song. Bow-wow/Quack and Yip/Canidae share a colour: the column 'reading' says which line "
            "was taken (ambiguous). The study does not say which CNN14 run (settings) this is."
        ),
        extra={"figure": {"file": CLASSWISE_PNG, "panels": [1, 2, 3]}},
    )
    return write_run(out, info, classwise_df=classwise, overwrite=True)


def main(argv=None) -> int:
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", default=str(root.parent / "shared" / "seed"), help="folder with the study's PNGs")
    parser.add_argument("--out", default=str(root / "results"), help="results folder")
    args = parser.parse_args(argv)
    for path in build(args.seed, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
