"""A real MP4 made as large as wanted without holding it: its media box grown by zeros after the
media, so the index (moov) that follows moves gigabytes back while every sample stays where it
was (an MP4's sample offsets count from the file's start, and the samples come first). The
object is served as ranges, as S3 serves one: what a video's reader reads of a clip of any size.
"""

from __future__ import annotations

import struct
from collections.abc import Callable


def grown(data: bytes, extra: int) -> tuple[int, Callable[[int, int], bytes]]:
    """(the object's size, fetch(start, end) -> its bytes [start, end)). data must hold a media
    box with a 64-bit size (as cameras write it) before its moov."""
    start = _media_box(data)
    size = struct.unpack(">Q", data[start + 8 : start + 16])[0]
    end = start + size
    prefix = data[: start + 8] + struct.pack(">Q", size + extra) + data[start + 16 : end]
    suffix = data[end:]
    total = len(prefix) + extra + len(suffix)

    def fetch(first: int, stop: int) -> bytes:
        assert 0 <= first < stop <= total
        parts = []
        for offset, length, piece in ((0, len(prefix), prefix), (len(prefix), extra, None),
                                      (len(prefix) + extra, len(suffix), suffix)):  # fmt: skip
            low, high = max(first, offset), min(stop, offset + length)
            if low < high:
                parts.append(bytes(high - low) if piece is None else piece[low - offset : high - offset])
        return b"".join(parts)

    return total, fetch


def _media_box(data: bytes) -> int:
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"mdat":
            if size != 1:
                raise ValueError("the media box has a 32-bit size: this clip cannot be grown past 4 GB")
            return offset
        if size < 8:
            break
        offset += size
    raise ValueError("no media box with a 64-bit size")
