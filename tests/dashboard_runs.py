"""Tiny result folders for the dashboard's mutation tests: one run written in one line, with known numbers."""

import pandas as pd

from dashboard.classes import animal_classes
from panns_core.evaluation.results import RunInfo, write_run

NAMES = animal_classes().set_index("index")["class"]
MIDS = animal_classes().set_index("index")["mid"]


def rows(aps, iteration=None, **columns):
    """Class-wise rows for {index: ap} (a list of pairs keeps a class listed twice); extra columns per row.
    Index 0 (Speech) stands for a class that is not an animal."""
    mids, names = {0: "/m/09x0r", **MIDS.to_dict()}, {0: "Speech", **NAMES.to_dict()}
    pairs = list(aps.items() if isinstance(aps, dict) else aps)
    table = pd.DataFrame(
        [dict(iteration=iteration, index=i, mid=mids[i], display_name=names[i], ap=ap) for i, ap in pairs]
    )
    for name, values in columns.items():
        table[name] = values
    return table


def run(root, run_id, classwise=None, curve=None, **fields):
    """Write one run; defaults: a measured evaluate run of an animal-only model named after its id."""
    info = dict(kind="evaluate", status="measured", model=run_id, trained_on="animal", label_set="animal")
    info.update(fields)
    if info["status"] == "reported":
        info.setdefault("source", "a paper")
    write_run(root, RunInfo(run_id=run_id, **info), classwise, curve)
