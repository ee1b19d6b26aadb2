"""Peak memory of the function's process, Lambda's "Max Memory Used", read from /proc.

VmHWM is the kernel's high-water mark of a process's resident set: reading it once after an
invocation gives the exact peak since the environment started, as Lambda reports it. A process
the emulator killed (a timeout) can no longer be read, so while an invocation runs we also
sample it every few milliseconds and keep the last value seen.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")


def _children(pid: int) -> list[int]:
    """Each thread lists the children it started; the emulator is a Go program whose threads
    all may start one."""
    found = []
    for children in PROC.glob(f"{pid}/task/*/children"):
        try:
            found.extend(int(child) for child in children.read_text().split())
        except OSError:
            continue  # the thread ended while we looked
    return found


def _peak_kib(pid: int) -> int | None:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def peak_child_mb(parent: int) -> int | None:
    """The largest peak among parent's children (the runtime process under the emulator), in
    MB as Lambda counts them (MiB, rounded up); None if no child is alive."""
    peaks = [kib for pid in _children(parent) if (kib := _peak_kib(pid)) is not None]
    return math.ceil(max(peaks) / 1024) if peaks else None


@dataclass
class Peak:
    mb: int | None = None  # the last value seen; None while no runtime process was alive


@contextmanager
def watch_peak(parent: int, interval_s: float = 0.02) -> Iterator[Peak]:
    """Samples peak_child_mb(parent) until the block ends, and once more after it."""
    peak = Peak()
    stop = threading.Event()

    def sample() -> None:
        if (mb := peak_child_mb(parent)) is not None:
            peak.mb = mb

    def run() -> None:
        while not stop.wait(interval_s):
            sample()

    thread = threading.Thread(target=run, name="peak-rss", daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        sample()
