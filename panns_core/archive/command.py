"""`panns tag PATHS --out DIR`: the job from the command line (options in panns_core.cli.job_options)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from panns_core.archive.job import PartBuffer, run_files
from panns_core.archive.job_setup import event_settings, file_keys, release_unused, say, tagger_options
from panns_core.archive.journal import FAILED, Journal, plan
from panns_core.archive.outputs import read_table, remove_orphans
from panns_core.archive.review import write_review
from panns_core.archive.rows import TABLES
from panns_core.archive.settings import settings_for, write_settings
from panns_core.audio.files import find_audio
from panns_core.errors import EXIT_INPUTS_FAILED, EXIT_OK, ConfigError


def read_tables(folder: Path, journal: Journal, names=TABLES) -> dict:
    current = {path: rec[4] for path, rec in journal.records().items()}
    return {name: read_table(folder, name, current) for name in names}


def read_job_tables(folder, names=TABLES) -> dict:
    """{table: DataFrame} of a job's settings folder (DIR/<digest>), each file's current rows only."""
    journal = Journal(Path(folder) / "journal.sqlite")
    try:
        return read_tables(Path(folder), journal, names)
    finally:
        journal.close()


def run_job(args) -> int:
    if args.csv:
        raise ConfigError("--csv and --out do not go together: with --out, `--formats csv` writes the tables as CSV")
    files = find_audio(args.paths)
    if not files:
        raise ConfigError(f"no audio files found in {', '.join(args.paths)}")
    if args.engine == "ray":
        from panns_core.archive.ray_engine import run_ray

        return run_ray(args, files)
    from tqdm.auto import tqdm

    from panns_core.inference.tagger import Tagger

    options = tagger_options(args)
    tagger = Tagger.from_pretrained(options.pop("checkpoint"), **options)
    events = event_settings(args, tagger.labels)
    settings = settings_for(tagger, events.threshold, events.merge_gap, events.min_duration)
    folder = Path(args.out) / settings.digest()
    folder.mkdir(parents=True, exist_ok=True)
    write_settings(folder, settings)
    journal = Journal(folder / "journal.sqlite")
    try:
        removed = remove_orphans(folder, journal.parts())
        if removed:
            say(args, f"removed {removed} part files a killed run left unrecorded; their files are tagged again")
        keys, gone = file_keys(files)
        to_do, done, failed_before = plan(journal.records(), keys, args.retry_failed)
        if done or failed_before:
            extra = f", {len(failed_before)} failed before (--retry-failed tags them again)" if failed_before else ""
            say(args, f"skipping {len(done) + len(failed_before)} finished files ({len(done)} done{extra})")
        release_unused(tagger)
        buffer = PartBuffer(folder, journal, max_files=args.part_files)
        for outcome in gone:
            buffer.add(outcome)
        bar = tqdm(total=len(to_do), desc="tagging", unit="file", disable=args.quiet, dynamic_ncols=True)
        start, audio = time.monotonic(), [0.0]

        def on_file(outcome):
            audio[0] += outcome.audio_seconds
            elapsed = max(time.monotonic() - start, 1e-9)
            bar.set_postfix_str(f"{audio[0] / 3600 / elapsed:.3g} audio h/s", refresh=False)
            bar.update(1)
            if outcome.status == FAILED:
                bar.write(f"error: {outcome.reason}", file=sys.stderr)

        run_files(tagger, to_do, buffer, events, on_file=on_file)
        bar.close()
        tables = read_tables(folder, journal, TABLES if "csv" in args.formats else ("files", "events", "failures"))
        root = os.path.commonpath([str(Path(k.path).parent) for k in keys]) if keys else ""
        write_review(folder, tables, args.formats, root, tagger.sample_rate / 2)
        records = journal.records()
        bad = [k for k in keys if records.get(k.path, (None,) * 3)[2] == FAILED] + [g.key for g in gone]
    finally:
        journal.close()
    say(args, f"results in {folder}")
    if bad:
        say(args, f"{len(bad)} of {len(files)} files could not be tagged (see the failures table)")
        return EXIT_INPUTS_FAILED
    return EXIT_OK
