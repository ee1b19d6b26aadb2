"""RangedFile: an object read in ranges behaves as a file (every byte where it is, whatever the
seeks), asks for blocks that grow along a scan and start small after a jump, keeps memory
bounded, and stops at the read limit with the object's own figures."""

from __future__ import annotations

import io
import random

import pytest

from create_thumbnail.errors import ImageTooLarge, ReadLimitExceeded
from create_thumbnail.ranged import BLOCK, KEEP_BLOCKS, MAX_BLOCK, RangedFile

SIZE = 40 << 20


class Object:
    """An object's bytes, and the ranges asked of it."""

    def __init__(self, size: int = SIZE) -> None:
        self.data = random.Random(size).randbytes(size)
        self.asked: list[tuple[int, int]] = []

    def fetch(self, start: int, end: int) -> bytes:
        assert 0 <= start < end <= len(self.data)
        self.asked.append((start, end))
        return self.data[start:end]


def test_reads_every_byte_where_it_is_whatever_the_seeks() -> None:
    source = Object()
    ranged = RangedFile(SIZE, source.fetch, head=source.data[:1000], max_bytes=SIZE * 10)
    rng = random.Random(7)
    for _ in range(300):
        offset, length = rng.randrange(SIZE), rng.choice([1, 100, 32768, 3 << 20])
        ranged.seek(offset)
        assert ranged.read(length) == source.data[offset : offset + length]
        assert ranged.tell() == min(SIZE, offset + length)
    ranged.seek(-5, io.SEEK_END)
    assert ranged.read() == source.data[-5:]
    assert ranged.read(10) == b""


def test_the_head_costs_no_request() -> None:
    source = Object()
    ranged = RangedFile(SIZE, source.fetch, head=source.data[:BLOCK], max_bytes=SIZE)
    assert ranged.read(BLOCK) == source.data[:BLOCK]
    assert (source.asked, ranged.requests, ranged.fetched) == ([], 0, BLOCK)


def test_a_scan_asks_for_growing_blocks_and_a_jump_starts_small_again() -> None:
    source = Object()
    ranged = RangedFile(SIZE, source.fetch, max_bytes=SIZE * 2)
    ranged.read(12 << 20)  # a demuxer reading along the media
    sizes = [end - start for start, end in source.asked]
    assert sizes[:4] == [BLOCK, 2 * BLOCK, 4 * BLOCK, MAX_BLOCK]
    ranged.seek(SIZE - 100_000)  # then to the index at the end
    ranged.read(10)
    assert source.asked[-1] == (SIZE - 100_000, SIZE)  # one block, cut at the end
    assert ranged.requests == len(source.asked)


def test_memory_stays_bounded_however_far_it_reads() -> None:
    source = Object()
    ranged = RangedFile(SIZE, source.fetch, max_bytes=SIZE * 2)
    while ranged.read(1 << 20):
        pass
    assert ranged.fetched == SIZE
    assert len(ranged._blocks) <= KEEP_BLOCKS


def test_past_the_limit_the_object_is_too_large_to_read_and_nothing_more_is_fetched() -> None:
    source = Object()
    ranged = RangedFile(SIZE, source.fetch, head=source.data[:BLOCK], max_bytes=3 << 20)
    ranged.read(2 << 20)  # the head and one block: 2 MiB
    with pytest.raises(ReadLimitExceeded, match=r"more than 3,145,728 bytes of the 41,943,040-byte object") as caught:
        ranged.read(4 << 20)
    assert isinstance(caught.value, ImageTooLarge)  # permanent: the same bytes cannot fit next time
    assert ranged.fetched <= 3 << 20 and len(source.asked) == 1


def test_a_short_answer_is_never_taken_for_the_object() -> None:
    ranged = RangedFile(100, lambda start, end: b"x" * (end - start - 1), max_bytes=1000)
    with pytest.raises(ValueError, match="got"):
        ranged.read(10)


def test_what_the_fetch_raises_reaches_the_reader_as_itself() -> None:
    class Changed(Exception):
        pass

    def fetch(start: int, end: int) -> bytes:
        raise Changed

    with pytest.raises(Changed):
        RangedFile(100, fetch, max_bytes=1000).read(1)
