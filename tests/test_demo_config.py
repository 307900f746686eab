"""Demo settings: local and Spaces bind addresses, argument checks, example clips, ZeroGPU wrapping."""
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

from demo.config import parse_config
from demo.examples import find_examples
from demo.gpu import on_gpu

SPACE_VARS = ("SPACE_ID", "GRADIO_SERVER_PORT", "GRADIO_SERVER_NAME", "PANNS_DEMO_CHECKPOINT",
              "PANNS_DEMO_MODEL", "PANNS_DEMO_EXAMPLES", "PANNS_DEMO_MAX_SECONDS", "PANNS_DEMO_TIMELINE_WINDOW",
              "PANNS_DEMO_TIMELINE_HOP")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in SPACE_VARS:
        monkeypatch.delenv(name, raising=False)


def test_local_default_is_loopback_7860_and_fetches_cnn14():
    cfg = parse_config([])
    assert (cfg.host, cfg.port) == ("127.0.0.1", 7860)
    assert cfg.default_model == "Cnn14" and cfg.fetch_at_start and not cfg.on_space
    assert cfg.max_seconds == 600.0
    assert (cfg.window_seconds, cfg.timeline_window, cfg.timeline_hop) == (10.0, 2.0, 0.5)


def test_timeline_windows_from_arguments_or_environment(monkeypatch):
    monkeypatch.setenv("PANNS_DEMO_TIMELINE_WINDOW", "3")
    monkeypatch.setenv("PANNS_DEMO_TIMELINE_HOP", "1.5")
    assert (parse_config([]).timeline_window, parse_config([]).timeline_hop) == (3.0, 1.5)
    assert parse_config(["--timeline-hop", "0.25"]).timeline_hop == 0.25


def test_space_listens_on_all_interfaces_at_the_given_port(monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/panns-animals")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7861")
    cfg = parse_config([])
    assert (cfg.host, cfg.port, cfg.on_space) == ("0.0.0.0", 7861, True)


def test_arguments_win_over_environment(monkeypatch):
    monkeypatch.setenv("SPACE_ID", "someone/panns-animals")
    monkeypatch.setenv("GRADIO_SERVER_PORT", "7861")
    cfg = parse_config(["--host", "127.0.0.2", "--port", "9000", "--max-seconds", "30"])
    assert (cfg.host, cfg.port, cfg.max_seconds) == ("127.0.0.2", 9000, 30.0)


def test_checkpoint_from_environment_skips_the_default_fetch(monkeypatch):
    monkeypatch.setenv("PANNS_DEMO_CHECKPOINT", "/models/animal.pth")
    monkeypatch.setenv("PANNS_DEMO_MODEL", "MobileNetV1")
    cfg = parse_config([])
    assert (cfg.checkpoint, cfg.checkpoint_arch, cfg.fetch_at_start) == ("/models/animal.pth", "MobileNetV1", False)


@pytest.mark.parametrize("argv, message", [
    (["--model", "Cnn14"], "give --checkpoint too"),
    (["--port", "70000"], "not a port number"),
    (["--max-seconds", "0"], "must be positive"),
    (["--concurrency", "0"], "at least 1"),
    (["--timeline-hop", "0"], "--timeline-window and --timeline-hop must be positive"),
])
def test_bad_arguments_exit_with_a_reason(argv, message, capsys):
    with pytest.raises(SystemExit):
        parse_config(argv)
    assert message in capsys.readouterr().err


def test_bad_port_variable_is_refused(monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_PORT", "http")
    with pytest.raises(SystemExit, match="GRADIO_SERVER_PORT"):
        parse_config([])


def test_examples_lists_only_audio_files_sorted(tmp_path):
    for name in ("b.wav", "a.MP3", "c.flac", "d.ogg", "notes.txt", "cover.png"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.wav").mkdir()
    assert [p.name for p in find_examples(tmp_path)] == ["a.MP3", "b.wav", "c.flac", "d.ogg"]
    assert find_examples(tmp_path / "absent") == [] and find_examples(None) == []


def test_shipped_examples_folder_holds_no_audio():
    # Recordings stay out of git; the folder only explains how to add some.
    assert find_examples(Path(__file__).resolve().parents[1] / "demo" / "examples") == []


def test_on_gpu_leaves_the_function_alone_without_spaces(monkeypatch):
    monkeypatch.setitem(sys.modules, "spaces", None)  # makes `import spaces` raise ImportError

    def infer(x):
        return x + 1

    assert on_gpu(infer) is infer


def test_on_gpu_applies_the_zerogpu_decorator_when_spaces_imports(monkeypatch):
    wrapped = []
    fake = types.ModuleType("spaces")
    fake.GPU = lambda fn: wrapped.append(fn) or (lambda *a: ("gpu", fn(*a)))
    monkeypatch.setitem(sys.modules, "spaces", fake)
    result = on_gpu(lambda x: x * 2)
    assert result(3) == ("gpu", 6) and len(wrapped) == 1


def test_app_turns_telemetry_off_before_gradio_is_imported_and_runs_as_a_script():
    repo = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k not in ("GRADIO_ANALYTICS_ENABLED", "HF_HUB_DISABLE_TELEMETRY")}
    probe = ("import os, sys; import demo.app; "
             "print(os.environ['GRADIO_ANALYTICS_ENABLED'], os.environ['HF_HUB_DISABLE_TELEMETRY'], 'gradio' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], cwd=repo, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "1", "False"]
    usage = subprocess.run([sys.executable, "demo/app.py", "--help"], cwd=repo, env=env, capture_output=True,
                           text=True, check=True)
    assert "--checkpoint" in usage.stdout and "--model" in usage.stdout and "--max-seconds" in usage.stdout
