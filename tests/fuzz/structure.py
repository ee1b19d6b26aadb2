"""Mutations of the container structure: header dimensions, length fields, JPEG frame types
and scans, and tRNS on 16-bit PNGs. Each edit is made through png_chunks or jpeg_markers, so it
lands on the field it names rather than on a random byte."""

from __future__ import annotations

import struct
from random import Random

from tests.fuzz import jpeg_markers, png_chunks
from tests.fuzz.jpeg_markers import FRAMES, SOS, STANDALONE
from tests.fuzz.limits import MAX_PIXELS
from tests.fuzz.seeds import GREY_MARKER_16, GREY_MODES, MARKER_16, Seed

Mutated = tuple[bytes, str]


def dimension(rng: Random, original: int, other: int, largest: int) -> int:
    """Edges of what decoders and our pixel limit handle, and near misses of the real size."""
    return rng.choice([
        0, 1, original - 1, original + 1, original * 2, original * 37, 7071, 7072, 65535,
        MAX_PIXELS // max(other, 1), MAX_PIXELS // max(other, 1) + 1, largest,
        rng.randrange(1, 100_000),
    ])  # fmt: skip


def _png_header_edit(data: bytes, rng: Random, fix_crc: bool) -> Mutated:
    ihdr = png_chunks.read_chunks(data)[0]
    width, height = struct.unpack_from(">II", ihdr.body)
    largest = rng.choice([2**31 - 1, 2**31, 2**32 - 1])
    side = rng.choice(["width", "height", "both"])
    if side in ("width", "both"):
        width = dimension(rng, width, height, largest)
    if side in ("height", "both"):
        height = dimension(rng, height, width, largest)
    body = struct.pack(">II", width, height) + ihdr.body[8:]
    crc = None if fix_crc else struct.unpack_from(">I", data, ihdr.end - 4)[0]
    what = f"IHDR {width} x {height}, CRC {'recomputed' if fix_crc else 'left stale'}"
    return png_chunks.replace(data, ihdr, png_chunks.chunk(b"IHDR", body, crc)), what


def png_header_size(data: bytes, seed: Seed, rng: Random) -> Mutated:
    return _png_header_edit(data, rng, fix_crc=True)


def png_header_size_bad_crc(data: bytes, seed: Seed, rng: Random) -> Mutated:
    return _png_header_edit(data, rng, fix_crc=False)


def png_header_format(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """Bit depth, colour type, compression, filter or interlace changed; CRC recomputed."""
    ihdr = png_chunks.read_chunks(data)[0]
    field, choices = rng.choice([
        (8, [0, 1, 2, 3, 4, 5, 8, 16, 32, 255]), (9, [0, 1, 2, 3, 4, 5, 6, 7, 255]),
        (10, [1, 255]), (11, [1, 255]), (12, [1, 2, 255]),
    ])  # fmt: skip
    value = rng.choice(choices)
    body = ihdr.body[:field] + bytes((value,)) + ihdr.body[field + 1 :]
    name = {8: "bit depth", 9: "colour type", 10: "compression", 11: "filter", 12: "interlace"}[
        field
    ]
    return png_chunks.replace(data, ihdr, png_chunks.chunk(b"IHDR", body)), f"IHDR {name} {value}"


def jpeg_frame_size(data: bytes, seed: Seed, rng: Random) -> Mutated:
    frame = next(s for s in jpeg_markers.segments(data) if s.marker in FRAMES)
    height, width = struct.unpack_from(">HH", data, frame.offset + 5)
    side = rng.choice(["width", "height", "both"])
    if side in ("width", "both"):
        width = dimension(rng, width, height, 65535) & 0xFFFF
    if side in ("height", "both"):
        height = dimension(rng, height, width, 65535) & 0xFFFF
    edited = data[: frame.offset + 5] + struct.pack(">HH", height, width) + data[frame.offset + 9 :]
    return edited, f"SOF{frame.marker - 0xC0} {width} x {height}"


def png_chunk_length(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A chunk's length field changed (the CRC does not cover it, so only parsing can tell)."""
    target = rng.choice(png_chunks.read_chunks(data))
    actual = len(target.body)
    length = rng.choice([
        0, 1, max(0, actual - 1), actual + 1, actual + rng.randrange(2, 4096),
        max(0, actual - rng.randrange(2, 64)), 2**31 - 1, 2**32 - 1, rng.randrange(2**32),
    ])  # fmt: skip
    edited = data[: target.offset] + struct.pack(">I", length) + data[target.offset + 4 :]
    return edited, f"{target.kind.decode(errors='replace')} length {actual} -> {length}"


def jpeg_segment_length(data: bytes, seed: Seed, rng: Random) -> Mutated:
    target = rng.choice([s for s in jpeg_markers.segments(data) if s.marker not in STANDALONE])
    actual = target.length
    length = rng.choice([
        0, 1, 2, 3, 14, 15, max(0, actual - 1), actual + 1, actual + rng.randrange(2, 64),
        max(0, actual - rng.randrange(2, 64)), 65535, rng.randrange(65536),
    ]) & 0xFFFF  # fmt: skip
    edited = data[: target.offset + 2] + struct.pack(">H", length) + data[target.offset + 4 :]
    return edited, f"marker {target.marker:#04x} length {target.length} -> {length}"


_FRAME_VARIANTS = {  # description: (marker, precision)
    "12-bit SOF0": (0xC0, 12), "12-bit SOF1": (0xC1, 12), "8-bit SOF1": (0xC1, 8),
    "16-bit SOF1": (0xC1, 16), "lossless SOF3": (0xC3, 8), "lossless 16-bit SOF3": (0xC3, 16),
    "arithmetic SOF9": (0xC9, 8), "arithmetic progressive SOF10": (0xCA, 8),
    "arithmetic lossless SOF11": (0xCB, 8), "progressive SOF2 over sequential scans": (0xC2, 8),
    "hierarchical SOF5": (0xC5, 8), "precision 0": (0xC0, 0),
}  # fmt: skip


def jpeg_frame_type(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """The frame header says 12-bit, lossless, arithmetic-coded...: the scans stay as they were."""
    name = rng.choice(list(_FRAME_VARIANTS))
    marker, precision = _FRAME_VARIANTS[name]
    frame = next(s for s in jpeg_markers.segments(data) if s.marker in FRAMES)
    edited = data[: frame.offset + 1] + bytes((marker,)) + data[frame.offset + 2 : frame.offset + 4]
    edited += bytes((precision,)) + data[frame.offset + 5 :]
    return edited, f"{name} (was SOF{frame.marker - 0xC0})"


def is_progressive(data: bytes) -> bool:
    return any(s.marker == 0xC2 for s in jpeg_markers.segments(data))


def jpeg_many_scans(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """10 to 20,000 scans: one repeated, the whole progression repeated, or header-only (empty)
    scans before EOI. Each scan costs the decoder a pass over every block of the image."""
    scans = [s for s in jpeg_markers.segments(data) if s.marker == SOS]
    count = int(10 ** rng.uniform(1, 4.3))
    kind = rng.choice(["one", "all", "empty"])
    if kind == "empty":
        scan = rng.choice(scans)
        header = data[scan.offset : scan.offset + 2 + scan.length]
        end = scans[-1].end
        edited = data[:end] + header * count + data[end:]
        return edited, f"{count} empty copies of scan at {scan.offset}"
    chosen = rng.choice(scans)
    start, stop = (scans[0].offset, scans[-1].end) if kind == "all" else (chosen.offset, chosen.end)
    block = data[start:stop]
    count = max(2, min(count, 8_000_000 // len(block)))  # at most 8 MB of scans
    edited = data[:start] + block * count + data[stop:]
    return edited, f"{'all scans' if kind == 'all' else 'one scan'} x {count}"


def png_sixteen_bit_trns(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """tRNS on a 16-bit image, valid (grey, RGB) or not (grey+alpha, RGBA): a colour present in
    the image, values over 255, or a chunk too short or too long."""
    samples = 1 if seed.mode in GREY_MODES else 3
    kind = rng.choice(["marker colour", "random", "white", "black", "short", "long"])
    values = {
        "marker colour": [GREY_MARKER_16] if samples == 1 else list(MARKER_16),
        "white": [65535] * samples, "black": [0] * samples,
    }.get(kind) or [rng.randrange(65536) for _ in range(samples)]  # fmt: skip
    body = b"".join(v.to_bytes(2) for v in values)
    if kind == "short":
        body = body[: rng.randrange(len(body))]
    elif kind == "long":
        body += rng.randbytes(rng.randrange(1, 512))
    trns = png_chunks.chunk(b"tRNS", body)
    edited = png_chunks.insert_after_header(png_chunks.without(data, {b"tRNS"}), trns)
    return edited, f"tRNS {kind}: {body[:8].hex()}"
