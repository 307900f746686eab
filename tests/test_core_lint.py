"""ruff (configured in pyproject.toml) passes on the core, the training stages and their tests."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_ruff_finds_nothing_in_the_core():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed (pip install -r requirements-dev.txt)")
    targets = ["panns_core", "train", "tools/build_label_data.py", *map(str, sorted(REPO.glob("tests/test_core_*.py"))),
               *map(str, sorted(REPO.glob("tests/test_train_*.py")))]
    proc = subprocess.run([ruff, "check", "--output-format", "concise", *targets], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
