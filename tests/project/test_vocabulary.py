"""One option name per idea across the three command lines: `python -m panns_core`, `python -m train`, the demo.

Parsed from each command's own parser (what `--help` prints), so a renamed or added option is seen at once.
"""

import argparse

import pytest

from demo.config import build_parser as demo_parser
from panns_core.cli.main import build_parser as panns_parser
from train.__main__ import build_parser as train_parser

# idea -> the one option that names it; an option starting like another idea's word is a synonym
VOCABULARY = {
    "checkpoint": "--checkpoint",
    "arch": "--arch",
    "label set": "--label-set",
    "head labels": "--head-labels",
    "precision": "--precision",
}
RETIRED = {"--labels", "--label_set", "--amp", "--model", "--checkpoint-labels", "--default-model"}
# spellings that would say one of VOCABULARY's ideas under another name
SYNONYMS = {
    "--labels": "label set",
    "--label_set": "label set",
    "--labelset": "label set",
    "--amp": "precision",
    "--bf16": "precision",
    "--fp16": "precision",
    "--mixed-precision": "precision",
    "--model": "arch",
    "--architecture": "arch",
    "--weights": "checkpoint",
    "--checkpoint-labels": "head labels",
    "--default-model": "checkpoint",
}


def _commands(parser: argparse.ArgumentParser, name: str):
    """(command name, parser) for the parser and every subcommand below it."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from _commands(sub, f"{name} {sub_name}")


def all_options() -> dict:
    """{command: set of its option strings} over the three command lines."""
    options = {}
    for name, parser in (
        ("panns", panns_parser()),
        ("python -m train", train_parser()),
        ("python demo/app.py", demo_parser()),
    ):
        for command, p in _commands(parser, name):
            options[command] = {s for a in p._actions for s in a.option_strings}
    return options


def test_every_command_line_is_seen():
    commands = set(all_options())
    assert {"panns tag", "panns download", "panns list", "python -m train fit", "python -m train fetch"} <= commands
    assert {"python -m train evaluate", "python -m train pack", "python -m train metadata"} <= commands
    assert "python demo/app.py" in commands


@pytest.mark.parametrize("retired", sorted(RETIRED | set(SYNONYMS)))
def test_no_retired_or_synonym_option_anywhere(retired):
    users = [command for command, options in all_options().items() if retired in options]
    assert users == [], f"{retired} is used by {users}; say {VOCABULARY.get(SYNONYMS.get(retired, ''), '?')}"


def test_each_idea_has_one_spelling():
    """An option spelled like a vocabulary word is that word exactly (no --label-sets, --labelset, --checkpoints)."""
    for command, options in all_options().items():
        for option in options:
            for idea, word in VOCABULARY.items():
                stem = word.removeprefix("--").replace("-", "").rstrip("s")
                spelled = option.removeprefix("--").replace("-", "").replace("_", "")
                if spelled.rstrip("s") == stem:
                    assert option == word, f"{command}: {option} should be {word} ({idea})"


def test_the_shared_ideas_are_offered_where_they_apply():
    options = all_options()
    for command in ("panns tag", "python -m train evaluate", "python demo/app.py"):
        assert {"--checkpoint", "--arch"} <= options[command], command
    for command in ("panns tag", "python -m train pack", "python -m train metadata"):
        assert "--label-set" in options[command], command
    for command in ("panns tag", "python -m train fit", "python -m train evaluate"):
        assert "--precision" in options[command], command
    assert {"--head-labels"} <= options["panns tag"] & options["python -m train evaluate"]


@pytest.mark.parametrize(
    "argv",
    [
        ["fit", "--train", "t.h5", "--precision", "fp16"],
        ["evaluate", "--checkpoint", "Cnn14", "--eval", "e.h5", "--precision", "half"],
    ],
)
def test_precision_takes_the_taggers_words_only(argv, capsys):
    with pytest.raises(SystemExit):
        train_parser().parse_args(argv)
    assert "invalid choice" in capsys.readouterr().err


def test_fit_precision_reaches_the_config():
    from panns_core.training.config import FitConfig
    from train.dataclass_cli import from_namespace

    args = train_parser().parse_args(["fit", "--train", "t.h5", "--precision", "fp32"])
    assert from_namespace(FitConfig, args).precision == "fp32"
    assert from_namespace(FitConfig, train_parser().parse_args(["fit", "--train", "t.h5"])).precision == "bf16"
