"""The 65 animal classes with their ontology branch and path, from the core package (one source of truth).

Built afresh on each call (about a millisecond): caching belongs to the app layer only, and the app
caches the loaded Results, so this runs a handful of times per rerun at most.
"""

from __future__ import annotations

import pandas as pd

from panns_core.labels.ontology import branch_of, ontology_path
from panns_core.labels.sets import ANIMAL


def animal_classes() -> pd.DataFrame:
    """index, mid, class (display name), branch (filter label), path ('Animal > ... > Bark'), in AudioSet order."""
    return pd.DataFrame(
        {
            "index": list(ANIMAL.indices),
            "mid": list(ANIMAL.mids),
            "class": list(ANIMAL.names),
            "branch": [branch_of(m) for m in ANIMAL.mids],
            "path": [" > ".join(ontology_path(m)) for m in ANIMAL.mids],
        }
    )


def branches() -> list[str]:
    """Branch labels in AudioSet order of their first class (Animal first, then domestic, livestock, ...)."""
    return list(dict.fromkeys(animal_classes()["branch"]))
