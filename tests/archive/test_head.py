"""`tag --head FILE --out DIR`: the job reports the probe head's classes, and another head is another result set."""

import numpy as np
from archive_jobs import read_job, run_folders, write_recordings

from panns_core.cli.main import main
from panns_core.inference.heads import ProbeHead, save_head, weights_digest
from panns_core.weights.checkpoints import load_checkpoint


def a_head(checkpoint, path, seed: int):
    model = load_checkpoint(checkpoint).model
    rng = np.random.default_rng(seed)
    head = ProbeHead(
        weight=rng.standard_normal((2, model.embedding_size)) * 1e-3,
        bias=np.zeros(2),
        names=("my_dog", "my_gate"),
        base_digest=weights_digest(model),
        base_arch="MobileNetV1",
    )
    return save_head(path, head)


def test_the_job_scores_the_heads_classes_and_keys_its_results_by_the_head(tmp_path, official_checkpoint):
    checkpoint = official_checkpoint("MobileNetV1")
    write_recordings(tmp_path / "rec", 2, seconds=4.0)
    argv = ["tag", str(tmp_path / "rec"), "--checkpoint", str(checkpoint), "--out", str(tmp_path / "out"), "--quiet"]
    assert main([*argv, "--head", str(a_head(checkpoint, tmp_path / "one.pth", 0))]) == 0
    windows = read_job(tmp_path / "out")["windows"]
    assert {"own:my_dog", "own:my_gate"} <= set(windows.columns)
    assert windows["own:my_dog"].between(0, 1).all() and windows["own:my_dog"].nunique() > 1
    # the same job with another head's weights is not a rerun of the first: a second settings folder
    assert main([*argv, "--head", str(a_head(checkpoint, tmp_path / "two.pth", 1))]) == 0
    assert len(run_folders(tmp_path / "out")) == 2
