"""Label sets and ontology, checked against the official AudioSet files in ../shared."""

import csv
import json

import numpy as np
import pytest

from panns_core.labels.ontology import branch_of, children, make_consistent, ontology_path, parents
from panns_core.labels.sets import ANIMAL, ANIMAL_INDICES, AUDIOSET, get_label_set, label_set_for


def test_audioset_order_matches_the_official_label_list(shared_dir):
    with open(shared_dir / "audioset" / "class_labels_indices.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(AUDIOSET) == 527
    assert list(AUDIOSET.mids) == [r["mid"] for r in rows]
    assert list(AUDIOSET.names) == [r["display_name"] for r in rows]


def test_animal_set_is_every_trainable_class_under_animal(shared_dir):
    entries = {e["id"]: e for e in json.loads((shared_dir / "audioset" / "ontology.json").read_text())}
    under, stack = set(), ["/m/0jbk"]
    while stack:
        mid = stack.pop()
        under.add(mid)
        stack += entries[mid]["child_ids"]
    expected = [i for i, mid in enumerate(AUDIOSET.mids) if mid in under]
    assert ANIMAL_INDICES == expected == list(range(72, 137))
    assert len(ANIMAL) == 65 and ANIMAL.mids[0] == "/m/0jbk" and "Music" not in ANIMAL.names
    assert get_label_set("animal") is ANIMAL and label_set_for(65) is ANIMAL and label_set_for(527) is AUDIOSET
    with pytest.raises(KeyError):
        get_label_set("birds")


def test_ontology_paths_and_branches():
    bark = "/m/05tny_"
    assert ontology_path(bark) == ["Animal", "Domestic animals, pets", "Dog", "Bark"]
    assert branch_of(bark) == "Domestic animals, pets"
    crow = ANIMAL.mids[ANIMAL.names.index("Crow")]
    assert branch_of(crow) == "Bird"
    assert "/m/0bt9lr" in parents(bark) and bark in children("/m/0bt9lr")
    assert ontology_path("/m/09x0r")[-1] == "Speech"  # outside the animal subtree


def test_consistent_scores_lift_parents_to_their_best_child():
    scores = np.zeros(len(ANIMAL), np.float32)
    bark = ANIMAL.index_of("/m/05tny_")
    scores[bark] = 0.9
    out = make_consistent(scores, ANIMAL.mids)
    for mid in ("/m/0bt9lr", "/m/068hy", "/m/0jbk"):  # Dog, Domestic animals, Animal
        assert out[ANIMAL.index_of(mid)] == pytest.approx(0.9)
    assert out[ANIMAL.index_of("/m/01yrx")] == 0  # Cat is untouched
    assert scores[ANIMAL.index_of("/m/0bt9lr")] == 0  # input not modified
