"""Build panns_core/labels/audioset.json from the official AudioSet metadata.

    python tools/build_label_data.py ../shared/audioset

Keeps only the facts the package needs (class order, ids, names, parent/child links) in one
compact file of our own. Sources: AudioSet label list (CC BY 4.0) and ontology (CC BY-SA 4.0),
Gemmeke et al. 2017; see docs/attribution.md.
"""

import csv
import json
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "panns_core" / "labels" / "audioset.json"


def build(source: Path) -> dict:
    with open(source / "class_labels_indices.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["index"]))
    classes = [[r["mid"], r["display_name"]] for r in rows]
    entries = json.loads((source / "ontology.json").read_text())
    ontology = {e["id"]: {"name": e["name"], "children": e.get("child_ids", [])} for e in entries}
    return {
        "source": "AudioSet label list (CC BY 4.0) and ontology (CC BY-SA 4.0), Gemmeke et al. 2017",
        "classes": classes,
        "ontology": ontology,
    }


if __name__ == "__main__":
    data = build(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/audioset"))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
    print(f"wrote {OUT}: {len(data['classes'])} classes, {len(data['ontology'])} ontology entries")
