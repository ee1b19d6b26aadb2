"""Peak memory of the function's process, Lambda's "Max Memory Used", read from /proc.

VmHWM is the kernel's high-water mark of a process's resident set: reading it once after an
invocation gives the exact peak since the environment started, as Lambda reports it. A process
the emulator killed (a timeout) can no longer be read, so while an invocation runs we also
sample it every few milliseconds and keep the last value seen.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

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


class PeakWatch:
    """Samples peak_child_mb(parent) until closed; `peak_mb` is the last value seen."""

    def __init__(self, parent: int, interval_s: float = 0.02) -> None:
        self._parent = parent
        self._interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)
        self.peak_mb: int | None = None

    def _sample(self) -> None:
        if (mb := peak_child_mb(self._parent)) is not None:
            self.peak_mb = mb

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self._sample()

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
