"""A fit stopped or killed mid-run and resumed ends exactly where an uninterrupted run does.

Uses a tiny registered model (log-mel front end with SpecAugment and mixup, one conv, dropout) so
that a dozen iterations on real clips take seconds; the loop does not know it is not a PANNs model.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from panns_core import AudioConfig, create_model, list_models, register_model
from panns_core.errors import CheckpointError
from panns_core.evaluation.results import load_run
from panns_core.models.base import PannsModel
from panns_core.training.config import FitConfig
from panns_core.training.loop import fit
from panns_core.weights.checkpoints import read_checkpoint, save_checkpoint
from train.__main__ import main
from train.pack import pack

TINY = "TinyTrainTest"
REPO = Path(__file__).resolve().parents[2]

if TINY not in list_models():

    @register_model(TINY)
    class TinyTagger(PannsModel):
        embedding_size = 8

        def __init__(self, classes_num: int = 527, audio: AudioConfig = AudioConfig()):
            super().__init__()
            self.build_frontend(audio)
            self.conv = nn.Conv2d(1, 8, kernel_size=3, padding=1)
            self.fc_audioset = nn.Linear(8, classes_num)

        def forward(self, waveform, mixup_lambda=None):
            x = self.logmel(waveform, mixup_lambda)  # (batch or batch // 2, 1, frames, mels)
            x = F.relu(self.conv(x)).mean(dim=(2, 3))  # (batch, 8)
            embedding = F.dropout(x, p=0.5, training=self.training)
            return {"clipwise_output": torch.sigmoid(self.fc_audioset(embedding)), "embedding": embedding}


@pytest.fixture(scope="module")
def packed(shared_dir, tmp_path_factory):
    """12 short real clips of several animal classes for training; 3 of them as the evaluation set."""
    root = shared_dir / "audio" / "animal_clips"
    table = pd.read_csv(root / "manifest.csv")
    table = table[table["collection"].isin(["minetest_mobs_animal", "mineclone5_mobs_mc"])].iloc[::5].head(12)
    folder = tmp_path_factory.mktemp("packed")
    items = [(f, root / f, [m]) for f, m in zip(table["file"], table["audioset_mid_guess"])]
    assert pack(items, folder / "train.h5")["packed"] == 12
    assert pack(items[:3], folder / "eval.h5")["packed"] == 3
    return folder


def _config(packed, tmp_path, **overrides):
    values = dict(
        train=str(packed / "train.h5"),
        eval=str(packed / "eval.h5"),
        arch=TINY,
        run_id="run",
        runs_dir=str(tmp_path / "runs"),
        results=str(tmp_path / "results"),
        max_iterations=4,
        eval_every=2,
        batch_size=2,
        num_workers=1,
        log_every=100,
    )
    values.update(overrides)
    return FitConfig(**values)


def _final_state(tmp_path):
    return read_checkpoint(tmp_path / "runs" / "run" / "checkpoint.pth")


def _assert_same_run(a, b):
    assert a["iteration"] == b["iteration"]
    for key, tensor in a["model"].items():
        assert torch.equal(tensor, b["model"][key]), key
    for key, state in a["optimizer"]["state"].items():
        for name, tensor in state.items():
            assert torch.equal(tensor, b["optimizer"]["state"][key][name]), (key, name)
    assert a["sampler"] == b["sampler"]
    assert a["history"] == b["history"]


@pytest.mark.slow
def test_stop_and_resume_equals_an_uninterrupted_run(packed, tmp_path):
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    fit(_config(packed, whole, max_iterations=3))
    fit(_config(packed, parts, max_iterations=2))  # stops at 2, like a run cut short
    summary = fit(_config(packed, parts, max_iterations=3, resume=True))  # continues to 3
    assert summary["iteration"] == 3
    _assert_same_run(_final_state(whole), _final_state(parts))
    curve_whole = load_run(whole / "results" / "run").curve
    curve_parts = load_run(parts / "results" / "run").curve
    pd.testing.assert_frame_equal(curve_whole, curve_parts)
    assert list(curve_parts["iteration"]) == [0, 2, 3]
    torch.manual_seed(0)  # the run's seed: its initial weights
    initial = create_model(TINY, classes_num=65).state_dict()
    assert not torch.equal(initial["conv.weight"], _final_state(whole)["model"]["conv.weight"])  # it did train


@pytest.mark.slow
def test_killed_subprocess_resumes_to_the_same_weights(packed, tmp_path):
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    fit(_config(packed, whole, max_iterations=8))
    args = [
        "fit",
        "--train",
        str(packed / "train.h5"),
        "--eval",
        str(packed / "eval.h5"),
        "--arch",
        TINY,
        "--run-id",
        "run",
        "--runs-dir",
        str(killed / "runs"),
        "--results",
        str(killed / "results"),
        "--max-iterations",
        "8",
        "--eval-every",
        "2",
        "--batch-size",
        "2",
        "--num-workers",
        "1",
        "--log-every",
        "100",
    ]
    # The child imports this file to register the tiny model, then runs the stage as the CLI would.
    code = (
        "import sys; sys.path.insert(0, 'tests/training'); import test_resume; "
        "from train.__main__ import main; sys.exit(main(sys.argv[1:]))"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code, *args], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    checkpoint = killed / "runs" / "run" / "checkpoint.pth"
    deadline = time.time() + 120
    while time.time() < deadline and child.poll() is None:
        if checkpoint.exists() and read_checkpoint(checkpoint)["iteration"] >= 2:
            os.kill(child.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()
    stopped_at = read_checkpoint(checkpoint)["iteration"]
    assert 2 <= stopped_at < 8
    assert main([*args, "--resume"]) == 0
    _assert_same_run(_final_state(whole), read_checkpoint(checkpoint))


def test_foreign_checkpoints_and_changed_settings_are_refused(packed, tmp_path, capsys):
    fit(_config(packed, tmp_path, max_iterations=1, eval_every=1))
    # Resuming with another architecture or batch size would silently train something else.
    with pytest.raises(ValueError, match="arch: saved 'TinyTrainTest', now 'MobileNetV1'"):
        fit(_config(packed, tmp_path, arch="MobileNetV1", resume=True))
    with pytest.raises(ValueError, match="batch_size"):
        fit(_config(packed, tmp_path, batch_size=8, resume=True))
    with pytest.raises(FileExistsError, match="--resume"):
        fit(_config(packed, tmp_path))
    # Fine-tuning from a checkpoint of another architecture.
    other = tmp_path / "mobilenet.pth"
    save_checkpoint(other, create_model("MobileNetV1", classes_num=527))
    with pytest.raises(CheckpointError, match="holds a MobileNetV1 model; this run trains TinyTrainTest"):
        fit(_config(packed, tmp_path, run_id="finetune", init_from=str(other)))
    # Evaluating a checkpoint as the wrong architecture, through the CLI: one clear line, exit code 2.
    code = main(
        [
            "evaluate",
            "--checkpoint",
            str(other),
            "--arch",
            "Cnn14",
            "--eval",
            str(packed / "eval.h5"),
            "--results",
            str(tmp_path / "results"),
            "--num-workers",
            "0",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "does not fit Cnn14" in err
    assert "Traceback" not in err
