"""The demo with --thresholds marks each score against its class's own threshold; bad files stop it at start."""

from __future__ import annotations

import pytest

from demo.config import parse_config
from demo.trust import ModelTrust, trust_cell
from panns_core.inference.thresholds import write_thresholds
from tests.own_labels.conftest import CAT, DOG


def test_scores_are_marked_against_their_own_threshold():
    trust = ModelTrust({DOG: 0.8}, "run x").with_thresholds({DOG: 0.35, CAT: 0.6})
    assert trust_cell(trust.of(DOG), 0.36).endswith("own threshold 0.350: **reached**")
    assert "AP 0.80" in trust_cell(trust.of(DOG), 0.36)
    assert trust_cell(trust.of(DOG), 0.349).endswith("own threshold 0.350: not reached")
    assert trust_cell(trust.of(CAT), 0.7).endswith("own threshold 0.600: **reached**")  # no AP, still marked
    assert "own threshold" not in trust_cell(trust.of("/m/068hy"), 0.9)  # no threshold: no mark


def test_demo_options_name_missing_files(tmp_path, capsys):
    thresholds = write_thresholds(tmp_path / "t.csv", [{"mid": DOG, "display_name": "Dog", "threshold": 0.3}])
    config = parse_config(["--thresholds", str(thresholds), "--no-fetch"])
    assert config.thresholds == thresholds and config.head is None
    with pytest.raises(SystemExit):
        parse_config(["--head", str(tmp_path / "nope.pth")])
    assert "--head" in capsys.readouterr().err
