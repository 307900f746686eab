"""Demo settings: local and Spaces bind addresses, argument checks, example clips, ZeroGPU wrapping."""

import csv
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from demo.config import parse_config
from demo.examples import find_examples
from demo.gpu import on_gpu

SPACE_VARS = (
    "SPACE_ID",
    "GRADIO_SERVER_PORT",
    "GRADIO_SERVER_NAME",
    "PANNS_DEMO_CHECKPOINT",
    "PANNS_DEMO_MODEL",
    "PANNS_DEMO_ARCH",
    "PANNS_DEMO_DEFAULT_MODEL",
    "PANNS_DEMO_DEFAULT_CHECKPOINT",
    "PANNS_DEMO_COMPARE",
    "PANNS_DEMO_RESULTS",
    "PANNS_DEMO_EXAMPLES",
    "PANNS_DEMO_MAX_SECONDS",
    "PANNS_DEMO_TIMELINE_WINDOW",
    "PANNS_DEMO_TIMELINE_HOP",
)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    for name in SPACE_VARS:
        monkeypatch.delenv(name, raising=False)


def test_local_default_is_loopback_7860_and_fetches_cnn14():
    cfg = parse_config([])
    assert (cfg.host, cfg.port) == ("127.0.0.1", 7860)
    assert cfg.default_checkpoint == "Cnn14" and cfg.fetch_at_start and not cfg.on_space
    assert cfg.compare == ("Cnn14", "ResNet38", "Wavegram_Logmel_Cnn14") and cfg.max_loaded == 3
    assert cfg.max_seconds == 600.0
    assert (cfg.window_seconds, cfg.timeline_window, cfg.timeline_hop) == (10.0, 2.0, 0.5)


def test_backend_defaults_to_auto_and_comes_from_arguments_or_environment(monkeypatch):
    assert parse_config([]).backend == "auto"
    monkeypatch.setenv("PANNS_DEMO_BACKEND", "torch")
    assert parse_config([]).backend == "torch" and parse_config(["--backend", "onnx"]).backend == "onnx"


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


def test_checkpoint_file_from_environment_skips_the_default_fetch(monkeypatch, tmp_path):
    weights = tmp_path / "animal.pth"
    weights.write_bytes(b"x")
    monkeypatch.setenv("PANNS_DEMO_CHECKPOINT", str(weights))
    monkeypatch.setenv("PANNS_DEMO_ARCH", "MobileNetV1")
    cfg = parse_config([])
    assert (cfg.checkpoint, cfg.checkpoint_arch, cfg.fetch_at_start) == (str(weights), "MobileNetV1", False)
    # a released name or a Hub repo given as --checkpoint is fetched at start like the default
    assert parse_config(["--checkpoint", "ResNet38"]).fetch_at_start
    assert parse_config(["--checkpoint", "someone/panns-animal"]).fetch_at_start


def test_one_vocabulary_and_the_old_spellings_are_gone(monkeypatch, capsys):
    """--checkpoint names weights and --arch an architecture, as in the CLI and training; the retired
    --model/--default-model are refused and PANNS_DEMO_MODEL/PANNS_DEMO_DEFAULT_MODEL are not read."""
    cfg = parse_config(["--checkpoint", "a.pth", "--arch", "Cnn14", "--default-checkpoint", "ResNet38"])
    assert (cfg.checkpoint_arch, cfg.default_checkpoint) == ("Cnn14", "ResNet38")
    assert capsys.readouterr().err == ""
    for old in ("--model", "--default-model"):
        with pytest.raises(SystemExit):
            parse_config(["--checkpoint", "a.pth", old, "MobileNetV1"])
        assert f"unrecognized arguments: {old}" in capsys.readouterr().err

    monkeypatch.setenv("PANNS_DEMO_CHECKPOINT", "a.pth")
    monkeypatch.setenv("PANNS_DEMO_MODEL", "Cnn14")
    monkeypatch.setenv("PANNS_DEMO_DEFAULT_MODEL", "MobileNetV1")
    cfg = parse_config([])
    assert (cfg.checkpoint_arch, cfg.default_checkpoint) == (None, "Cnn14")
    monkeypatch.setenv("PANNS_DEMO_ARCH", "ResNet38")
    monkeypatch.setenv("PANNS_DEMO_DEFAULT_CHECKPOINT", "MobileNetV1")
    cfg = parse_config([])
    assert (cfg.checkpoint_arch, cfg.default_checkpoint) == ("ResNet38", "MobileNetV1")


def test_compare_set_and_results_folder(monkeypatch, tmp_path):
    assert parse_config(["--compare", "MobileNetV1, Cnn14"]).compare == ("MobileNetV1", "Cnn14")
    monkeypatch.setenv("PANNS_DEMO_COMPARE", "ResNet38")
    monkeypatch.setenv("PANNS_DEMO_RESULTS", str(tmp_path))
    cfg = parse_config([])
    assert (cfg.compare, cfg.results_dir) == (("ResNet38",), tmp_path)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--arch", "Cnn14"], "give --checkpoint too"),
        (["--port", "70000"], "not a port number"),
        (["--max-seconds", "0"], "must be positive"),
        (["--concurrency", "0"], "at least 1"),
        (["--timeline-hop", "0"], "--timeline-window and --timeline-hop must be positive"),
    ],
)
def test_bad_arguments_exit_with_a_reason(argv, message, capsys):
    with pytest.raises(SystemExit):
        parse_config(argv)
    assert message in capsys.readouterr().err


def test_bad_port_variable_is_refused(monkeypatch):
    monkeypatch.setenv("GRADIO_SERVER_PORT", "http")
    with pytest.raises(SystemExit, match="GRADIO_SERVER_PORT"):
        parse_config([])


def test_examples_lists_only_audio_files_sorted(tmp_path):
    """The package's one suffix list (panns_core.audio.files): M4A and Opus examples are listed too."""
    for name in ("b.wav", "a.MP3", "c.flac", "d.ogg", "e.m4a", "f.opus", "notes.txt", "cover.png"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "sub.wav").mkdir()
    assert [p.name for p in find_examples(tmp_path)] == ["a.MP3", "b.wav", "c.flac", "d.ogg", "e.m4a", "f.opus"]
    assert find_examples(tmp_path / "absent") == [] and find_examples(None) == []


def test_every_shipped_example_is_listed_with_an_open_licence():
    """5-8 short clips ship with the demo; each has a row in ATTRIBUTION.csv saying CC0 or CC BY, its
    author and source, and stays small enough for a Space."""
    folder = Path(__file__).resolve().parents[2] / "demo" / "examples"
    clips = find_examples(folder)
    assert 5 <= len(clips) <= 8
    with open(folder / "ATTRIBUTION.csv", newline="") as f:
        rows = {row["file"]: row for row in csv.DictReader(f)}
    for clip in clips:
        row = rows.get(clip.name)
        assert row is not None, f"{clip.name} has no row in ATTRIBUTION.csv"
        assert re.fullmatch(r"CC0 1\.0|CC BY \d\.\d", row["licence"]), f"{clip.name}: {row['licence']!r}"
        assert row["author"].strip() and row["source_url"].startswith("https://") and row["changes"].strip()
        assert clip.stat().st_size < 300_000
    assert set(rows) == {c.name for c in clips}  # no credit for a file that is not there


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
    repo = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if k not in ("GRADIO_ANALYTICS_ENABLED", "HF_HUB_DISABLE_TELEMETRY")}
    probe = (
        "import os, sys; import demo.app; "
        "print(os.environ['GRADIO_ANALYTICS_ENABLED'], os.environ['HF_HUB_DISABLE_TELEMETRY'], 'gradio' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=repo, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "1", "False"]
    usage = subprocess.run(
        [sys.executable, "demo/app.py", "--help"], cwd=repo, env=env, capture_output=True, text=True, check=True
    )
    assert "--checkpoint" in usage.stdout and "--arch" in usage.stdout and "--max-seconds" in usage.stdout
    assert "--model" not in usage.stdout  # retired: --arch names the architecture
