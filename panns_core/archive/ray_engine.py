"""`panns tag PATHS --out DIR --engine ray`: the same per-file work on a Ray cluster (Ray Data).

The file list is a Ray dataset; a pool of Tagger actors (one per worker, a GPU each when the cluster has
GPUs) decodes and tags batches of files with the same code as the single process (panns_core.archive.job),
and each actor writes its batch as Parquet parts straight to the output: a local folder, or any filesystem
pyarrow understands (s3://, gs://, hdfs://). There is no shared journal across machines, so a part's commit
record is a file of its own: `done/part-<id>.parquet`, written after the part's tables, names the files the
part holds. Tables are read through these records; files they name are skipped by a rerun (the same rule as
the journal: same path, size and mtime), and a part without its record (a killed actor) is ignored and its
files tagged again.

Ray is imported here only; install it with `pip install "panns-animals[ray]"`.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from pathlib import Path
from typing import Dict, List

import pyarrow as pa
import pyarrow.parquet as pq

from panns_core.archive.journal import FAILED, FileKey, plan
from panns_core.archive.rows import TABLES
from panns_core.errors import EXIT_INPUTS_FAILED, EXIT_OK, ConfigError

DONE_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("status", pa.string()),
        ("reason", pa.string()),
        ("audio_seconds", pa.float64()),
        ("written_ns", pa.int64()),
    ]
)


def filesystem(out: str):
    """(pyarrow filesystem, path inside it) for a local folder or a URI such as s3://bucket/archive."""
    import pyarrow.fs as pafs

    if "://" in out:
        return pafs.FileSystem.from_uri(out)
    return pafs.LocalFileSystem(), str(Path(out).resolve())


def _write(fs, table: pa.Table, path: str) -> None:
    """Write a Parquet file so that no reader sees half of it: a rename where the filesystem has one
    (local, HDFS); object stores (s3, gs) make an object visible only once it is whole anyway."""
    if fs.type_name in ("local", "hdfs"):
        tmp = path + ".tmp"
        pq.write_table(table, tmp, filesystem=fs)
        fs.move(tmp, path)
    else:
        pq.write_table(table, path, filesystem=fs)


def _parts(fs, folder: str, name: str) -> List[str]:
    import pyarrow.fs as pafs

    infos = fs.get_file_info(pafs.FileSelector(f"{folder}/{name}", allow_not_found=True))
    return sorted(i.path for i in infos if i.base_name.startswith("part-") and i.base_name.endswith(".parquet"))


def commit_records(fs, folder: str):
    """The latest record of every file (pandas DataFrame with file, size, mtime_ns, status, reason, part)."""
    pieces = []
    for path in _parts(fs, folder, "done"):
        table = pq.read_table(path, filesystem=fs)
        part = path.rsplit("/", 1)[1][len("part-") : -len(".parquet")]
        pieces.append(table.append_column("part", pa.array([part] * len(table), pa.string())))
    if not pieces:
        return pa.table({n: [] for n in [*DONE_SCHEMA.names, "part"]}).to_pandas()
    frame = pa.concat_tables(pieces).to_pandas()
    return frame.sort_values("written_ns", kind="stable").drop_duplicates("file", keep="last")


def read_ray_table(out: str, digest: str, name: str):
    """One table of a Ray job, rows of each file's latest committed part only, sorted like read_table."""
    import pandas as pd

    fs, root = filesystem(out)
    folder = f"{root}/{digest}"
    current = dict(zip(*commit_records(fs, folder)[["file", "part"]].to_numpy().T))
    paths = _parts(fs, folder, name)
    if not paths:
        return pd.DataFrame()
    frame = pa.concat_tables([pq.read_table(p, filesystem=fs) for p in paths]).to_pandas()
    frame = frame[frame["part"].to_numpy() == frame["file"].map(current).to_numpy()]
    order = [c for c in ("file", "start", "mid") if c in frame.columns]
    return frame.sort_values(order, kind="stable").reset_index(drop=True)


class TaggerActor:
    """One Tagger per Ray worker; each call tags a batch of files and writes it as one committed part."""

    def __init__(self, options: dict, events, out: str, digest: str, event_source: str = "auto"):
        from panns_core.archive.job_setup import release_unused
        from panns_core.inference.tagger import Tagger

        options = dict(options)
        # Each actor holds one CPU of the cluster: ONNX Runtime must not spread over the node's other cores,
        # which the node's other actors hold.
        options.setdefault("threads", 1)
        self.tagger = Tagger.from_pretrained(options.pop("checkpoint"), **options)
        release_unused(self.tagger)
        self.events, self.event_source = events, event_source
        self.fs, root = filesystem(out)
        self.folder = f"{root}/{digest}"

    def __call__(self, batch: Dict) -> Dict:
        import time

        from panns_core.archive.job import tag_file

        keys = [FileKey(str(p), int(s), int(m)) for p, s, m in zip(batch["path"], batch["size"], batch["mtime_ns"])]
        outcomes = [tag_file(self.tagger, key, self.events, self.event_source) for key in keys]
        part = uuid.uuid4().hex
        for name in TABLES:
            pieces = [t for o in outcomes for t in o.tables.get(name, [])]
            if pieces:
                table = pa.concat_tables(pieces)
                table = table.add_column(1, "part", pa.array([part] * len(table), pa.string()))
                self.fs.create_dir(f"{self.folder}/{name}", recursive=True)
                _write(self.fs, table, f"{self.folder}/{name}/part-{part}.parquet")
        now = time.time_ns()
        record = pa.Table.from_pylist(
            [
                {
                    "file": o.key.path,
                    "size": o.key.size,
                    "mtime_ns": o.key.mtime_ns,
                    "status": o.status,
                    "reason": o.reason,
                    "audio_seconds": o.audio_seconds,
                    "written_ns": now,
                }
                for o in outcomes
            ],
            schema=DONE_SCHEMA,
        )
        self.fs.create_dir(f"{self.folder}/done", recursive=True)
        _write(self.fs, record, f"{self.folder}/done/part-{part}.parquet")  # the commit: last
        return {
            "file": [o.key.path for o in outcomes],
            "status": [o.status for o in outcomes],
            "reason": [o.reason for o in outcomes],
            "audio_seconds": [o.audio_seconds for o in outcomes],
        }


def connect(address):
    """Join the cluster at `address`, or one already joined, or start a local one. Local workers get this
    package on their path (a cluster's nodes need it installed)."""
    import ray

    if ray.is_initialized():
        return ray
    package_root = str(Path(__file__).resolve().parents[2])
    paths = [package_root, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    env = {"PYTHONPATH": os.pathsep.join(paths)}
    for name in ("PANNS_CACHE_DIR", "PANNS_OFFLINE", "PANNS_ORT_THREADS"):
        if name in os.environ:
            env[name] = os.environ[name]
    ray.init(address=address, runtime_env={"env_vars": env}, include_dashboard=False, log_to_driver=False)
    return ray


def run_ray(args, files) -> int:
    try:
        import ray
    except ImportError:
        raise ConfigError('--engine ray needs Ray: pip install "panns-animals[ray]"') from None
    from panns_core.archive.job_setup import event_settings, file_keys, say, tagger_options
    from panns_core.archive.settings import settings_for
    from panns_core.inference.tagger import Tagger

    options = tagger_options(args)
    # The driver only needs the settings' digest: a PyTorch Tagger, no ONNX export, on the CPU.
    probe = Tagger.from_pretrained(
        options["checkpoint"],
        **{k: v for k, v in options.items() if k not in ("checkpoint", "device", "backend")},
        device="cpu",
        backend="torch",
    )
    events = event_settings(args, probe.labels)
    settings = settings_for(probe, events.threshold, events.merge_gap, events.min_duration)
    digest = settings.digest()
    del probe
    fs, root = filesystem(args.out)
    folder = f"{root}/{digest}"
    fs.create_dir(folder, recursive=True)
    with fs.open_output_stream(f"{folder}/settings.json") as f:
        f.write((json.dumps(settings.describe(), indent=2) + "\n").encode())

    keys, gone = file_keys(files)
    records = commit_records(fs, folder)
    known = {r.file: (r.size, r.mtime_ns, r.status, r.reason, r.part) for r in records.itertuples(index=False)}
    to_do, done, failed_before = plan(known, keys, args.retry_failed)
    if done or failed_before:
        extra = f", {len(failed_before)} failed before (--retry-failed tags them again)" if failed_before else ""
        say(args, f"skipping {len(done) + len(failed_before)} finished files ({len(done)} done{extra})")

    ray = connect(args.address)
    failures = len(failed_before) + len(gone)
    for g in gone:
        print(f"error: {g.reason}", file=sys.stderr)
    if to_do:
        gpus = ray.cluster_resources().get("GPU", 0)
        workers = args.workers or max(1, int(gpus) if gpus else int(ray.cluster_resources().get("CPU", 1)))
        items = [{"path": k.path, "size": k.size, "mtime_ns": k.mtime_ns} for k in to_do]
        ds = ray.data.from_items(items, override_num_blocks=max(1, min(len(items), workers * 4)))
        results = ds.map_batches(
            TaggerActor,
            fn_constructor_kwargs=dict(options=options, events=events, out=args.out, digest=digest),
            batch_size=args.part_files,
            concurrency=workers,
            num_gpus=1 if gpus else 0,
            num_cpus=1,
        )
        for row in results.iter_rows():
            if row["status"] == FAILED:
                failures += 1
                print(f"error: {row['reason']}", file=sys.stderr)
    say(args, f"results in {args.out.rstrip('/')}/{digest}")
    if failures:
        say(args, f"{failures} of {len(files)} files could not be tagged (see the failures table)")
        return EXIT_INPUTS_FAILED
    return EXIT_OK
