"""The measurements: time (interleaved rounds in long-lived workers), peak memory (a fresh worker per
figure), quality (PSNR against a full decode + LANCZOS), cold start (fresh interpreters), and
the fresh-process probes the memory budget's benchmark runs. Nothing here prints.

Contenders are timed round by round in alternating order, each in its own process pinned to the
same core, so drift on a shared host hits all alike; ratios are medians of per-round ratios.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
from collections.abc import Mapping, Sequence
from io import BytesIO
from pathlib import Path
from typing import Any

from contenders import Worker
from corpus import ONE_BOX, THREE_BOXES, Source, warm_ups

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable
CORE = 1
Key = tuple[str, tuple[int, ...], str]  # (source, box sides, contender)
Timings = dict[Key, list[float]]


def med(values: Sequence[float]) -> float:
    return statistics.median(values)


def spread(values: Sequence[float]) -> float:
    """Interquartile range over the median: the noise figure the tables print."""
    if len(values) < 2:
        return 0.0
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return (q3 - q1) / med(values)


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


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


def ratio(timings: Timings, source: Source, sides: tuple[int, ...], other: str, of: str = "ours") -> float | None:
    """of's time over other's: the median of per-round ratios."""
    mine, theirs = timings.get((source.name, sides, of)), timings.get((source.name, sides, other))
    if not mine or not theirs:
        return None
    return med([a / b for a, b in zip(mine, theirs, strict=True)])


def measure_quality(names: list[str], corpus: list[Source], folder: Path) -> dict[str, dict[str, float]]:
    """PSNR (dB) against a full decode + LANCZOS to the same size: of our resized pixels before
    the encoder (the resize alone), and of every contender's file as written."""
    import numpy as np
    from PIL import Image, ImageOps

    from create_thumbnail.config import Box
    from create_thumbnail.imaging.readers.registry import load_source
    from create_thumbnail.imaging.renditions import resize_all

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


COLD_PROBE = """
import json, sys, time
for blocked in ("awscrt", "OpenSSL"):
    sys.modules[blocked] = None  # dev-only packages the Lambda runtime lacks
started = time.perf_counter()
import create_thumbnail.app
from create_thumbnail.config import Box
from create_thumbnail.imaging import make_thumbnails
imported = time.perf_counter()
import boto3
boto3.client("s3")
client = time.perf_counter()
make_thumbnails(open(sys.argv[1], "rb").read(), [Box(256, 256)], 50_000_000)
done = time.perf_counter()
print(json.dumps({"import": (imported - started) * 1000, "client": (client - imported) * 1000,
                  "first": (done - client) * 1000}))
"""


def measure_cold_start(path: Path, runs: int) -> dict[str, float]:
    """Medians over fresh interpreters: the import, the first S3 client, the first thumbnail."""
    probes = [json.loads(subprocess.run([PYTHON, "-c", COLD_PROBE, str(path)], check=True, capture_output=True,
                                        text=True, env=cold_env()).stdout) for _ in range(runs)]  # fmt: skip
    return {part: med([probe[part] for probe in probes]) for part in probes[0]}


def cold_env() -> dict[str, str]:
    """The environment of a fresh function process: fake credentials, an endpoint that is never
    contacted (building a client is offline) and the settings the handler requires."""
    from local_run.shared import LOCAL_AWS_ENV

    return {
        **os.environ, **LOCAL_AWS_ENV,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "DESTINATION_BUCKET": "bench-resized",
        "POWERTOOLS_SERVICE_NAME": "create-thumbnail-bench",
    }  # fmt: skip


# Prepended to every probe snippet: its helpers are probe.py's, importable from here.
PROBE_HELPERS = """
import json, sys, time
sys.path.insert(0, {here!r})
from probe import measured, peak_mb, rss_mb, thumbnail_sizes
"""


def run_probe(code: str, args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> dict:
    """PROBE_HELPERS + code in a fresh interpreter from the repository root; the snippet's last
    stdout line is JSON. A failing probe raises with its stderr, so nothing is guessed."""
    source = PROBE_HELPERS.format(here=str(HERE)) + code
    done = subprocess.run([PYTHON, "-c", source, *args], check=False, capture_output=True,
                          text=True, cwd=ROOT, env=dict(env) if env is not None else None)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"probe failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])
