"""`python -m train`: options generated from the config dataclass, and bad input as one clear line."""

import dataclasses

import pytest

from panns_core.training.config import FitConfig
from train.__main__ import build_parser, main


def _fit_config(argv):
    from train.dataclass_cli import from_namespace

    return from_namespace(FitConfig, build_parser().parse_args(["fit", *argv]))


def test_every_config_field_is_an_option_with_its_default(capsys):
    cfg = _fit_config(["--train", "t.h5"])
    assert cfg == FitConfig(train="t.h5")
    assert (cfg.batch_size, cfg.lr, cfg.balanced, cfg.mixup_alpha) == (32, 1e-3, True, 1.0)  # PANNs defaults
    with pytest.raises(SystemExit):
        main(["fit", "--help"])
    help_text = capsys.readouterr().out
    for f in dataclasses.fields(FitConfig):
        assert "--" + f.name.replace("_", "-") in help_text


def test_options_are_typed_and_booleans_can_be_turned_off():
    cfg = _fit_config(
        [
            "--train",
            "t.h5",
            "--batch-size",
            "16",
            "--lr",
            "3e-4",
            "--no-balanced",
            "--mixup-alpha",
            "0",
            "--eval",
            "e.h5",
            "--arch",
            "ResNet38",
        ]
    )
    assert (cfg.batch_size, cfg.lr, cfg.balanced, cfg.mixup_alpha, cfg.eval, cfg.arch) == (
        16,
        3e-4,
        False,
        0.0,
        "e.h5",
        "ResNet38",
    )


def test_required_and_invalid_options(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["fit"])  # --train is required
    assert "--train" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown architecture 'Cnn15'"):
        _fit_config(["--train", "t.h5", "--arch", "Cnn15"])
    with pytest.raises(ValueError, match="--resume needs the --run-id"):
        _fit_config(["--train", "t.h5", "--resume"])
    with pytest.raises(ValueError, match="data_fraction"):
        _fit_config(["--train", "t.h5", "--data-fraction", "1.5"])


def test_stages_report_bad_input_in_one_line(tmp_path, capsys):
    assert main(["fit", "--train", str(tmp_path / "absent.h5")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "absent.h5: no such packed file" in err
    assert main(["metadata", "--source", str(tmp_path), "--out", str(tmp_path / "m")]) == 2
    assert "holds no class_labels_indices.csv" in capsys.readouterr().err
    assert main(["pack", "--out", str(tmp_path / "x.h5")]) == 2
    assert "needs --split and --audio, or --manifest" in capsys.readouterr().err
