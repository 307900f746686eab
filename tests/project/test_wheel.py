"""The wheel a user would install: built from a copy of the sources, installed into a fresh virtual
environment (`--system-site-packages`, its heavy dependencies borrowed from this one: nothing is downloaded),
and its console scripts run from there."""

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("panns_core", "train", "demo", "dashboard", "pyproject.toml", "README.md")


def run(*argv, cwd, env=None, timeout=300) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin folder of a fresh venv holding the freshly built wheel and nothing else of this project."""
    root = tmp_path_factory.mktemp("wheel")
    src = root / "src"
    for name in SOURCES:
        if (REPO / name).is_dir():
            shutil.copytree(REPO / name, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(exist_ok=True)
            shutil.copy(REPO / name, src / name)
    for requirements in REPO.glob("requirements*.txt"):
        shutil.copy(requirements, src / requirements.name)
    run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", root / "dist", src, cwd=root)
    (wheel,) = (root / "dist").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("panns_core/labels/audioset.json", "demo/examples/dog_bark.ogg", "demo/examples/ATTRIBUTION.csv"):
        assert needed in names, f"{needed} is not in the wheel"
    assert "dashboard/launch.py" in names and "train/__main__.py" in names
    assert not any(n.startswith("tests/") for n in names)
    venv = root / "venv"
    run(sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", venv, cwd=root)
    run(sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", "-q", wheel, cwd=root)
    # --system-site-packages reaches the base interpreter's packages, not this venv's: a .pth borrows these
    # (torch and the rest) after the venv's own site-packages, so the wheel's code still comes first.
    (site_packages,) = (venv / "lib").glob("python3*/site-packages")
    (site_packages / "borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return venv / "bin"


def env_for(tmp_path: Path) -> dict:
    return {**os.environ, "PANNS_CACHE_DIR": str(tmp_path / "cache"), "PANNS_OFFLINE": "1", "PYTHONPATH": ""}


@pytest.mark.slow
def test_the_installed_package_is_the_wheel_not_this_checkout(installed, tmp_path):
    code = "import panns_core, demo, dashboard, train; print(panns_core.__file__, demo.__file__)"
    out = run(installed / "python", "-c", code, cwd=tmp_path, env=env_for(tmp_path)).stdout
    assert "site-packages" in out and str(REPO) not in out


@pytest.mark.slow
@pytest.mark.parametrize(
    "script, expect",
    [
        ("panns", ["tag", "download", "list"]),
        ("panns-train", ["metadata", "fetch", "pack", "fit", "evaluate"]),
        ("panns-demo", ["--checkpoint", "--arch"]),
        ("panns-dashboard", ["--results"]),
    ],
)
def test_console_scripts_answer_help(installed, tmp_path, script, expect):
    out = run(installed / script, "--help", cwd=tmp_path, env=env_for(tmp_path)).stdout
    assert all(word in out for word in expect), out


@pytest.mark.slow
def test_panns_list_names_every_release_offline(installed, tmp_path):
    from panns_core.weights.catalogue import PRETRAINED

    out = run(installed / "panns", "list", cwd=tmp_path, env=env_for(tmp_path)).stdout
    assert all(name in out for name in PRETRAINED) and "not downloaded" in out


def test_the_dashboard_launcher_runs_the_installed_app_with_its_results_option():
    from dashboard.launch import APP, build_parser, streamlit_argv

    argv = streamlit_argv(build_parser().parse_args(["--results", "runs/results", "--port", "8600"]))
    assert argv[1:5] == ["-m", "streamlit", "run", str(APP)] and APP.is_file()
    assert argv[argv.index("--server.port") + 1] == "8600" and argv[-3:] == ["--", "--results", "runs/results"]
    assert "--" not in streamlit_argv(build_parser().parse_args([]))  # no --results: the app's own default
