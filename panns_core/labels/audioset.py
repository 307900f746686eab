"""The AudioSet facts shipped with the package (class order, ids, names, ontology links).

Its own module so that labels and ontology can both read it without importing each other first.
"""

import json
from functools import lru_cache
from importlib import resources

ANIMAL_ROOT_MID = "/m/0jbk"


@lru_cache(maxsize=1)
def audioset_data() -> dict:
    """Package data built by tools/build_label_data.py: {'classes': [[mid, name], ...], 'ontology': {...}}."""
    return json.loads(resources.files("panns_core.labels").joinpath("audioset.json").read_text("utf-8"))
