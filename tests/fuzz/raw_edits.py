"""Edits to camera RAWs' TIFF structure and their previews, made where readers/raw_layout.py and
the JPEG reader look: the sizes an IFD states, the preview's offset and length, the orientation,
IFD pointers that loop, entry counts far past the IFD, and previews that are not the JPEG they
claim. Each edit overwrites values in place (found by the same walk the reader makes), so the
rest of the file stays as the DNG, CR2, NEF or ARW factory, or the camera, wrote it."""

from __future__ import annotations

import struct
from random import Random

from create_thumbnail.imaging.readers import raw_layout
from tests.fuzz.seeds import RAW, Seed, seed_bytes

Mutated = tuple[bytes, str]
_WIDTH, _HEIGHT, _ORIENTATION, _SUB_IFDS = 256, 257, 274, 330
_POINTERS = (273, 513, 514, 279)  # strip offsets, JPEG offset and length, strip byte counts
_SIZES = (0, 1, 2, 65_535, 65_536, 70_000, 2**31 - 1, 2**32 - 1, 7_072, 20_000)
_COUNTS = (0, 1, 2, 1_023, 1_024, 1_025, 4_096, 65_535)


def accepts(seed: Seed) -> bool:
    return seed.format == RAW and raw_layout.is_camera_raw(seed_bytes(seed.name))


def has_preview(seed: Seed) -> bool:
    return accepts(seed) and bool(raw_layout.read_layout(seed_bytes(seed.name)).previews)


def _order(data: bytes) -> str:
    return "<" if data[:2] == b"II" else ">"


def _fields(data: bytes, tags: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """(tag, type, position of its first value) for these tags, in every IFD the reader walks."""
    return [
        (tag, kind, position)
        for ifd in raw_layout.walk_ifds(data)  # the reader's own walk: the same IFDs, in its order
        for tag, (kind, _, position) in ifd.entries.items()
        if tag in tags and kind in (3, 4)
    ]


def _put(data: bytes, kind: int, position: int, value: int) -> bytes:
    edited = bytearray(data)
    code, mask = ("H", 0xFFFF) if kind == 3 else ("I", 0xFFFFFFFF)
    struct.pack_into(_order(data) + code, edited, position, value & mask)
    return bytes(edited)


def sensor_size(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A width or height (or both) of an IFD set to an edge: zero, 65,535 and past it, 2^31."""
    fields = _fields(data, (_WIDTH, _HEIGHT))
    if not fields:
        return data, "no width or height"
    tag, kind, position = rng.choice(fields)
    value = rng.choice(_SIZES)
    edited = _put(data, kind, position, value)
    if rng.random() < 0.4 and (other := [f for f in fields if f[0] != tag]):
        _, kind2, position2 = rng.choice(other)
        edited = _put(edited, kind2, position2, rng.choice(_SIZES))
    return edited, f"tag {tag} at {position} = {value}"


def preview_pointer(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A strip's or a preview's offset or length pointed elsewhere: past the end, into the sensor
    data, one byte off, zero."""
    tag, kind, position = rng.choice(_fields(data, _POINTERS))
    value = rng.choice([0, 1, len(data) - 1, len(data), len(data) + 1, 2**32 - 1, rng.randrange(len(data)), 8])
    return _put(data, kind, position, value), f"tag {tag} at {position} = {value}"


def orientation(data: bytes, seed: Seed, rng: Random) -> Mutated:
    fields = _fields(data, (_ORIENTATION,))
    if not fields:
        return data, "no orientation"
    _, kind, position = fields[0]
    value = rng.choice([0, 1, 5, 6, 8, 9, 255, 65_535])
    return _put(data, kind, position, value), f"orientation {value}"


def ifd_loop(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A SubIFD pointer, or the next-IFD pointer of IFD0, pointed back at IFD0, at itself, or into
    the middle of an entry."""
    order = _order(data)
    (first,) = struct.unpack_from(order + "I", data, 4)
    subs = _fields(data, (_SUB_IFDS,))
    target = rng.choice([first, first + 2, first + 7, 8, 4])
    if subs and rng.random() < 0.6:
        _, kind, position = rng.choice(subs)
        return _put(data, kind, position, target), f"SubIFD -> {target}"
    (count,) = struct.unpack_from(order + "H", data, first)
    return _put(data, 4, first + 2 + 12 * count, target), f"IFD0's next -> {target}"


def entry_count(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """An IFD's entry count set far past its entries (into its values, the next IFD, the
    previews) or to nothing."""
    order = _order(data)
    (first,) = struct.unpack_from(order + "I", data, 4)
    starts = [first] + [position for _, _, position in _fields(data, (_SUB_IFDS,))]
    offsets = [struct.unpack_from(order + "I", data, at)[0] for at in starts[1:] if at + 4 <= len(data)]
    ifd = rng.choice([first, *[o for o in offsets if 8 <= o <= len(data) - 2]])
    value = rng.choice(_COUNTS)
    return _put(data, 3, ifd, value), f"IFD at {ifd}: {value} entries"


def preview_bytes(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """The preview made other than a picture the JPEG reader decodes: its start marker gone, a
    lossless frame (sensor data's), a frame of no or 65,535 pixels, a first segment's length of
    0, 1 or 65,535, or the bytes after its header cut to a few."""
    preview = rng.choice(raw_layout.read_layout(data).previews)
    edited = bytearray(data)
    start = preview.offset
    frame = _frame_position(data, start, preview.length)
    kind = rng.choice(["soi", "lossless", "frame-size", "segment-length", "cut"])
    if kind == "soi":
        edited[start : start + 2] = rng.choice([b"\x00\x00", b"\xff\xd9", b"\x89P"])
    elif kind == "lossless" and frame is not None:
        edited[frame + 1] = 0xC3
    elif kind == "frame-size" and frame is not None:
        height, width = rng.choice([(0, 0), (0, 16), (65_535, 65_535), (1, 65_535), (16_384, 16_384)])
        struct.pack_into(">HH", edited, frame + 5, height, width)
    elif kind == "segment-length":
        struct.pack_into(">H", edited, start + 4, rng.choice([0, 1, 2, 65_535]))
    else:
        keep = rng.randrange(2, 600)
        tail = start + min(keep, preview.length)
        edited[tail : start + preview.length] = bytes(start + preview.length - tail)
        kind = f"cut to {keep} bytes (zeros after)"
    return bytes(edited), f"preview at {start}: {kind}"


def _frame_position(data: bytes, offset: int, length: int) -> int | None:
    """Where the preview's start-of-frame marker is (as raw_layout.jpeg_size finds it)."""
    position, end = offset + 2, min(len(data), offset + length)
    while position + 9 <= end and data[position] == 0xFF:
        if data[position + 1] in (0xC0, 0xC1, 0xC2):
            return position
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return None
