"""Size and length edits in GIF, WebP, TIFF, HEIF and AVIF files: one field the walkers in
containers.py found, set to an edge value, everything else left as it was."""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from tests.fuzz.containers import Field, Fields, gif_fields, iso_fields, tiff_fields, webp_fields
from tests.fuzz.seeds import AVIF, GIF, HEIF, TIFF, WEBP, Seed
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
