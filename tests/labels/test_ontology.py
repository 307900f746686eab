"""Branch labels and ontology paths at the edges mutation testing found untested: the root, a direct
child of 'Wild animals', a class outside the animal subtree."""

from panns_core.labels.ontology import branch_of, ontology_path

ANIMAL, WILD, BIRD, CROW, SPEECH = "/m/0jbk", "/m/01280g", "/m/015p6", "/m/04s8yn", "/m/09x0r"


def test_branches_at_every_depth():
    assert branch_of(ANIMAL) == "Animal"  # the root is its own branch
    assert branch_of(WILD) == "Wild animals"  # a child of Animal
    assert branch_of(BIRD) == "Bird"  # a child of Wild animals names its own branch
    assert branch_of(CROW) == "Bird"  # below it, the Wild-animals child
    assert branch_of(SPEECH) == "Speech"  # outside the animal subtree: its own name


def test_paths_inside_and_outside_the_animal_subtree():
    assert ontology_path(ANIMAL) == ["Animal"]
    assert ontology_path(CROW) == ["Animal", "Wild animals", "Bird", "Crow"]
    assert ontology_path(SPEECH) == ["Human sounds", "Human voice", "Speech"]  # the whole chain, not just Speech
