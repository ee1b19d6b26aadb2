"""The imaging benchmark: our thumbnails beside sharp, libvips, the libjpeg-turbo floor and a naive
Pillow first attempt (benchmarks/contenders.py says what each does), for one box and for three,
in time, peak memory and quality; then the function's cold start and what a thumbnail costs.

    ./scripts/bench             # ~5 minutes on a 2-core machine (installs what it needs)
    ./scripts/bench --quick     # fewer rounds: a smoke run, noisier figures

It prints and never asserts: every figure depends on this host (x86 here; Lambda arm64 is
Graviton), on what else runs on it and on each library's build. Contenders are timed in rounds,
round by round in alternating order, each in its own process pinned to the same core, so drift
on a shared host hits all alike; ratios are medians of per-round ratios.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Any

from common import PYTHON, cold_env, cost_per_million, lambda_ms, loadavg, med, print_table, section, spread
from contenders import NAMES, Worker, unavailable
from corpus import ONE_BOX, THREE_BOXES, Source, sources, warm_ups

CORE = 1
Timings = dict[tuple[str, tuple[int, ...], str], list[float]]


def runs_on(name: str, source: Source, sides: tuple[int, ...]) -> bool:
    if name == "floor":
        return source.format == "JPEG"
    if name == "sharp-once":
        return sides == THREE_BOXES  # for one box it is sharp
    return name != "naive" or sides == ONE_BOX  # three full decodes say nothing new


def measure_speed(names: list[str], corpus: list[Source], folder: Path) -> Timings:
    workers = {name: Worker(name, CORE) for name in names}
    try:
        for source in [*warm_ups(), *corpus]:
            path = source.write(folder)
            for worker in workers.values():
                worker.load(source.key, path)
        timings: Timings = {}
        for source in corpus:
            for sides in (ONE_BOX, THREE_BOXES):
                running = [name for name in names if runs_on(name, source, sides)]
                for name in running:  # untimed: first use of this size
                    workers[name].run(source.key, sides)
                for round_ in range(source.rounds):
                    for name in running if round_ % 2 == 0 else reversed(running):
                        timings.setdefault((source.name, sides, name), []).append(workers[name].run(source.key, sides))
        return timings
    finally:
        for worker in workers.values():
            worker.close()


def measure_memory(names: list[str], corpus: list[Source], folder: Path) -> dict[tuple[str, tuple[int, ...], str], float]:
    """A fresh worker per figure: a high-water mark is reset, but what a process once held it
    keeps, and would lend to the next call."""
    peaks = {}
    for source in corpus:
        path = source.write(folder)
        [warm] = [w for w in warm_ups() if w.format == source.format]
        for sides in (ONE_BOX, THREE_BOXES):
            for name in (n for n in names if runs_on(n, source, sides)):
                worker = Worker(name, CORE)
                try:
                    worker.load(warm.key, warm.write(folder))
                    worker.run(warm.key, sides)
                    worker.load(source.key, path)
                    peaks[(source.name, sides, name)] = worker.peak_mb(source.key, sides)
                finally:
                    worker.close()
    return peaks


def ratio(timings: Timings, source: Source, sides: tuple[int, ...], other: str) -> float | None:
    mine, theirs = timings.get((source.name, sides, "ours")), timings.get((source.name, sides, other))
    if not mine or not theirs:
        return None
    return med([a / b for a, b in zip(mine, theirs, strict=True)])


def print_speed_and_memory(names: list[str], corpus: list[Source], timings: Timings, peaks: dict) -> None:
    section("time (ms, median of interleaved rounds) and peak memory (MB above the warm process)")
    others = [n for n in names if n != "ours"]
    rows = []
    for source in corpus:
        for sides in (ONE_BOX, THREE_BOXES):
            cells = []
            for name in names:
                values = timings.get((source.name, sides, name))
                peak = peaks.get((source.name, sides, name))
                cells.append("-" if not values else f"{med(values):.1f} ±{100 * spread(values):.0f}% {peak:.0f}MB"
                             if peak is not None else f"{med(values):.1f}")  # fmt: skip
            ratios = [ratio(timings, source, sides, other) for other in others]
            rows.append((source.name, "+".join(map(str, sides)), *cells,
                         *("-" if r is None else f"{r:.2f}" for r in ratios)))  # fmt: skip
    print_table(("input", "boxes", *names, *(f"ours/{n}" for n in others)), rows, right_from=2)
    print("  Each cell: median ms, interquartile range over the median (the cell's noise), peak MB:")
    print("  VmHWM after one call less RSS before it, in a fresh worker warmed on a 320x240 image.")
    print("  ours/x: median of per-round ratios of time. Box sides are squares: 256, or 1024+512+256.")


def measure_quality(names: list[str], corpus: list[Source], folder: Path) -> dict[str, dict[str, float]]:
    """PSNR (dB) against a full decode + LANCZOS to the same size: of our resized pixels before
    the encoder (the resize alone), and of every contender's file as written."""
    import numpy as np
    from PIL import Image, ImageOps

    from create_thumbnail.config import Box
    from create_thumbnail.imaging import load_source
    from create_thumbnail.renditions import resize_all

    def planes(image: Image.Image) -> Any:
        array = np.asarray(image.convert("RGBA" if "A" in image.mode else "RGB"), dtype=np.float64)
        if array.shape[2] == 4:  # premultiplied: colour under transparent pixels does not count
            array = np.concatenate([array[:, :, :3] * array[:, :, 3:] / 255, array[:, :, 3:]], axis=2)
        return array

    def psnr(image: Image.Image, full: Image.Image) -> float:
        reference = full.resize(image.size, Image.Resampling.LANCZOS, reducing_gap=None)
        mse = float(np.mean((planes(image) - planes(reference)) ** 2))
        return math.inf if mse == 0 else 10 * math.log10(255**2 / mse)

    results: dict[str, dict[str, float]] = {}
    workers = {name: Worker(name, CORE) for name in names}
    try:
        for source in corpus:
            full = ImageOps.exif_transpose(Image.open(BytesIO(source.data)))
            boxes = [Box(side, side) for side in THREE_BOXES]
            resized = resize_all(load_source(source.data, boxes, 10**9).image, boxes)
            figures = {"ours resize": min(psnr(resized[box], full) for box in boxes)}
            for name in (n for n in names if runs_on(n, source, THREE_BOXES)):
                out = folder / name
                out.mkdir(exist_ok=True)
                workers[name].load(source.key, source.write(folder))
                workers[name].run(source.key, THREE_BOXES, out)
                figures[name] = min(psnr(Image.open(out / f"{side}.bin"), full) for side in THREE_BOXES)
            results[source.name] = figures
    finally:
        for worker in workers.values():
            worker.close()
    return results


def print_quality(quality: dict[str, dict[str, float]], names: list[str]) -> None:
    section("quality: PSNR (dB) against a full decode + LANCZOS, the worst of the three boxes")
    columns = ["ours resize", *names]
    rows = [(source, *(f"{figures[c]:.1f}" if c in figures else "-" for c in columns)) for source, figures in quality.items()]
    print_table(("input", *columns), rows)
    print("  'ours resize' = our pixels before the encoder; the others = the files as written (JPEG")
    print("  q85 costs more than any resize). The floor's nearest-neighbour cut shows what skipping")
    print("  the resampler would cost; it does not rotate either (its EXIF-6 figure). RGBA is")
    print("  compared premultiplied.")


COLD_PROBE = """
import json, sys, time
for blocked in ("awscrt", "OpenSSL"):
    sys.modules[blocked] = None  # dev-only packages the Lambda runtime lacks
started = time.perf_counter()
import create_thumbnail.app
from create_thumbnail.config import Box
from create_thumbnail.imaging import make_thumbnails
imported = time.perf_counter()
make_thumbnails(open(sys.argv[1], "rb").read(), [Box(256, 256)], 50_000_000)
done = time.perf_counter()
print(json.dumps({"import": (imported - started) * 1000, "first": (done - imported) * 1000}))
"""


def print_cold_start(folder: Path, corpus: list[Source], runs: int) -> None:
    section(f"cold start: fresh interpreters, {runs} each (ms, median)")
    rows = []
    for source in (s for s in corpus if s.name in ("JPEG 12MP", "PNG 4MP RGBA")):
        path = source.write(folder)
        probes = [json.loads(subprocess.run([PYTHON, "-c", COLD_PROBE, str(path)], check=True, capture_output=True,
                                            text=True, env=cold_env()).stdout) for _ in range(runs)]  # fmt: skip
        rows.append((source.name, f"{med([p['import'] for p in probes]):.0f}", f"{med([p['first'] for p in probes]):.0f}"))
    print_table(("first image", "import create_thumbnail.app", "first make_thumbnails, box 256"), rows)
    print("  The PNG's first call includes importing pyvips and loading libvips (only a PNG does).")


def print_cost(corpus: list[Source], timings: Timings) -> None:
    section("what a thumbnail costs on Lambda arm64 (this host's ms taken as one full vCPU)")
    rows = []
    for source in corpus:
        for sides in (ONE_BOX, THREE_BOXES):
            ms = med(timings[(source.name, sides, "ours")])
            cells = [f"{lambda_ms(ms, mb):.0f} ms ${cost_per_million(lambda_ms(ms, mb), mb):.2f}" for mb in (512, 1024, 1769)]
            rows.append((source.name, "+".join(map(str, sides)), *cells))
    print_table(("input", "boxes", "512 MB", "1024 MB", "1769 MB"), rows)
    print("  Duration scales with the CPU share (1769 MB = 1 vCPU); $ per million images, requests")
    print("  included, imaging only (S3 transfer not counted).")


def print_targets(corpus: list[Source], timings: Timings, peaks: dict, quality: dict) -> None:
    section("targets, as measured in this run")
    by_name = {source.name: source for source in corpus}

    def line(what: str, value: float | None, limit: float, at_most: bool = True) -> None:
        if value is None:
            print(f"  n/a   {what}: not measured")
            return
        held = value <= limit if at_most else value >= limit
        print(f"  {'PASS' if held else 'MISS'}  {what}: {value:.2f} ({'<=' if at_most else '>='} {limit})")

    for name in ("PNG 12MP RGB", "PNG 4MP RGBA"):
        source = by_name[name]
        line(f"{name}, box 256: time / libvips", ratio(timings, source, ONE_BOX, "libvips"), 1.1)
        mine, theirs = peaks.get((name, ONE_BOX, "ours")), peaks.get((name, ONE_BOX, "libvips"))
        line(f"{name}, box 256: peak memory / libvips", mine / theirs if mine and theirs else None, 1.2)
    for name in ("JPEG 12MP", "JPEG 24MP"):
        line(f"{name}, three boxes: time / floor", ratio(timings, by_name[name], THREE_BOXES, "floor"), 1.1)
    line("JPEG 12MP, box 256: time / floor", ratio(timings, by_name["JPEG 12MP"], ONE_BOX, "floor"), 1.05)
    line("JPEG 12MP, box 256: time / sharp", ratio(timings, by_name["JPEG 12MP"], ONE_BOX, "sharp"), 1.0)
    line("worst resize PSNR of ours, every input and box (dB)", min(q["ours resize"] for q in quality.values()), 42, False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and cold starts")
    options = parser.parse_args()
    names = [name for name in NAMES if not unavailable(name)]
    for name in set(NAMES) - set(names):
        print(f"{name}: left out, {unavailable(name)}", file=sys.stderr)
    print(f"imaging benchmark: {', '.join(names)}; pinned to core {CORE}; load average {loadavg()}")
    corpus = sources(options.quick)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timings = measure_speed(names, corpus, folder)
        peaks = measure_memory(names, corpus, folder)
        print_speed_and_memory(names, corpus, timings, peaks)
        quality = measure_quality(names, corpus, folder)
        print_quality(quality, names)
        print_cold_start(folder, corpus, 3 if options.quick else 7)
    print_cost(corpus, timings)
    print_targets(corpus, timings, peaks, quality)
    print(f"\nload average at the end: {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
