"""TIFF tags whose values overflow what the reader converts them to: a palette (ColorMap) entry
far past 16 bits, a tile 2^31-1 pixels wide. Each input is the seed's picture saved again by
Pillow (as a palette, or uncompressed, which Pillow reads tile by tile itself rather than
through libtiff), then its first directory rewritten with the tags changed."""

from __future__ import annotations

import struct
from io import BytesIO
from random import Random

from PIL import Image

from tests.fuzz.seeds import Seed

Mutated = tuple[bytes, str]
SHORT, LONG = 3, 4
_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 16: 8}
COLORMAP, TILE_WIDTH, TILE_LENGTH, TILE_OFFSETS, TILE_BYTE_COUNTS = 320, 322, 323, 324, 325
STRIP_OFFSETS, ROWS_PER_STRIP, STRIP_BYTE_COUNTS = 273, 278, 279
# Past what a C int, an unsigned 32-bit and a 16-bit colour sample hold.
OVERFLOWING = (2**31 - 1, 2**31, 2**32 - 2, 2**32 - 1, 2**16, 2**24)


def entries(data: bytes) -> dict[int, tuple[int, int, bytes]]:
    """The first directory: tag -> (type, count, the 4 bytes of value or offset)."""
    order = "<" if data[:2] == b"II" else ">"
    (first,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, first)
    found = {}
    for entry in range(first + 2, first + 2 + 12 * count, 12):
        tag, kind, number = struct.unpack_from(order + "HHI", data, entry)
        found[tag] = (kind, number, data[entry + 8 : entry + 12])
    return found


def values(data: bytes, tag: int) -> list[int]:
    """A SHORT or LONG tag's values, from the first directory."""
    order = "<" if data[:2] == b"II" else ">"
    kind, number, raw = entries(data)[tag]
    code = "H" if kind == SHORT else "I"
    inline = _SIZES[kind] * number <= 4
    where = (raw, 0) if inline else (data, struct.unpack(order + "I", raw)[0])
    return list(struct.unpack_from(f"{order}{number}{code}", *where))


def with_tags(data: bytes, changes: dict[int, tuple[int, list[int]] | None]) -> bytes:
    """data with its first directory rewritten after the end of the file: each tag in changes set
    to (type, values), or removed for None; the rest kept as they were (their offsets still
    point into the unchanged bytes before)."""
    order = "<" if data[:2] == b"II" else ">"
    kept = {tag: struct.pack(order + "HI", kind, number) + raw for tag, (kind, number, raw) in entries(data).items()}
    out = bytearray(data)
    for tag, change in changes.items():
        if change is None:
            kept.pop(tag, None)
            continue
        kind, numbers = change
        packed = struct.pack(f"{order}{len(numbers)}{'H' if kind == SHORT else 'I'}", *numbers)
        if len(packed) <= 4:
            value = packed.ljust(4, b"\0")
        else:
            out += b"\0" * (len(out) & 1)
            value = struct.pack(order + "I", len(out))
            out += packed
        kept[tag] = struct.pack(order + "HI", kind, len(numbers)) + value
    out += b"\0" * (len(out) & 1)
    directory = len(out)
    out += struct.pack(order + "H", len(kept))
    out += b"".join(struct.pack(order + "H", tag) + kept[tag] for tag in sorted(kept))
    out += struct.pack(order + "I", 0)
    out[4:8] = struct.pack(order + "I", directory)
    return bytes(out)


def _saved(seed_data: bytes, palette_colours: int = 0) -> bytes:
    """The seed's first page saved again, uncompressed: RGB, or a palette of that many colours."""
    picture = Image.open(BytesIO(seed_data))
    picture.seek(0)
    picture = picture.convert("RGB")
    if palette_colours:
        picture = picture.quantize(palette_colours)
    picture.info = {}  # the seed's compression, which a palette may not take (JPEG)
    buffer = BytesIO()
    picture.save(buffer, "TIFF", compression="raw")
    return buffer.getvalue()


def colormap_overflow(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A palette TIFF whose ColorMap is LONGs, some of them far past 16 bits (0xFFFFFFFE and
    the like); now and then the map a few entries short or long as well."""
    palette = _saved(data, rng.choice([2, 16, 256]))
    colours = values(palette, COLORMAP)
    spots = sorted(rng.sample(range(len(colours)), rng.choice([1, 1, 2, 8])))
    for spot in spots:
        colours[spot] = rng.choice(OVERFLOWING)
    what = f"ColorMap as LONGs, {', '.join(f'[{s}] = {colours[s]:#x}' for s in spots[:4])}"
    if rng.random() < 0.25:
        change = rng.choice([-3, -1, 1, 3])
        colours = colours[:change] if change < 0 else colours + colours[:change]
        what += f", {len(colours)} entries"
    return with_tags(palette, {COLORMAP: (LONG, colours)}), what


def tile_overflow(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """An uncompressed TIFF whose strips are declared tiles, TileWidth and TileLength set to
    values past a C int or to edges (0, 1, past the image)."""
    plain = _saved(data)
    width, height = values(plain, 256)[0], values(plain, 257)[0]
    edges = [0, 1, 16, width + 1, 65535, 65536, *OVERFLOWING]
    tile_width = rng.choice(edges) if rng.random() < 0.8 else width
    tile_length = rng.choice(edges) if rng.random() < 0.5 else height
    changes: dict[int, tuple[int, list[int]] | None] = {
        STRIP_OFFSETS: None, ROWS_PER_STRIP: None, STRIP_BYTE_COUNTS: None,
        TILE_WIDTH: (LONG, [tile_width]), TILE_LENGTH: (LONG, [tile_length]),
        TILE_OFFSETS: (LONG, values(plain, STRIP_OFFSETS)), TILE_BYTE_COUNTS: (LONG, values(plain, STRIP_BYTE_COUNTS)),
    }  # fmt: skip
    return with_tags(plain, changes), f"uncompressed, TileWidth {tile_width}, TileLength {tile_length}"
