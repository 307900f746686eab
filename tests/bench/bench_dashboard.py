"""Benchmark: first render of the dashboard on 20 runs x 65 classes x 300 evaluated iterations (target < 2 s).

    python tests/bench/bench_dashboard.py [--runs 20 --evals 300 --repeats 3]

Writes synthetic runs to a temporary folder, then in fresh Python processes (so caches are
cold) measures: importing the app's modules, load_results alone, and the whole first AppTest run
of the overview page (load + shape + render), plus each other page's first rerun. Prints the
figures of this run only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

CHILD = r"""
import json, os, sys, time
sys.path.insert(0, {repo!r})
t0 = time.perf_counter()
import dashboard.data, dashboard.charts, streamlit  # what the app imports (panns_core pulls torch)
from streamlit.testing.v1 import AppTest
t_import = time.perf_counter() - t0
t0 = time.perf_counter()
dashboard.data.load_results({root!r})
t_load = time.perf_counter() - t0
os.environ["PANNS_RESULTS_DIR"] = {root!r}
at = AppTest.from_file({app!r}, default_timeout=120)
t0 = time.perf_counter()
at.run()
t_first = time.perf_counter() - t0
assert not at.exception, at.exception
pages = {{}}
for page in ["Class-wise comparison", "Training curves", "Class effect"]:
    t0 = time.perf_counter()
    at.sidebar.radio(key="page").set_value(page).run()
    pages[page] = time.perf_counter() - t0
    assert not at.exception, at.exception
print(json.dumps(dict(imports=t_import, load_alone=t_load, first_render=t_first, pages=pages)))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--evals", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sys.path[:0] = [str(REPO), str(REPO / "tests")]
    from synthetic_results import write_synthetic_results

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_synthetic_results(tmp, n_runs=args.runs, n_evals=args.evals, every=50, class_stats=True)
        size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
        print(
            f"synthetic results: {args.runs} runs x 65 classes x {args.evals} evaluations "
            f"= {args.runs * 65 * args.evals:,} class-wise rows, {size / 1e6:.1f} MB, written in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        code = CHILD.format(repo=str(REPO), root=tmp, app=str(REPO / "dashboard" / "app.py"))
        results = []
        for _ in range(args.repeats):
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    med = lambda key: statistics.median(r[key] for r in results)  # noqa: E731
    print(f"fresh processes: {args.repeats}; medians (min-max) in seconds")
    for key, what in (
        ("imports", "import app modules (once per server; includes torch via panns_core)"),
        ("load_alone", "load_results alone (read + validate + shape)"),
        ("first_render", "FIRST RENDER: AppTest run of the overview, cold cache"),
    ):
        values = [r[key] for r in results]
        print(f"  {what:<72} {med(key):6.3f} ({min(values):.3f}-{max(values):.3f})")
    for page in results[0]["pages"]:
        values = [r["pages"][page] for r in results]
        print(f"  first switch to {page:<56} {statistics.median(values):6.3f} ({min(values):.3f}-{max(values):.3f})")
    target = 2.0
    print(f"first render / target ({target:.0f} s): {med('first_render') / target:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
