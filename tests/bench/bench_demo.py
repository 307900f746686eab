"""The demo's overhead: request-to-answer through gradio_client vs the bare model forward, same clip, one run.

    python tests/bench/bench_demo.py [--arch Cnn14] [--repeats 7] [--labels-pass-only]
    python tests/bench/bench_demo.py --compare      # peak memory of a three-model compare
    python tests/bench/bench_demo.py --stages       # in-process cost of each step beside the forward

Writes a random-weight checkpoint in the official format (the forward costs the same as with the
released weights, and nothing is downloaded), starts `python demo/app.py` on it, and then, in
turns so that any load on the machine hits both alike: one request through gradio_client (upload,
queue, decode, model, spectrogram, timeline, CSV, download of the answer), one bare forward of
the same 10-s clip in this process. Prints medians side by side, and the server's peak memory.
By default the app's answer includes its timeline pass (2-s windows every 0.5 s, about 1.3x the
forward again for CNN14); --labels-pass-only draws the timeline from the labels' own window instead,
which leaves only the app's plumbing in the difference.

--compare measures memory instead: random-weight files of the real Cnn14, ResNet38 and
Wavegram_Logmel_Cnn14 under their released names in a cache folder (stamped verified, as a
deployer's hand-placed files), the app started with its defaults, then one compare-mode request
(all three models loaded and run on a 10-s clip); prints the server's peak RSS and its RSS at rest.

--stages times, in this process and in turns with the forward (so a busy machine slows both
alike), each step the app adds to a labels-only answer, and for reference the matplotlib figure
rendered to PNG that drew the spectrogram before.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from conftest import SHARED, write_official_checkpoint  # noqa: E402
from demo_servers import peak_rss_mb, released_cache, serve_demo  # noqa: E402
from gradio_client import Client, handle_file  # noqa: E402

from panns_core.audio.load import load_audio  # noqa: E402
from panns_core.weights.checkpoints import load_checkpoint  # noqa: E402

CLIP = SHARED / "audio" / "audioset_samples" / "Y-_2ITXZaxT0.wav"  # 10.0 s, 32 kHz


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc status")


def compare_memory() -> None:
    archs = ("Cnn14", "ResNet38", "Wavegram_Logmel_Cnn14")
    with tempfile.TemporaryDirectory() as tmp:
        made = {a: write_official_checkpoint(Path(tmp) / f"{a}.pth", a) for a in archs}
        cache = released_cache(Path(tmp) / "cache", made)
        with serve_demo(["--no-fetch"], cache) as (url, proc, _):
            client = Client(url, verbose=False)
            at_start = rss_mb(proc.pid)  # the first model is loaded at start
            start = time.perf_counter()
            out = client.predict(handle_file(str(CLIP)), "Cnn14", 5, 0.1, True, api_name="/analyse")
            seconds = time.perf_counter() - start
            models = sorted({row[0] for row in out[8]["data"]})
            peak, after = peak_rss_mb(proc.pid), rss_mb(proc.pid)
    print(f"three-model compare ({', '.join(models)}), 10-s clip, max_loaded 3 (default):")
    print(f"  server RSS at start (Cnn14 loaded): {at_start:6.0f} MB")
    print(f"  server RSS after the compare:       {after:6.0f} MB")
    print(f"  server peak RSS:                    {peak:6.0f} MB")
    print(f"  first compare request (three loads + three passes + timeline): {seconds:.1f} s")


def median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def stages(arch: str, repeats: int) -> None:
    import io

    from matplotlib.figure import Figure

    from demo.analysis import analyse_wave, read_clip, write_scores_csv
    from demo.plots import spectrogram_image
    from panns_core import Tagger

    def old_spectrogram(log_mel):  # what the page drew before: a figure, serialised to PNG by gr.Plot
        fig = Figure(figsize=(9, 2.6), dpi=100, layout="constrained")
        ax = fig.add_subplot()
        image = ax.imshow(log_mel.T, origin="lower", aspect="auto", cmap="magma", interpolation="nearest")
        fig.colorbar(image, ax=ax)
        fig.savefig(io.BytesIO(), format="png")

    with tempfile.TemporaryDirectory() as tmp:
        tagger = Tagger.from_pretrained(str(write_official_checkpoint(Path(tmp) / f"{arch}.pth", arch)), model=arch)
        wave = read_clip(CLIP, tagger.sample_rate, 600)
        result = tagger.predict(wave, tagger.sample_rate)
        log_mel = tagger.log_mel(wave)
        steps = {
            "decode the clip": lambda: read_clip(CLIP, tagger.sample_rate, 600),
            "forward (labels pass)": lambda: tagger.predict(wave, tagger.sample_rate),
            "log-mel for the picture": lambda: tagger.log_mel(wave),
            "spectrogram image (now)": lambda: spectrogram_image(log_mel),
            "spectrogram figure + PNG (before)": lambda: old_spectrogram(log_mel),
            "scores CSV": lambda: write_scores_csv(result, Path(tmp), "clip"),
            "whole analyse_wave (labels only)": lambda: analyse_wave(
                wave, "clip", tagger, out_dir=Path(tmp), timeline_window=10.0, timeline_hop_seconds=10.0
            ),
        }
        costs = {name: median_ms(fn, repeats) for name, fn in steps.items()}
    forward = costs["forward (labels pass)"]
    print(f"{arch}, clip {CLIP.name} (10 s), {repeats} repeats, medians, in-process:")
    for name, ms in costs.items():
        print(f"  {name:36s} {ms:8.1f} ms   {ms / forward:5.2f}x the forward")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="Cnn14")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--labels-pass-only",
        action="store_true",
        help="no separate timeline pass (timeline windows = the labels' 10-s window)",
    )
    parser.add_argument("--compare", action="store_true", help="measure the peak memory of a three-model compare")
    parser.add_argument("--stages", action="store_true", help="time each step of a labels-only answer in-process")
    args = parser.parse_args()
    if args.compare:
        return compare_memory()
    if args.stages:
        return stages(args.arch, args.repeats)

    with tempfile.TemporaryDirectory() as tmp:
        checkpoint = write_official_checkpoint(Path(tmp) / f"{args.arch}_random.pth", args.arch)
        model, _ = load_checkpoint(checkpoint)
        wave = torch.from_numpy(load_audio(CLIP))[None]  # (1, 320000)

        def forward() -> float:
            start = time.perf_counter()
            with torch.no_grad():
                model(wave)
            return time.perf_counter() - start

        demo_args = ["--checkpoint", checkpoint, "--arch", args.arch]
        if args.labels_pass_only:
            demo_args += ["--timeline-window", "10", "--timeline-hop", "10"]
        with serve_demo(demo_args, Path(tmp) / "cache") as (url, proc, _):
            client = Client(url, verbose=False)
            key = f"local:{checkpoint}"

            def request() -> float:
                start = time.perf_counter()
                client.predict(handle_file(str(CLIP)), key, 5, 0.05, False, api_name="/analyse")
                return time.perf_counter() - start

            request(), forward()  # warm-up: first uploads, first allocations
            app, bare = [], []
            for _ in range(args.repeats):
                app.append(request())
                bare.append(forward())
            peak = peak_rss_mb(proc.pid)

    app_ms, bare_ms = statistics.median(app) * 1000, statistics.median(bare) * 1000
    timeline = "labels pass only" if args.labels_pass_only else "with the timeline pass"
    print(
        f"{args.arch} on CPU ({torch.get_num_threads()} threads), clip {CLIP.name} (10 s), "
        f"{args.repeats} turns, {timeline}, medians:"
    )
    print(
        f"  request to answer (gradio_client): {app_ms:8.0f} ms   "
        f"(min {min(app) * 1000:.0f}, max {max(app) * 1000:.0f})"
    )
    print(
        f"  bare model forward:                {bare_ms:8.0f} ms   "
        f"(min {min(bare) * 1000:.0f}, max {max(bare) * 1000:.0f})"
    )
    print(f"  app overhead:                      {app_ms - bare_ms:8.0f} ms   ({app_ms / bare_ms:.2f}x the forward)")
    print(f"  server peak RSS:                   {peak:8.0f} MB")


if __name__ == "__main__":
    main()
