"""Size and length edits in GIF, WebP, TIFF, HEIF and AVIF files: one field the walkers in
containers.py found, set to an edge value, everything else left as it was; and every ispe box of
a 10-bit AVIF or HEIF with alpha set to one large size."""

from __future__ import annotations

import math
from collections.abc import Callable
from random import Random

from tests.fuzz.containers import Field, Fields, gif_fields, iso_fields, tiff_fields, webp_fields
from tests.fuzz.seeds import AVIF, GIF, HEIF, TEN_BIT_MODES, TIFF, WEBP, Seed
from tests.fuzz.structure import dimension

Mutated = tuple[bytes, str]
_WALKERS: dict[str, Callable[[bytes], Fields]] = {
    GIF: gif_fields, WEBP: webp_fields, TIFF: tiff_fields, HEIF: iso_fields, AVIF: iso_fields,
}  # fmt: skip


def walkable(seed: Seed) -> bool:
    return seed.format in _WALKERS


def size_field(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A width or height (screen, frame, canvas, bitstream, page, ispe) set to an edge of what
    decoders and the pixel limit handle; now and then both of one pair."""
    sizes, _ = _WALKERS[seed.format](data)
    index = rng.randrange(len(sizes))
    edited, what = _set_size(data, sizes[index], sizes[index ^ 1], rng)
    if rng.random() < 0.3:
        edited, also = _set_size(edited, sizes[index ^ 1], sizes[index], rng)
        what += f", {also}"
    return edited, what


def _set_size(data: bytes, field: Field, other: Field, rng: Random) -> Mutated:
    largest = (1 << field.width) - 1
    value = dimension(rng, field.read(data), other.read(data), largest) & largest
    return field.write(data, value), f"{field.name} {field.read(data)} -> {value}"


def length_field(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A length, count or offset (GIF sub-block, RIFF chunk, TIFF entry count, strip offset or
    byte count, page pointer, ISO box size) off by a little or by everything."""
    _, lengths = _WALKERS[seed.format](data)
    field = rng.choice(lengths)
    original, largest = field.read(data), (1 << field.width) - 1
    value = rng.choice([
        0, 1, original - 1, original + 1, original + rng.randrange(2, 4096), original // 2,
        len(data), len(data) + 1, largest, largest - 1, rng.randrange(largest + 1),
    ]) & largest  # fmt: skip
    return field.write(data, value), f"{field.name} at {field.offset} {original} -> {value}"


def ten_bit_alpha(seed: Seed) -> bool:
    return seed.format in (AVIF, HEIF) and seed.mode in TEN_BIT_MODES


def large_ispe(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """Every ispe box (the colour's and the alpha's) set to one size of 20 to 50 MP, or just past
    50 (7072 x 7071): libavif scales its small picture up to it, at two bytes a sample; libheif
    refuses the mismatch."""
    pixels = rng.choice([7071 * 7071, 7072 * 7071, rng.uniform(35e6, 50e6), rng.uniform(20e6, 50e6)])
    return _with_ispe(data, pixels, rng)


def mid_ispe(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """large_ispe at 10 to 30 MP: for a smaller function, where the memory budget and not the
    pixel limit decides which are decoded, so that an estimate under the real peak shows."""
    return _with_ispe(data, rng.uniform(10e6, 30e6), rng)


def _with_ispe(data: bytes, pixels: float, rng: Random) -> Mutated:
    aspect = rng.choice([1.0, 1.0, 4 / 3, 3 / 2, 16 / 9, 3 / 4])
    width = round(math.sqrt(pixels * aspect))
    height = max(1, round(pixels / width))
    if pixels in (7071 * 7071, 7072 * 7071):
        width, height = (7071, 7071) if pixels == 7071 * 7071 else (7072, 7071)
    sizes, _ = iso_fields(data)
    for field in sizes:
        data = field.write(data, width if field.name.endswith("width") else height)
    return data, f"{len(sizes) // 2} ispe box(es) -> {width}x{height}"
