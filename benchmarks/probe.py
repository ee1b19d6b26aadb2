"""What every probe (measure.run_probe: a snippet in a fresh interpreter) measures with: the
resident memory, and one call's peak memory, time and outcome. Peak = VmHWM, not ru_maxrss:
Linux carries ru_maxrss across fork+execve, so a probe would report the (big) parent's RSS at
spawn time."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def _status_mb(field: str) -> float:
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


def rss_mb() -> float:
    return _status_mb("VmRSS:")


def peak_mb() -> float:
    return _status_mb("VmHWM:")


def measured(make: Callable[[], Any], width: int = 70) -> dict[str, Any]:
    """make() once, the kernel's high-water mark reset just before: the MB it added at its peak
    (VmHWM less VmRSS before), its ms, and what it returned, or what it raised as 'Type: message'."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    before, started = rss_mb(), time.perf_counter()
    try:
        outcome = make()
    except Exception as error:
        outcome = f"{type(error).__name__}: {error}"[:width]
    return {"peak": peak_mb() - before, "ms": (time.perf_counter() - started) * 1000, "outcome": outcome}


def thumbnail_sizes(rendered: Any) -> str:
    """A Rendered's distinct thumbnail sizes, largest first: '1024x683, 256x171, 150x150'."""
    sizes = {f"{t.width}x{t.height}" for t in rendered.thumbnails}
    return ", ".join(sorted(sizes, key=lambda size: -int(size.split("x")[0])))
