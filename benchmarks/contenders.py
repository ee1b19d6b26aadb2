"""The thumbnailers the imaging benchmark compares, each behind one interface: a worker process of
its own, pinned to one core, that is sent a source once and then asked to thumbnail it to a list
of box sides, timing itself warm (no process start, no pipe in the figure) or measuring its own
peak memory (VmHWM after resetting it through /proc/self/clear_refs).

    ours     create_thumbnail.imaging.make_thumbnails: every box from one decode, the default
             Encoding (JPEG q85 with optimised Huffman tables, PNG compress_level 3) and the
             placeholder the manifest carries; in a process that imported the handler, whose
             cold start sets glibc's malloc thresholds (create_thumbnail/imaging/allocator.py);
    sharp    sharp(buf).rotate().resize(s, s, {fit: 'inside', withoutEnlargement: true}) per
             box, JPEG q85 or PNG level 3 (benchmarks/sharp/worker.mjs; Node, npm ci);
    sharp-once  several boxes only: one sharp decode straight to the largest box, kept raw, and
             every box resized and encoded from it (the single decode ours makes);
    libvips  pyvips.Image.thumbnail_buffer(data, s, height=s) per box and write_to_buffer in the
             source's format (Q=85 optimize_coding, compression=3);
    floor    JPEG only, libjpeg-turbo through simplejpeg: one decode at the smallest DCT scale
             that covers the largest box, then for each box that array cut down by a whole
             stride (nearest neighbour, no filter) to no less than the box, encoded (q85 4:2:0):
             the work every thumbnailer must do, and no more;
    naive    per box: Image.open, full load, exif_transpose, resize(LANCZOS), save.

One vips thread, no vips operation cache, sharp.concurrency(1): a function below 1769 MB has
less than one vCPU, and every invocation sees new bytes.

    python benchmarks/contenders.py serve NAME    # the worker: JSON lines on stdin and stdout
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SHARP = HERE / "sharp"
NAMES = ("ours", "sharp", "sharp-once", "libvips", "floor", "naive")
MAX_PIXELS = 50_000_000  # the function's default limit; every source here is below it
Thumbnailer = Callable[[bytes, Sequence[int]], list[bytes]]


class Worker:
    """One contender's process. Requests are answered in order, one JSON line each."""

    def __init__(self, name: str, core: int) -> None:
        self.name = name
        self._variant = {"sharp": {"variant": "pipelines"}, "sharp-once": {"variant": "once"}}.get(name, {})
        if name.startswith("sharp"):
            command = ["node", "--expose-gc", str(SHARP / "worker.mjs")]
        else:
            command = [sys.executable, str(Path(__file__).resolve()), "serve", name]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                         preexec_fn=lambda: os.sched_setaffinity(0, {core}))  # fmt: skip

    def ask(self, **request: Any) -> dict:
        assert self._process.stdin and self._process.stdout
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        reply = json.loads(self._process.stdout.readline() or '{"error": "the worker exited"}')
        if "error" in reply:
            raise RuntimeError(f"{self.name}: {reply['error']}")
        return reply

    def load(self, key: str, path: Path) -> None:
        self.ask(op="load", key=key, path=str(path))

    def run(self, key: str, sides: Sequence[int], out: Path | None = None) -> float:
        """Milliseconds for every box, measured inside the worker."""
        options = {**self._variant, **({"out": str(out)} if out else {})}
        return self.ask(op="run", key=key, sides=list(sides), **options)["ms"]

    def peak_mb(self, key: str, sides: Sequence[int]) -> float:
        reply = self.ask(op="peak", key=key, sides=list(sides), **self._variant)
        return (reply["hwm_kb"] - reply["rss_kb"]) / 1024

    def close(self) -> None:
        try:
            self.ask(op="quit")
        finally:
            self._process.wait(timeout=10)


def unavailable(name: str) -> str | None:
    """Why a contender cannot run here, or None."""
    if name.startswith("sharp") and not (SHARP / "node_modules" / "sharp").is_dir():
        return "benchmarks/sharp/node_modules is missing (scripts/bench runs npm ci; needs Node 20)"
    return None


# ---- the Python contenders ----------------------------------------------------------------------


def ours(data: bytes, sides: Sequence[int]) -> list[bytes]:
    import create_thumbnail.app  # noqa: F401  its cold start sets the allocator, as on Lambda
    from create_thumbnail.config import Box
    from create_thumbnail.imaging import make_thumbnails

    return [thumbnail.data for thumbnail in make_thumbnails(data, [Box(side, side) for side in sides], MAX_PIXELS)]


@cache
def vips() -> Any:
    import pyvips

    pyvips.cache_set_max(0)
    pyvips.concurrency_set(1)
    return pyvips


def libvips(data: bytes, sides: Sequence[int]) -> list[bytes]:
    jpeg = data.startswith(b"\xff\xd8")
    made = []
    for side in sides:
        image = vips().Image.thumbnail_buffer(data, side, height=side)
        if jpeg:
            made.append(image.write_to_buffer(".jpg", Q=85, optimize_coding=True, keep="none"))
        else:
            made.append(image.write_to_buffer(".png", compression=3, keep="none"))
    return made


def floor(data: bytes, sides: Sequence[int]) -> list[bytes]:
    import numpy
    import simplejpeg

    height, width, _, _ = simplejpeg.decode_jpeg_header(data)
    boxes = [_fit((width, height), side) for side in sides]
    largest = max(boxes)
    pixels = simplejpeg.decode_jpeg(data, colorspace="RGB", fastdct=False, fastupsample=False,
                                    min_width=largest[0], min_height=largest[1])  # fmt: skip
    made = []
    for box_width, box_height in boxes:
        stride = max(1, min(pixels.shape[1] // box_width, pixels.shape[0] // box_height))
        cut = numpy.ascontiguousarray(pixels[::stride, ::stride])
        made.append(simplejpeg.encode_jpeg(cut, quality=85, colorspace="RGB", colorsubsampling="420", fastdct=False))
    return made


def naive(data: bytes, sides: Sequence[int]) -> list[bytes]:
    from PIL import Image, ImageOps

    made = []
    for side in sides:
        image = Image.open(BytesIO(data))
        image.load()
        source_format = image.format
        image = ImageOps.exif_transpose(image)
        small = image.resize(_fit(image.size, side), Image.Resampling.LANCZOS)
        buffer = BytesIO()
        if source_format == "JPEG":
            small.convert("RGB").save(buffer, format="JPEG", quality=85)
        else:
            small.save(buffer, format="PNG", compress_level=3)
        made.append(buffer.getvalue())
    return made


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    from create_thumbnail.config import Box
    from create_thumbnail.imaging.renditions import fit

    return fit(size, Box(side, side))


# ---- the worker ---------------------------------------------------------------------------------


def _status_kb(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1])
    raise LookupError(field)


def serve(make: Thumbnailer) -> None:
    sources: dict[str, bytes] = {}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            reply = _answer(make, sources, request)
        except Exception as error:  # the driver shows it; the worker stays up
            reply = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(reply), flush=True)
        if request["op"] == "quit":
            return


def _answer(make: Thumbnailer, sources: dict[str, bytes], request: dict) -> dict:
    op = request["op"]
    if op == "load":
        sources[request["key"]] = Path(request["path"]).read_bytes()
        return {"ok": True}
    if op == "quit":
        return {"ok": True}
    data, sides = sources[request["key"]], request["sides"]
    gc.collect()
    rss_kb = _status_kb("VmRSS:")
    if op == "peak":
        Path("/proc/self/clear_refs").write_text("5")
    started = time.perf_counter()
    made = make(data, sides)
    reply = {"ms": (time.perf_counter() - started) * 1000, "bytes": [len(m) for m in made]}
    if op == "peak":
        reply.update(rss_kb=rss_kb, hwm_kb=_status_kb("VmHWM:"))
    if request.get("out"):
        for side, thumbnail in zip(sides, made, strict=True):
            (Path(request["out"]) / f"{side}.bin").write_bytes(thumbnail)
    return reply


if __name__ == "__main__" and sys.argv[1:2] == ["serve"]:
    serve({"ours": ours, "libvips": libvips, "floor": floor, "naive": naive}[sys.argv[2]])
