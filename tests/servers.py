"""Plumbing for tests that drive our own servers (demo, dashboard) as subprocesses on loopback,
and Debian's chromium through Playwright. Only 127.0.0.1 is ever contacted."""

import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"  # Debian's package; never `playwright install`


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_server(cmd, *, ready_url: str, env: dict, cwd: Path, log: Path, ready_within: float = 180):
    """Start `cmd`, wait until `ready_url` answers (a wait for start-up, not a speed check), yield the
    process, and always stop it. Its output goes to `log`, shown when it fails to start."""
    with open(log, "w") as out:
        proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + ready_within
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{cmd[1:3]} exited with {proc.returncode}:\n{log.read_text()}")
            try:
                urllib.request.urlopen(ready_url, timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"nothing answered on {ready_url}:\n{log.read_text()}")
                time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def streamlit_command(port: int, *extra) -> list:
    """`streamlit run dashboard/app.py` headless on loopback at `port`, without a file watcher."""
    app = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        app,
        "--server.headless",
        "true",
        "--server.port",
        port,
        "--server.address",
        "127.0.0.1",
        "--server.fileWatcherType",
        "none",
        *extra,
    ]


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
