"""Mutation testing by hand (not in CI): how many planted bugs does the suite catch, per module?

    /work/venv/bin/python tools/mutation.py                 # every module in MODULES
    /work/venv/bin/python tools/mutation.py metrics ontology  # some of them
    /work/venv/bin/python tools/mutation.py --recheck metrics # after new tests: rerun only the survivors
    /work/venv/bin/python tools/mutation.py --sample 120 tagger # a seeded random sample of 120 mutants

`--recheck` reuses the scratch folder of an earlier full run (its mutants and results), refreshes its
tests/ and test selection from HEAD, and reruns only the mutants that survived or had no tests. It
refuses when the module's source in HEAD is not the one that was mutated (then a full run is needed).

For each module, a scratch copy of the repository is made (mutmut 3 writes a `mutants/` tree and
caches results beside the sources, which must not land in the working tree; commit first: the copy
is of HEAD), `[tool.mutmut]` of
pyproject.toml is narrowed to that module and its own test files (so one module takes minutes, not
the whole suite per mutant), `mutmut run` is started, and the killed/survived counts are printed as
a table. Survivors are listed with `mutmut show NAME` run in the scratch folder printed below.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Optional

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
MUTMUT = [sys.executable, "-m", "mutmut"]
# mutmut forks a child per mutant from a process that has already run the tests. A torch (OpenMP) thread
# pool started before a fork deadlocks the child at its first parallel op, so every mutant that reaches
# torch would "time out" and be counted killed without being tested. One thread per process: no pool.
SINGLE_THREADED = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PANNS_ORT_THREADS": "1"}

FAIR = "tests/dashboard/test_fairness.py"

# module -> the test files that are meant to catch its bugs (quick ones; slow tests are deselected)
MODULES = {
    "metrics": (
        "panns_core/evaluation/metrics.py",
        ["tests/evaluation/test_metrics.py", "tests/evaluation/test_metrics_edges.py"],
    ),
    "ontology": (
        "panns_core/labels/ontology.py",
        ["tests/labels/test_label_sets.py", "tests/labels/test_ontology.py", "tests/inference/test_tagger_labels.py"],
    ),
    # Not tests/training/test_fetch.py (it tests train/fetch.py), nor the checkpoint tests that build a model
    # for their payload: mutmut times each mutant by its tests' durations in the full run, where that model was
    # already built, so rerun alone they ran past their limits and were counted as timeouts.
    "download": (
        "panns_core/weights/cache.py",
        ["tests/weights/test_catalogue.py", "tests/weights/test_cache.py"]
        + [
            f"tests/weights/test_checkpoints.py::{t}"
            for t in (
                "test_checksum_mismatch_is_refused_and_never_loaded",
                "test_offline_error_says_what_is_missing_where_and_how",
                "test_hub_weights_go_through_huggingface_hub",
            )
        ],
    ),
    # The log-mel front end (STFT, mel bank, bn0, padding, SpecAugment) lives in the models' base class;
    # panns_core/models/blocks.py holds the helpers it calls (init, mixup, pooling).
    "frontend": (
        "panns_core/models/base.py",
        ["tests/models/test_frontend.py", "tests/models/test_fidelity.py", "tests/models/test_frontend_details.py"]
        + [
            f"tests/models/test_models.py::{t}"
            for t in (
                "test_mixup_halves_the_batch_and_mixes_pairs",
                "test_specaugment_leaves_the_callers_tensor_alone",
                "test_front_end_stays_fp32_under_half_precision_autocast",
                "test_custom_audio_settings_and_head_width",
            )
        ],
    ),
    "blocks": (
        "panns_core/models/blocks.py",
        [
            "tests/models/test_models.py",
            "tests/training/test_augment.py",
            "tests/models/test_blocks.py",
        ],
    ),
    "audio": (
        "panns_core/audio/load.py",
        [
            "tests/audio/test_audio.py",
            "tests/inference/test_tagger.py",
            "tests/inference/test_windows.py",
            "tests/audio/test_load.py",
            "--deselect=tests/inference/test_tagger.py::test_cli_tags_a_folder_into_a_csv",
            "--deselect=tests/inference/test_tagger.py::test_windows_timeline_and_frames",
        ],
    ),
    "decode": ("panns_core/audio/decode.py", ["tests/audio/test_audio.py", "tests/audio/test_decode.py"]),
    "tagger": (
        "panns_core/inference/tagger.py",
        [
            "tests/inference/test_tagger.py",
            "tests/inference/test_windows.py",
            "tests/inference/test_tagger_labels.py",
            "tests/inference/test_tagger_results.py",
            "--deselect=tests/inference/test_tagger.py::test_cli_tags_a_folder_into_a_csv",
            "--deselect=tests/inference/test_tagger.py::test_windows_timeline_and_frames",
        ],
    ),
    "checkpoints": (
        "panns_core/weights/checkpoints.py",
        [
            "tests/weights/test_checkpoints.py",
            "tests/weights/test_checkpoint_files.py",
            "tests/weights/test_load_checkpoint.py",
        ],
    ),
    # tests/dashboard/test_fairness.py: the fairness rules as properties over generated result sets (all five)
    "dashboard_compare": (
        "dashboard/compare.py",
        ["tests/dashboard/test_data.py", "tests/dashboard/test_compare.py", FAIR],
    ),
    "dashboard_curves": (
        "dashboard/curves.py",
        ["tests/dashboard/test_data.py", "tests/dashboard/test_curves.py", FAIR],
    ),
    "dashboard_effect": (
        "dashboard/effect.py",
        ["tests/dashboard/test_data.py", "tests/dashboard/test_effect.py", FAIR],
    ),
    "dashboard_overview": (
        "dashboard/overview.py",
        ["tests/dashboard/test_data.py", "tests/dashboard/test_overview.py", FAIR],
    ),
    "dashboard_data": (
        "dashboard/data.py",
        ["tests/dashboard/test_data.py", "tests/dashboard/test_data_loader.py", FAIR],
    ),
}


def narrowed_config(text: str, source: str, tests: list) -> str:
    """pyproject.toml with its [tool.mutmut] section replaced by one module and its tests."""
    section = (
        "[tool.mutmut]\n"
        'source_paths = ["panns_core", "dashboard", "train"]\n'
        f"only_mutate = [{json.dumps(source)}]\n"
        f"pytest_add_cli_args_test_selection = {json.dumps(tests)}\n"
        'pytest_add_cli_args = ["-m", "not slow and not browser", "-p", "no:cacheprovider", "-q"]\n'
        # a mutant whose tests run 8x longer than the clean run (plus 1 s) is a hang: killed, as a hang in CI
        # would be. mutmut's default 15x spends most of a run waiting on such mutants on 2 cores.
        "timeout_multiplier = 8.0\n"
    )
    text = re.sub(r"\[tool\.mutmut\].*?(?=\n\[|\Z)", "", text, flags=re.S)
    return text.rstrip() + "\n\n" + section


def scratch_copy(root: Path) -> Path:
    """The committed tree (git archive HEAD): edits in progress in the working tree cannot leak in."""
    work = root / "repo"
    work.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "HEAD"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
    (root / "shared").symlink_to(SHARED)  # tests read ../shared from the repository root ...
    (work / "shared").symlink_to(SHARED)  # ... and mutmut runs them from repo/mutants
    return work


def results(work: Path) -> dict:
    """mutant name -> status ("killed", "survived", "not checked", ...) from `mutmut results`."""
    listing = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=work, capture_output=True, text=True).stdout
    return dict((part.strip() for part in line.rsplit(":", 1)) for line in listing.splitlines() if ":" in line)


def count(
    work: Path, source: str, seconds: float, rc: int, only: Optional[set] = None, earlier: Optional[dict] = None
) -> dict:
    """Killed/survived counts in a scratch folder (over the sampled mutants only, when `only` is given).

    `earlier`: the verdicts before a recheck. A mutant killed then and left unchecked by the recheck stays
    killed: tests were only added since (a recheck after removing tests needs a full run).
    """
    counts, survivors = {}, []
    for name, status in results(work).items():
        if only is not None and name not in only:
            continue
        if earlier and status == "not checked" and earlier.get(name) in ("killed", "timeout"):
            status = earlier[name]
        counts[status] = counts.get(status, 0) + 1
        if status in ("survived", "no tests", "not checked"):
            survivors.append(f"{name} ({status})")
    total = sum(counts.values())
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    return {
        "module": source,
        "mutants": total,
        "killed": killed,
        "counts": counts,
        "score": killed / total if total else float("nan"),
        "seconds": round(seconds),
        "survivors": survivors,
        "scratch": str(work),
        "rc": rc,
    }


def recheck_module(name: str, keep: Path) -> dict:
    """Rerun only the survivors of an earlier full run, with HEAD's tests and test selection."""
    source, tests = MODULES[name]
    work = keep / name / "repo"
    if not (work / "mutants").is_dir():
        raise SystemExit(f"no earlier run of {name} in {work}: run `tools/mutation.py {name}` first")
    head = subprocess.run(["git", "-C", str(REPO), "show", f"HEAD:{source}"], capture_output=True, check=True).stdout
    if head != (work / source).read_bytes():
        raise SystemExit(f"{source} changed since the full run: its mutants are stale, run `tools/mutation.py {name}`")
    shutil.rmtree(work / "tests")
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", "HEAD", "tests", "pyproject.toml"], capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(work)], input=archive, check=True)
    config = work / "pyproject.toml"
    config.write_text(narrowed_config(config.read_text(), source, tests))
    sampled = keep / name / "sample.json"
    chosen = set(json.loads(sampled.read_text())) if sampled.exists() else None
    before = count(work, source, 0, 0, only=chosen)
    earlier = results(work)  # a new test file in the selection makes mutmut forget its earlier verdicts
    names = [s.split(" (")[0] for s in before["survivors"]]
    if not names:  # nothing left to rerun (an empty list would make mutmut run every mutant)
        return before
    start = time.time()
    proc = subprocess.run(
        [*MUTMUT, "run", "--max-children", "2", *names], cwd=work, capture_output=True, text=True, env=SINGLE_THREADED
    )
    (keep / name / "recheck.log").write_text(proc.stdout + proc.stderr)
    row = count(work, source, time.time() - start, proc.returncode, only=chosen, earlier=earlier)
    row["of"] = len(results(work))
    return row


def run_module(name: str, keep: Path, sample: Optional[int] = None) -> dict:
    """A full run; with `sample`, a seeded random sample of that many mutants (all mutants are generated,
    the suite's stats collected once, then only the sample is tested)."""
    source, tests = MODULES[name]
    root = keep / name
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    work = scratch_copy(root)
    config = work / "pyproject.toml"
    config.write_text(narrowed_config(config.read_text(), source, tests))
    start = time.time()
    chosen = None
    if sample:
        # a name that matches nothing: mutmut generates the mutants and collects stats, then stops
        run = [*MUTMUT, "run", "--max-children", "2", "generate-only"]
        subprocess.run(run, cwd=work, capture_output=True, text=True, env=SINGLE_THREADED)
        everything = sorted(results(work))
        chosen = set(random.Random(0).sample(everything, min(sample, len(everything))))
        (root / "sample.json").write_text(json.dumps(sorted(chosen)))
    proc = subprocess.run(
        [*MUTMUT, "run", "--max-children", "2", *sorted(chosen or ())],
        cwd=work,
        capture_output=True,
        text=True,
        env=SINGLE_THREADED,
    )
    (root / "run.log").write_text(proc.stdout + proc.stderr)
    row = count(work, source, time.time() - start, proc.returncode, only=chosen)
    row["of"] = len(results(work)) if chosen else row["mutants"]
    return row


def main(args: list) -> None:
    keep = Path(tempfile.gettempdir()) / "panns-mutation-h12"
    keep.mkdir(exist_ok=True)
    recheck = "--recheck" in args
    sample = int(args[args.index("--sample") + 1]) if "--sample" in args else None
    names = [a for a in args if a != "--recheck" and a != "--sample" and a != str(sample)]
    unknown = [n for n in names if n not in MODULES]
    if unknown:  # --help included: say what can be run instead of a KeyError
        sys.exit(
            f"usage: python tools/mutation.py [--recheck] [--sample N] [module ...]\nmodules: {', '.join(MODULES)}"
        )
    rows = []
    for name in names or list(MODULES):
        row = recheck_module(name, keep) if recheck else run_module(name, keep, sample)
        rows.append(row)
        of = f" (sample of {row['of']})" if row.get("of", row["mutants"]) != row["mutants"] else ""
        print(
            f"{row['module']:28s} {row['killed']:4d}/{row['mutants']:<4d} killed{of}  {row['score']:6.1%}  "
            f"{row['seconds']:5d} s  {row['counts']}  (rc {row['rc']}, {row['scratch']})",
            flush=True,
        )
        for s in row["survivors"]:
            print(f"    {s}")
    (keep / ("recheck.json" if recheck else "summary.json")).write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
