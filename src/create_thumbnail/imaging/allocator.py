"""glibc's malloc, told to keep the memory one image freed for the next, not to hand it back.

glibc serves a request above its mmap threshold (128 KB at start, raised to the size of each
mapped block freed, up to 32 MB) with a fresh mapping, and gives the top of its heap back to the
kernel when more than its trim threshold (twice the mmap threshold) lies free there. A
thumbnail's buffers are megabytes (the 1/2 draft of a 12 MP JPEG is 12 MB) and all are freed
when the image is done, so the next invocation maps them afresh and the kernel faults in and
zeroes every page again: ~5,900 minor faults (23 MB) for three boxes of a 12 MP JPEG, a fault
~2 us on this machine (a Firecracker microVM, as Lambda's are). With the mmap threshold fixed at
its ceiling and the trim threshold above what one invocation frees, the pages stay mapped and
the next image reuses them: three boxes of a JPEG of 6 to 24 MP then took 0.70-0.78x the time in
a warm worker (docs/performance.md).

The cost is resident memory: the process keeps up to TRIM_THRESHOLD of freed heap between
invocations, which the function's memory size pays for anyway. The memory budget (budget.py)
counts the runtime and the image, not these pages; an image reuses them first, but its buffers
over 32 MB (a very large image's) are mapped afresh beside them. So an image whose estimate
comes within TRIM_THRESHOLD of the budget has them handed back first (release_freed_memory).

Called once, at cold start (app.py). Only on glibc (Lambda's runtimes); elsewhere (macOS, musl)
nothing changes. A deployer's own thresholds (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_,
MALLOC_TOP_PAD_, or the same in GLIBC_TUNABLES) take precedence: then nothing is set here.

Pillow's blocks are sized here too (one_block_per_image), for any C library.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from functools import cache
from typing import Any

# mallopt's parameters (malloc.h)
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024  # the most glibc accepts on 64-bit (HEAP_MAX_SIZE / 2)
# Above the most one of the benchmark's paths frees (three boxes of a 24 MP JPEG: 46 MB).
TRIM_THRESHOLD = 64 * 1024 * 1024
# Just under the mmap threshold, with room for malloc's header and Pillow's alignment.
PILLOW_BLOCK_SIZE = MMAP_THRESHOLD - 1024 * 1024
_DEPLOYER_VARIABLES = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_")
_DEPLOYER_TUNABLES = (
    "glibc.malloc.mmap_threshold",
    "glibc.malloc.trim_threshold",
    "glibc.malloc.top_pad",
)


_kept = False  # whether this process keeps freed memory (keep_freed_memory took)


def keep_freed_memory(environ: Mapping[str, str] = os.environ) -> bool:
    """Fix glibc's mmap and trim thresholds as above. True if glibc took both."""
    global _kept
    libc = _glibc()
    if libc is None or set_by_deployer(environ):
        return False
    _kept = bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )
    return _kept


def one_block_per_image(environ: Mapping[str, str] = os.environ) -> bool:
    """Pillow stores an image in blocks of up to 16 MB, so the 1/2 draft of a 24 MP JPEG (24 MB
    as RGBX) lies in two pieces, which libvips cannot read in place (arrow.py): it gets a packed
    copy instead, 18 MB more at the peak. Blocks of up to PILLOW_BLOCK_SIZE keep an image of up
    to 31 MB (7.8 MP) in one piece, and each block still under the mmap threshold, on the heap
    whose pages are kept. True if set; a deployer's PILLOW_BLOCK_SIZE, which Pillow read at
    import, wins, and a Pillow without the setting keeps its own blocks (arrow.py copies)."""
    from PIL import Image

    set_block_size = getattr(Image.core, "set_block_size", None)
    if "PILLOW_BLOCK_SIZE" in environ or set_block_size is None:
        return False
    set_block_size(PILLOW_BLOCK_SIZE)
    return True


def release_freed_memory() -> bool:
    """Hand the freed pages kept for reuse back to the kernel (malloc_trim), as glibc would have
    by itself. True if any went back."""
    libc = _glibc()
    return _kept and libc is not None and bool(libc.malloc_trim(0))


def set_by_deployer(environ: Mapping[str, str]) -> bool:
    """Whether the environment already tunes malloc's thresholds, which glibc read at start."""
    tunables = environ.get("GLIBC_TUNABLES", "")
    return any(name in environ for name in _DEPLOYER_VARIABLES) or any(
        name in tunables for name in _DEPLOYER_TUNABLES
    )


@cache
def _glibc() -> Any | None:
    """The process's own symbols, glibc's among them; None where it does not run on glibc."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        if os.confstr("CS_GNU_LIBC_VERSION") is None:
            return None
    except (ValueError, OSError):  # no such name: not glibc (musl)
        return None
    import ctypes  # ~1.6 ms, and only where it can be used

    return ctypes.CDLL(None)
