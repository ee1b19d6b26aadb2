"""An object read in ranges as a seekable file: what a video's demuxer reads from, so that a
multi-gigabyte clip becomes a poster frame after a few megabytes.

A demuxer jumps: an MP4 written by a camera keeps its index (moov) after the media, so FFmpeg
reads the first box, seeks to the end for the index, then back to the first frame's bytes. Each
read it makes that is not already here fetches the block around it, one ranged GET; a run of
reads that follow one another fetches blocks twice as large each time (up to MAX_BLOCK), so a
sequential scan costs few requests. Only the last few blocks are kept: memory stays bounded
however far the demuxer wanders.

Pure: the fetching is the caller's (fetch(start, end) -> the bytes of [start, end)), so that
storage keeps the I/O and its errors, and tests read from bytes in memory. The counts (bytes
fetched, requests) are what the run reports against the object's size; past max_bytes fetched,
ReadLimitExceeded, a permanent failure of that object.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from collections.abc import Callable

from create_thumbnail.errors import ReadLimitExceeded

BLOCK = 1 << 20  # 1 MiB: a short clip's index or first frames in one request
MAX_BLOCK = 8 << 20
KEEP_BLOCKS = 8  # at most 8 x 8 MiB held

Fetch = Callable[[int, int], bytes]


class RangedFile(io.RawIOBase):
    """A read-only, seekable view of size bytes, fetched as needed. head: the bytes the first
    GET already brought (from offset 0), which cost no further request."""

    def __init__(self, size: int, fetch: Fetch, *, head: bytes = b"", max_bytes: int, block: int = BLOCK) -> None:
        super().__init__()
        self.size = size
        self.head = head[:size]
        self.max_bytes = max_bytes
        self.fetched = len(self.head)  # bytes brought from the object, the head's included
        self.requests = 0  # ranged requests made
        self._fetch = fetch
        self._block = block
        self._next = block
        self._position = 0
        self._blocks: OrderedDict[int, bytes] = OrderedDict()  # start -> bytes, oldest first
        self._last_end = -1
        if self.head:
            self._blocks[0] = self.head

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        if base + offset < 0:
            raise ValueError(f"seek to {base + offset}, before the start")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        """The whole buffer, short only at the object's end."""
        view, done = memoryview(buffer).cast("B"), 0
        while done < len(view) and self._position < self.size:
            start, data = self._block_at(self._position)
            chunk = data[self._position - start : self._position - start + len(view) - done]
            view[done : done + len(chunk)] = chunk
            done += len(chunk)
            self._position += len(chunk)
        return done

    def _block_at(self, position: int) -> tuple[int, bytes]:
        for start, data in reversed(self._blocks.items()):
            if start <= position < start + len(data):
                self._blocks.move_to_end(start)
                return start, data
        return self._load(position)

    def _load(self, position: int) -> tuple[int, bytes]:
        # A read just past the last fetch continues a scan: double the block; else start small.
        self._next = min(self._next * 2, MAX_BLOCK) if position == self._last_end else self._block
        start = position
        end = min(start + self._next, self.size)
        if self.fetched + (end - start) > self.max_bytes:
            raise ReadLimitExceeded(
                f"reading a frame took more than {self.max_bytes:,} bytes of the {self.size:,}-byte object "
                f"(MAX_VIDEO_READ_BYTES); {self.fetched:,} read in {self.requests} ranged requests"
            )
        data = self._fetch(start, end)
        if len(data) != end - start:  # the object is not the size its GET said: it changed
            raise ValueError(f"asked for bytes {start}-{end - 1}, got {len(data)}")
        self.fetched += len(data)
        self.requests += 1
        self._last_end = end
        self._blocks[start] = data
        while len(self._blocks) > KEEP_BLOCKS:
            self._blocks.popitem(last=False)
        return start, data
