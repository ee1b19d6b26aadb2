"""A JPEG marker walker: where each segment starts and ends, so the fuzzer can edit lengths,
frame headers and scans, and swap in its own APP segments."""

from __future__ import annotations

import struct
from dataclasses import dataclass

SOI, EOI, SOS, APP1, APP2 = 0xD8, 0xD9, 0xDA, 0xE1, 0xE2
STANDALONE = {SOI, EOI, 0x01, *range(0xD0, 0xD8)}  # markers without a length field
FRAMES = {*range(0xC0, 0xD0)} - {0xC4, 0xC8, 0xCC}  # SOF0..SOF15, not DHT, JPG, DAC
ICC_PREFIX = b"ICC_PROFILE\0"
ICC_CHUNK = 65535 - 2 - len(ICC_PREFIX) - 2


@dataclass(frozen=True, slots=True)
class Segment:
    offset: int  # of the 0xFF
    marker: int
    length: int  # the length field (which counts itself); 0 for standalone markers
    end: int  # past the segment, and for SOS past its entropy-coded data

    def payload(self, data: bytes) -> bytes:
        return data[self.offset + 4 : self.offset + 2 + self.length]


def segments(data: bytes) -> list[Segment]:
    """Every segment after SOI up to EOI or the first thing that is not a marker."""
    found, offset = [], 2
    while offset + 2 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        if marker == 0xFF:  # fill byte
            offset += 1
            continue
        length = 0
        if marker not in STANDALONE:
            if offset + 4 > len(data):
                break
            length = struct.unpack_from(">H", data, offset + 2)[0]
        end = offset + 2 + length
        if marker == SOS:
            end = _entropy_end(data, end)
        found.append(Segment(offset, marker, length, min(end, len(data))))
        if marker == EOI:
            break
        offset = end
    return found


def _entropy_end(data: bytes, start: int) -> int:
    """The next marker that is neither a stuffed 0xFF00 nor a restart marker."""
    position = start
    while (position := data.find(b"\xff", position)) != -1 and position + 1 < len(data):
        if data[position + 1] != 0 and not 0xD0 <= data[position + 1] <= 0xD7:
            return position
        position += 2
    return len(data)


def segment(marker: int, payload: bytes) -> bytes:
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def icc_segments(profile: bytes) -> bytes:
    """The profile split over numbered APP2 segments, as Pillow and Photoshop write it."""
    parts = [profile[i : i + ICC_CHUNK] for i in range(0, len(profile), ICC_CHUNK)] or [b""]
    return b"".join(
        segment(APP2, ICC_PREFIX + bytes((number, len(parts))) + part)
        for number, part in enumerate(parts, 1)
    )


def without_app(data: bytes, marker: int, prefix: bytes) -> bytes:
    """The JPEG without the APP segments of this marker whose payload starts with prefix."""
    for found in reversed(segments(data)):
        if found.marker == marker and data[found.offset + 4 :].startswith(prefix):
            data = data[: found.offset] + data[found.end :]
    return data


def insert_after_soi(data: bytes, new: bytes) -> bytes:
    return data[:2] + new + data[2:]
