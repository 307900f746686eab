"""--engine ray on a local 2-worker Ray cluster (loopback only) gives the rows of the single process."""

import pandas as pd
import pytest
from archive_jobs import read_job, run_folders, write_recordings
from conftest import REPO

from panns_core.archive.ray_engine import read_ray_table
from panns_core.cli.main import main

ray = pytest.importorskip("ray")


@pytest.fixture
def ray_cluster():
    """A Ray cluster on 127.0.0.1 with 2 CPU workers, started and stopped by the test."""
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        _node_ip_address="127.0.0.1",
        log_to_driver=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(REPO), "PANNS_ORT_THREADS": "1"}},
    )
    try:
        yield
    finally:
        ray.shutdown()


@pytest.mark.slow
def test_ray_engine_gives_the_single_process_rows_and_resumes(tmp_path, official_checkpoint, ray_cluster, capsys):
    files = tmp_path / "recordings"
    write_recordings(files, 5, seconds=4.0)
    (files / "broken.wav").write_bytes(b"RIFF....WAVEnot really")
    common = [str(files), "--checkpoint", str(official_checkpoint("MobileNetV1")), "--hop", "2", "--window", "2"]
    common += ["--part-files", "2", "--quiet"]

    assert main(["tag", *common, "--out", str(tmp_path / "single")]) == 1
    expected = read_job(tmp_path / "single")
    (single_folder,) = run_folders(tmp_path / "single")
    digest = single_folder.name

    out = tmp_path / "cluster"
    assert main(["tag", *common, "--out", str(out), "--engine", "ray", "--workers", "2"]) == 1
    assert "broken.wav" in capsys.readouterr().err
    assert (out / digest / "settings.json").exists()  # the same settings digest as the single process
    for name in ("windows", "files", "events", "failures"):
        got = read_ray_table(str(out), digest, name).drop(columns=["part"])
        pd.testing.assert_frame_equal(got, expected[name], check_exact=False, rtol=1e-5, obj=name)
    parts = len(list((out / digest / "done").glob("part-*.parquet")))
    assert parts >= 3  # 6 files in batches of 2

    # a rerun skips every finished file and writes nothing new
    main(["tag", *common[:-1], "--out", str(out), "--engine", "ray"])
    assert "skipping 6 finished files (5 done, 1 failed before" in capsys.readouterr().err
    assert len(list((out / digest / "done").glob("part-*.parquet"))) == parts
