"""The shipped Streamlit config: no usage statistics to data.streamlit.io, viewer toolbar; picked up by a plain
`streamlit run dashboard/app.py`, from the repository root and from any other folder."""

import os
from pathlib import Path

import pytest
import tomllib
from servers import free_port, running_server, streamlit_command

REPO = Path(__file__).resolve().parents[2]
CONFIGS = [REPO / ".streamlit" / "config.toml", REPO / "dashboard" / ".streamlit" / "config.toml"]
TELEMETRY_NOTICE = "Collecting usage statistics"  # what `streamlit run` prints when gatherUsageStats is left on


@pytest.mark.parametrize("path", CONFIGS, ids=["repo root", "next to app.py"])
def test_shipped_config_turns_off_usage_statistics(path):
    config = tomllib.loads(path.read_text())
    assert config["browser"]["gatherUsageStats"] is False
    assert config["client"]["toolbarMode"] == "viewer"


@pytest.mark.parametrize("path", CONFIGS, ids=["repo root", "next to app.py"])
def test_dashboard_listens_on_this_machine_only_by_default(path):
    """Like the demo: 127.0.0.1 unless told otherwise (`--server.address`, or a Space's own settings)."""
    assert tomllib.loads(path.read_text())["server"]["address"] == "127.0.0.1"


def test_both_config_files_say_the_same():
    assert tomllib.loads(CONFIGS[0].read_text()) == tomllib.loads(CONFIGS[1].read_text())


@pytest.mark.slow
@pytest.mark.parametrize("where", ["repo root", "elsewhere"])
def test_plain_streamlit_run_reads_the_config(tmp_path, where):
    """The README's command with no flags: Streamlit announces usage statistics unless a config turned them off.
    HOME is a fresh folder, so no personal ~/.streamlit/config.toml can hide a missing project config."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env.update(HOME=str(home), PANNS_RESULTS_DIR=str(REPO / "results"))
    port = free_port()
    cwd = REPO if where == "repo root" else tmp_path
    cmd = streamlit_command(port)
    log = tmp_path / "streamlit.log"
    with running_server(
        cmd, ready_url=f"http://127.0.0.1:{port}/_stcore/health", env=env, cwd=cwd, log=log, ready_within=60
    ):
        pass
    text = log.read_text()
    assert "You can now view your Streamlit app" in text
    assert TELEMETRY_NOTICE not in text, text
