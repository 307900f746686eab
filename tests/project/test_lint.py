"""ruff (configured in pyproject.toml) passes on the whole repository: lint rules and formatting."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("command", [["check", "--output-format", "concise", "."], ["format", "--check", "."]])
def test_ruff_finds_nothing(command):
    # ruff comes with requirements-dev.txt; `python -m ruff` finds it in this environment or fails loudly.
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", *command], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
