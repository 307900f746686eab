"""What the outputs mean: label sets (AudioSet's 527 classes, its 65 animal classes), the ontology, AudioSet facts."""
