"""PNG chunks read and edited by hand: the fuzzer changes fields, and writes layouts (chunks with
a wrong CRC, tRNS where the spec forbids it) that Pillow would never write."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from local_run.inputs.hostile import PNG_SIGNATURE as SIGNATURE
from local_run.inputs.samples import png_chunk


@dataclass(frozen=True, slots=True)
class Chunk:
    offset: int  # of the length field
    kind: bytes
    body: bytes

    @property
    def end(self) -> int:
        return self.offset + 12 + len(self.body)


def chunk(kind: bytes, body: bytes, crc: int | None = None) -> bytes:
    """A chunk with its CRC, or with the given (wrong) one."""
    good = png_chunk(kind, body)
    return good if crc is None else good[:-4] + struct.pack(">I", crc & 0xFFFFFFFF)


def read_chunks(data: bytes) -> list[Chunk]:
    """Every whole chunk, up to the first that runs past the end: mutated files end anywhere."""
    chunks, offset = [], len(SIGNATURE)
    while offset + 12 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, offset)
        if offset + 12 + length > len(data):
            break
        chunks.append(Chunk(offset, kind, data[offset + 8 : offset + 8 + length]))
        offset += 12 + length
    return chunks


def replace(data: bytes, old: Chunk, new: bytes) -> bytes:
    return data[: old.offset] + new + data[old.end :]


def insert_after_header(data: bytes, new: bytes) -> bytes:
    """New chunks right after IHDR, where iCCP, tRNS (after PLTE) and text may all go."""
    chunks = read_chunks(data)
    anchor = next((c for c in chunks if c.kind == b"PLTE"), chunks[0])
    return data[: anchor.end] + new + data[anchor.end :]


def without(data: bytes, kinds: set[bytes]) -> bytes:
    for found in reversed([c for c in read_chunks(data) if c.kind in kinds]):
        data = replace(data, found, b"")
    return data
