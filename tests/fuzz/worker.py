"""The worker process: warms up, then builds each input and runs make_thumbnails on it alone,
measuring its time and the resident memory it adds at its peak. Everything that can go wrong in
the code under test is caught and named here; what cannot be caught (a hang, a segfault, an OOM
kill) the parent sees."""

from __future__ import annotations

import ctypes
import faulthandler
import gc
import os
import re
import resource
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from multiprocessing.connection import Connection
from pathlib import Path

from PIL import Image

from create_thumbnail.errors import PermanentError
from create_thumbnail.imaging import Thumbnail, make_thumbnails
from tests.fuzz.inputs import build_input
from tests.fuzz.limits import BOXES, BUDGET, ENCODING, MAX_PIXELS, SOURCE_FORMATS
from tests.fuzz.seeds import seed_bytes

THUMBNAILS, UNTYPED, BAD_THUMBNAIL = "thumbnails", "untyped", "bad-thumbnail"
BUILD_FAILED = "build-failed"
_STATUS = re.compile(rb"^(VmHWM|VmRSS):\s+(\d+) kB$", re.MULTILINE)
# One small image of each format, and one with a profile: imports (pi-heif, LittleCMS, the
# AVIF and WebP codecs) and first-use set-up happen here, not in the first input measured.
WARM_UP_SEEDS = (
    "jpeg-baseline", "jpeg-adobe-rgb", "png-rgba", "webp-lossy", "avif-rgb", "heif-rgb",
    "tiff-rgb-lzw", "gif-palette",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Measured:
    outcome: str  # THUMBNAILS, a PermanentError subclass's name, or one of the failures above
    detail: str  # the exception as "Type: message", or what is wrong with a thumbnail
    where: str  # innermost frame of ours and innermost frame overall, to group errors by
    seconds: float
    peak_bytes: int  # resident memory added at the peak: VmHWM during the call less VmRSS before
    input_bytes: int


def image_path(data: bytes) -> list[Thumbnail]:
    """The call under test, as the function makes it at 1024 MB with every source format on."""
    return make_thumbnails(
        data, BOXES, MAX_PIXELS, ENCODING, budget=BUDGET, source_formats=SOURCE_FORMATS
    )


def serve(connection: Connection, address_space: int, log: Path) -> None:
    """Worker main loop: ("ready", seconds) once warm; then a spec in, ("built", description)
    and a ("done", Measured) out; None stops. RLIMIT_AS turns a runaway allocation into a
    MemoryError in this process alone. Everything written to stderr (Pillow's warnings about
    broken files, libtiff's complaints, faulthandler's traceback of a crash) goes to log."""
    with log.open("ab") as file:
        os.dup2(file.fileno(), 2)
    faulthandler.enable()
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    connection.send(("ready", warm_up()))
    while (spec := connection.recv()) is not None:
        try:
            data, description = build_input(spec)
        except Exception as error:  # noqa: BLE001 - the fuzzer's bug, reported against the input
            connection.send(("built", "could not be built"))
            connection.send(
                ("done", Measured(BUILD_FAILED, _describe(error), _where(error), 0.0, 0, 0))
            )
            continue
        connection.send(("built", description))
        connection.send(("done", measure(data)))
        del data


def warm_up() -> float:
    """Seconds spent making thumbnails of WARM_UP_SEEDS, which must all succeed."""
    start = time.perf_counter()
    for name in WARM_UP_SEEDS:
        image_path(seed_bytes(name))
    return time.perf_counter() - start


def measure(data: bytes) -> Measured:
    before = _release_freed_memory()
    _reset_peak()
    start = time.perf_counter()
    thumbnails: list[Thumbnail] = []
    try:
        thumbnails = image_path(data)
        outcome, detail, where = THUMBNAILS, "", ""
    except PermanentError as error:
        outcome, detail, where = type(error).__name__, str(error)[:160], ""
    except Exception as error:  # noqa: BLE001 - anything untyped is the finding
        outcome, detail, where = UNTYPED, _describe(error), _where(error)
    seconds, peak = time.perf_counter() - start, _status()["VmHWM"]
    if thumbnails and (problem := check(thumbnails)):
        outcome, detail = BAD_THUMBNAIL, problem
    return Measured(outcome, detail, where, seconds, peak - before, len(data))


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
