"""Where the size and length fields are in GIF, WebP (RIFF), TIFF and HEIF/AVIF (ISO media)
files, so the fuzzer can edit the field it names instead of a random byte.

Each walker returns (dimension fields, length fields), the dimensions in (width, height) pairs,
and stops quietly at whatever it does not understand: it only has to find the fields of the
seeds, which are well formed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

Fields = tuple[list["Field"], list["Field"]]


@dataclass(frozen=True, slots=True)
class Field:
    """An unsigned integer of `bits` bits, `shift` bits up inside `size` bytes at `offset`."""

    name: str
    offset: int
    size: int
    little_endian: bool
    shift: int = 0
    bits: int = 0  # 0: the whole field

    @property
    def width(self) -> int:
        return self.bits or 8 * self.size

    def read(self, data: bytes) -> int:
        return self._word(data) >> self.shift & ((1 << self.width) - 1)

    def write(self, data: bytes, value: int) -> bytes:
        """data with value (masked to the field's bits) in place; the bits beside it kept."""
        mask = ((1 << self.width) - 1) << self.shift
        word = self._word(data) & ~mask | (value << self.shift) & mask
        end = self.offset + self.size
        return data[: self.offset] + word.to_bytes(self.size, self._order) + data[end:]

    def _word(self, data: bytes) -> int:
        return int.from_bytes(data[self.offset : self.offset + self.size], self._order)

    @property
    def _order(self) -> str:
        return "little" if self.little_endian else "big"


def _pair(
    name: str, width_at: int, height_at: int, size: int, little: bool, **bits: int
) -> list[Field]:
    return [Field(f"{name} width", width_at, size, little, **bits),
            Field(f"{name} height", height_at, size, little, **bits)]  # fmt: skip


def gif_fields(data: bytes) -> Fields:
    """Screen and frame sizes; the length byte of every data sub-block."""
    sizes = _pair("screen", 6, 8, 2, True)
    lengths: list[Field] = []
    position = 13 + _colour_table(data[10])
    while position < len(data):
        introducer = data[position]
        if introducer == 0x2C:  # image descriptor: left, top, width, height, flags
            sizes += _pair("frame", position + 5, position + 7, 2, True)
            position += 10 + _colour_table(data[position + 9]) + 1  # and the LZW code size
        elif introducer == 0x21:  # extension: label, then sub-blocks
            position += 2
        else:
            break
        while position < len(data) and data[position]:
            lengths.append(Field("sub-block length", position, 1, True))
            position += 1 + data[position]
        position += 1
    return sizes, lengths


def _colour_table(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def webp_fields(data: bytes) -> Fields:
    """Canvas (VP8X), frame (ANMF) and bitstream (VP8, VP8L) sizes; RIFF and chunk lengths."""
    sizes: list[Field] = []
    lengths = [Field("RIFF length", 4, 4, True)]
    _riff_chunks(data, 12, len(data), sizes, lengths)
    return sizes, lengths


def _riff_chunks(
    data: bytes, start: int, end: int, sizes: list[Field], lengths: list[Field]
) -> None:
    position = start
    while position + 8 <= end:
        kind, length = struct.unpack_from("<4sI", data, position)
        body = position + 8
        lengths.append(Field(f"{kind.decode(errors='replace')} length", position + 4, 4, True))
        if kind == b"VP8X":  # 24 bits each of width-1 and height-1
            sizes += _pair("canvas", body + 4, body + 7, 3, True)
        elif kind == b"ANMF":  # x, y, then 24 bits each of width-1 and height-1; then chunks
            sizes += _pair("frame", body + 6, body + 9, 3, True)
            _riff_chunks(data, body + 16, min(body + length, end), sizes, lengths)
        elif kind == b"VP8 ":  # after the frame tag and start code: 14 bits each, 2 of scale
            sizes += _pair("VP8", body + 6, body + 8, 2, True, bits=14)
        elif kind == b"VP8L":  # after the signature byte: 14 bits each of width-1, height-1
            sizes += [Field("VP8L width", body + 1, 4, True, 0, 14),
                      Field("VP8L height", body + 1, 4, True, 14, 14)]  # fmt: skip
        position = body + length + (length & 1)


def tiff_fields(data: bytes) -> Fields:
    """Width and length of every page; entry counts, value counts, bits and samples, strip
    offsets, rows and byte counts, and the page pointers."""
    little = data[:2] == b"II"
    order = "<" if little else ">"
    sizes: list[Field] = []
    lengths = [Field("first page offset", 4, 4, little)]
    position, seen = struct.unpack_from(order + "I", data, 4)[0], set()
    while 8 <= position < len(data) - 2 and position not in seen and len(seen) < 16:
        seen.add(position)
        (count,) = struct.unpack_from(order + "H", data, position)
        lengths.append(Field("entry count", position, 2, little))
        for entry in range(position + 2, min(position + 2 + 12 * count, len(data) - 11), 12):
            tag, kind = struct.unpack_from(order + "HH", data, entry)
            value = Field(f"tag {tag}", entry + 8, 2 if kind == 3 else 4, little)  # SHORT or LONG
            if tag in (256, 257):  # sorted, as TIFF requires: width, then height
                name = "page width" if tag == 256 else "page height"
                sizes.append(Field(name, value.offset, value.size, little))
            elif tag in (258, 273, 277, 278, 279):
                lengths.append(value)
            lengths.append(Field(f"tag {tag} count", entry + 4, 4, little))
        next_pointer = position + 2 + 12 * count
        if next_pointer + 4 > len(data):
            break
        lengths.append(Field("next page offset", next_pointer, 4, little))
        position = struct.unpack_from(order + "I", data, next_pointer)[0]
    return sizes, lengths


# Boxes whose bodies are boxes, after this many bytes (version and flags, an entry count).
_CONTAINERS = {b"meta": 4, b"iprp": 0, b"ipco": 0, b"dinf": 0, b"iinf": 6}


def iso_fields(data: bytes) -> Fields:
    """Image sizes (ispe properties) and every box's length, nested boxes included."""
    sizes: list[Field] = []
    lengths: list[Field] = []
    _boxes(data, 0, len(data), sizes, lengths)
    return sizes, lengths


def _boxes(data: bytes, start: int, end: int, sizes: list[Field], lengths: list[Field]) -> None:
    position = start
    while position + 8 <= end:
        length, kind = struct.unpack_from(">I4s", data, position)
        lengths.append(Field(f"{kind.decode(errors='replace')} length", position, 4, False))
        if length < 8:
            break
        if kind == b"ispe":  # version and flags, then 32 bits each of width and height
            sizes += _pair("ispe", position + 12, position + 16, 4, False)
        elif kind in _CONTAINERS:
            children = position + 8 + _CONTAINERS[kind]
            _boxes(data, children, min(position + length, end), sizes, lengths)
        position += length
