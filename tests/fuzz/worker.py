"""The worker process: warms up, then builds each input and runs make_thumbnails on it alone,
measuring its time (wall and CPU) and the resident memory it adds at its peak. Everything that
can go wrong in the code under test is caught and named here; what cannot be caught (a segfault,
an OOM kill, a hang: RLIMIT_CPU ends an input that spends HANG_CPU_S of CPU) the parent sees."""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import math
import os
import re
import resource
import signal
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from multiprocessing.connection import Connection
from pathlib import Path

from PIL import Image

from create_thumbnail.errors import PermanentError
from create_thumbnail.imaging import Thumbnail, make_thumbnails
from create_thumbnail.imaging.allocator import keep_freed_memory, one_block_per_image
from create_thumbnail.imaging.budget import Budget
from tests.fuzz.inputs import build_input, memory_mb
from tests.fuzz.limits import BOXES, ENCODING, HANG_CPU_S, MAX_PIXELS, SOURCE_FORMATS, budget
from tests.fuzz.seeds import seed_bytes

THUMBNAILS, UNTYPED, BAD_THUMBNAIL = "thumbnails", "untyped", "bad-thumbnail"
BUILD_FAILED = "build-failed"
_STATUS = re.compile(rb"^(VmHWM|VmRSS):\s+(\d+) kB$", re.MULTILINE)
# One small image of each format, and one with a profile: imports (pi-heif, LittleCMS, the
# AVIF and WebP codecs) and first-use set-up happen here, not in the first input measured.
WARM_UP_SEEDS = (
    "jpeg-baseline", "jpeg-adobe-rgb", "png-rgba", "webp-lossy", "avif-rgb", "heif-rgb",
    "tiff-rgb-lzw", "gif-palette", "pdf-image", "video-h264-mp4", "jxl-rgb-lossy",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Measured:
    outcome: str  # THUMBNAILS, a PermanentError subclass's name, or one of the failures above
    detail: str  # the exception as "Type: message", or what is wrong with a thumbnail
    where: str  # innermost frame of ours and innermost frame overall, to group errors by
    seconds: float  # by the wall clock
    cpu_seconds: float  # user and system, every thread of the worker's
    peak_bytes: int  # resident memory added at the peak: VmHWM during the call less VmRSS before
    input_bytes: int


def image_path(data: bytes, memory: Budget | None = None) -> list[Thumbnail]:
    """The call under test, as the function makes it (at 1024 MB unless told) with every source
    format on and animations kept."""
    memory = memory or budget()
    return make_thumbnails(
        data, BOXES, MAX_PIXELS, ENCODING, budget=memory, source_formats=SOURCE_FORMATS
    )


def serve(connection: Connection, address_space: int, log: Path) -> None:
    """Worker main loop: ("ready", seconds) once warm; then a spec in, ("built", description)
    and a ("done", Measured) out; None stops. RLIMIT_AS turns a runaway allocation into a
    MemoryError in this process alone; RLIMIT_CPU, set afresh for each input, ends the process
    with SIGXCPU once the input has spent HANG_CPU_S of CPU, after faulthandler has written
    where it was. Everything written to stderr (Pillow's warnings about broken files, libtiff's
    complaints, faulthandler's tracebacks) goes to log; no core is dumped."""
    with log.open("ab") as file:
        os.dup2(file.fileno(), 2)
    faulthandler.enable()
    faulthandler.register(signal.SIGXCPU, all_threads=True, chain=True)
    cold_start()
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    connection.send(("ready", warm_up()))
    while (spec := connection.recv()) is not None:
        try:
            data, description = build_input(spec)
        except Exception as error:  # noqa: BLE001 - the fuzzer's bug, reported against the input
            connection.send(("built", "could not be built"))
            failed = Measured(BUILD_FAILED, _describe(error), _where(error), 0.0, 0.0, 0, 0)
            connection.send(("done", failed))
            continue
        connection.send(("built", description))
        with _cpu_limit(HANG_CPU_S):
            measured = measure(data, budget(memory_mb(spec)))
        connection.send(("done", measured))
        del data


def cold_start() -> None:
    """What the handler's import does to the allocator (app.py): glibc keeps freed pages for the
    next image and Pillow stores an image in one block, so peaks are measured as deployed."""
    keep_freed_memory()
    one_block_per_image()


def warm_up() -> float:
    """Seconds spent making thumbnails of WARM_UP_SEEDS, which must all succeed."""
    start = time.perf_counter()
    for name in WARM_UP_SEEDS:
        image_path(seed_bytes(name))
    return time.perf_counter() - start


def measure(data: bytes, memory: Budget | None = None) -> Measured:
    before = _release_freed_memory()
    _reset_peak()
    start, cpu_start = time.perf_counter(), _cpu_seconds()
    thumbnails: list[Thumbnail] = []
    try:
        thumbnails = image_path(data, memory)
        outcome, detail, where = THUMBNAILS, "", ""
    except PermanentError as error:
        outcome, detail, where = type(error).__name__, str(error)[:160], ""
    except Exception as error:  # noqa: BLE001 - anything untyped is the finding
        outcome, detail, where = UNTYPED, _describe(error), _where(error)
    seconds, cpu_seconds = time.perf_counter() - start, _cpu_seconds() - cpu_start
    peak = _status()["VmHWM"]
    if thumbnails and (problem := check(thumbnails)):
        outcome, detail = BAD_THUMBNAIL, problem
    return Measured(outcome, detail, where, seconds, cpu_seconds, peak - before, len(data))


def _cpu_seconds() -> float:
    """This process's CPU time, user and system, its threads' included (a decoder's too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def _cpu_limit(seconds: int) -> Iterator[None]:
    """RLIMIT_CPU counts the whole process's CPU since it started: the limit is what it has spent
    so far plus seconds, lifted again afterwards (a soft limit may rise up to the hard one,
    which is left alone)."""
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    limit = math.ceil(_cpu_seconds()) + seconds
    resource.setrlimit(resource.RLIMIT_CPU, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))


def check(thumbnails: list[Thumbnail]) -> str:
    """What is wrong with the thumbnails, or '' when every box has at least one (one per output
    format), in the order given, and each decodes again and fits its box."""
    boxes = list(dict.fromkeys(t.box for t in thumbnails))
    if boxes != list(BOXES):
        return f"boxes {[str(b) for b in boxes]}, expected {[str(b) for b in BOXES]}"
    for thumbnail in thumbnails:
        try:
            image = Image.open(BytesIO(thumbnail.data))
            image.load()
        except Exception as error:  # noqa: BLE001
            return f"{thumbnail.box} thumbnail does not decode: {_describe(error)}"
        box = thumbnail.box
        if image.format != thumbnail.format or image.size != (thumbnail.width, thumbnail.height):
            said = f"{thumbnail.format} {thumbnail.width}x{thumbnail.height}"
            return f"{box} thumbnail is {image.format} {image.width}x{image.height}, says {said}"
        if not (1 <= image.width <= box.width and 1 <= image.height <= box.height):
            return f"{box} thumbnail is {image.width}x{image.height}: does not fit"
    return ""


def _describe(error: BaseException) -> str:
    kind = type(error)
    module = "" if kind.__module__ == "builtins" else f"{kind.__module__}."
    return f"{module}{kind.__qualname__}: {str(error)[:200]}"


def _where(error: BaseException) -> str:
    """'colour.py:48 to_srgb -> ImageCms.py:512 buildTransform': where it left our code, and
    where it was raised."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "create_thumbnail" in f.filename]
    shown = ours[-1:] + frames[-1:]
    return " -> ".join(dict.fromkeys(f"{Path(f.filename).name}:{f.lineno} {f.name}" for f in shown))


def _release_freed_memory() -> int:
    """Collect and hand freed heap back to the kernel, so one input's peak does not start from
    the previous input's leftovers; the resident bytes left. What survives a collection is live
    (modules, seeds, caches): freezing it keeps the next collection to the objects one input
    made (3 ms -> well under 1)."""
    gc.collect()
    gc.freeze()
    if trim := _malloc_trim():
        trim(0)
    return _status()["VmRSS"]


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc
        return None


def _reset_peak() -> None:
    """Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")


def _status() -> dict[str, int]:
    """VmHWM and VmRSS from /proc/self/status, in bytes."""
    with open("/proc/self/status", "rb") as status:
        return {name.decode(): int(kb) * 1024 for name, kb in _STATUS.findall(status.read())}
