"""A new user's install: every import declared (deptry), the Space's requirements.txt installable on
its own, and the entry points a newcomer tries first start in this environment.

CI runs these in a virtual environment it makes from nothing (.ci/run), so a package that only
happens to be on the developer's machine cannot make them pass.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from servers import free_port, running_server, streamlit_command

REPO = Path(__file__).resolve().parents[2]
DEV_FILES = ("requirements-dev.txt", "requirements-bench.txt")


def requirement_names(path: Path) -> list[str]:
    """Distribution names in a requirements file (comments and options skipped)."""
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(re.split(r"[<>=!~\[; ]", line, maxsplit=1)[0])
    return names


def deptry(root: Path, *args: str) -> subprocess.CompletedProcess:
    """deptry's report (it writes to stderr, in colour) comes back as plain text in stdout."""
    run = subprocess.run(
        [sys.executable, "-m", "deptry", *args], cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    run.stdout = re.sub(r"\x1b\[[0-9;]*m", "", run.stdout)
    return run


def deptry_product(root: Path) -> subprocess.CompletedProcess:
    """The product (demo, dashboard, panns_core, train, tools): only requirements.txt may be imported."""
    return deptry(root, ".")


def deptry_with_tests(root: Path) -> subprocess.CompletedProcess:
    """Everything, tests and benchmarks included; there the dev and bench files' packages may be imported too."""
    test_tools = sorted({n.replace("-", "_") for f in DEV_FILES for n in requirement_names(root / f)})
    return deptry(
        root,
        ".",
        "tests",
        "--exclude",
        r"\.venv.*",
        "--exclude",
        "venv",
        "--exclude",
        r"\.git",
        "--exclude",
        "build",
        "--per-rule-ignores",
        f"DEP002=yt-dlp|sounddevice,DEP001=spaces,DEP004={'|'.join(test_tools)}",
    )


def test_every_import_is_declared():
    for run in (deptry_product(REPO), deptry_with_tests(REPO)):
        assert run.returncode == 0, run.stdout
        assert "No dependency issues found" in run.stdout


def test_deptry_fails_on_undeclared_transitive_unused_and_test_only_imports(tmp_path):
    """The same configuration on a scratch project that makes each mistake once."""
    for path in (REPO / "pyproject.toml", *REPO.glob("requirements*.txt")):  # every file pyproject reads
        shutil.copy(path, tmp_path / path.name)
    runtime = [n for n in requirement_names(REPO / "requirements.txt") if n not in ("yt-dlp", "h5py")]
    modules = {"scikit-learn": "sklearn", "huggingface_hub": "huggingface_hub"}
    package = tmp_path / "panns_core"
    package.mkdir()
    (package / "__init__.py").write_text(
        "".join(f"import {modules.get(n, n.replace('-', '_'))}\n" for n in runtime)  # all declared but h5py
        + "import requests\n"  # installed, but only as gradio's dependency: DEP003
        + "import no_such_module_xyz\n"  # missing altogether: DEP001
        + "import pytest\n"
    )  # a test tool in product code: DEP004
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_x.py").write_text("import pytest\nimport hypothesis\n")  # allowed in tests

    out = deptry_product(tmp_path).stdout
    assert re.search(r"DEP003 'requests'", out), out
    assert re.search(r"DEP001 'no_such_module_xyz'", out), out
    assert re.search(r"DEP004 'pytest'", out), out
    assert re.search(r"DEP002 'h5py'", out), out
    assert "tests/test_x.py" not in out

    (package / "__init__.py").write_text("")
    out = deptry_with_tests(tmp_path).stdout
    assert "tests/test_x.py" not in out  # declared dev tools are fine in tests...
    (tmp_path / "tests" / "test_x.py").write_text("import requests\n")
    out = deptry_with_tests(tmp_path).stdout
    assert re.search(r"tests/test_x\.py.*DEP003 'requests'", out), out  # ...transitive ones are not


def test_requirements_txt_has_no_local_references():
    """A Space installs requirements.txt before the checkout is there: no `-e .`, paths or nested files."""
    for line in (REPO / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        assert not line.startswith(("-e", "-r", "-c", ".", "/", "file:")), line
    assert "torch==" in (REPO / "requirements.txt").read_text()  # an unpinned torch pulls a CUDA build


@pytest.mark.slow
def test_requirements_txt_resolves_alone_in_an_empty_folder(tmp_path):
    shutil.copy(REPO / "requirements.txt", tmp_path / "requirements.txt")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            "report.json",
            "-r",
            "requirements.txt",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    chosen = {
        item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
        for item in json.loads((tmp_path / "report.json").read_text())["install"]
    }
    assert chosen["torch"].split("+")[0] == "2.13.0"  # the CPU wheel on disk here is 2.13.0+cpu
    for name in requirement_names(REPO / "requirements.txt"):
        assert name.lower().replace("_", "-") in chosen, name


def test_space_files():
    """The README's front matter points at the app, and the Debian packages a Space needs are listed."""
    front = (REPO / "README.md").read_text().split("---")[1]
    app = re.search(r"^app_file:\s*(\S+)", front, re.M).group(1)
    assert (REPO / app).is_file()
    assert "ffmpeg" in (REPO / "packages.txt").read_text().split()


@pytest.mark.parametrize(
    "cmd, expect",
    [
        (["-m", "panns_core", "--help"], "tag"),
        (["-m", "train", "--help"], "fit"),
        (["demo/app.py", "--help"], "--checkpoint"),
    ],
)
def test_newcomer_commands_start(cmd, expect):
    run = subprocess.run([sys.executable, *cmd], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert expect in run.stdout


@pytest.mark.slow
def test_dashboard_starts_headless(tmp_path):
    import os
    import urllib.request

    port = free_port()
    env = {**os.environ, "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    cmd = streamlit_command(port)
    with running_server(
        cmd, ready_url=f"http://127.0.0.1:{port}/_stcore/health", env=env, cwd=REPO, log=tmp_path / "streamlit.log"
    ):
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
    assert "<title>" in page.lower() or "streamlit" in page.lower()
