"""Edits of real clips (tests/fixtures/video/): the MP4 box tree (a box's length, a track's or a
sample entry's size, the display matrix, the sample tables that say where each frame is and how
long), the WebM element tree (an element's size, the picture's size), an AVI's chunk sizes and a
transport stream's packet fields. One field changed to an edge value, everything else as the
file had it."""

from __future__ import annotations

import struct
from random import Random

from tests.fuzz.seeds import VIDEO, VIDEO_SEEDS, Seed
Mutated = tuple[bytes, str]

# Boxes whose payload is boxes (after a header of this many bytes of their own).
_CONTAINERS = {b"moov": 0, b"trak": 0, b"mdia": 0, b"minf": 0, b"stbl": 0, b"edts": 0, b"dinf": 0,
               b"udta": 0, b"mvex": 0, b"moof": 0, b"traf": 0, b"stsd": 8}  # fmt: skip
# Visual sample entries: 78 bytes of their own (width and height 16 bits each at 24 and 26), then
# boxes (avcC, hvcC, av1C, vpcC, colr, pasp).
_VISUAL_ENTRIES = {b"avc1", b"avc3", b"hvc1", b"hev1", b"av01", b"vp08", b"vp09", b"mp4v", b"mjpa", b"jpeg"}
# Sample tables: version and flags (stsz: and a sample size), an entry count, then entries of
# these many 32-bit words.
_TABLES = {b"stsz": 1, b"stco": 1, b"co64": 2, b"stts": 2, b"stss": 1, b"stsc": 3, b"ctts": 2}


def is_mp4(seed: Seed) -> bool:
    return seed.format == VIDEO and VIDEO_SEEDS[seed.name].endswith((".mp4", ".mov"))


def is_webm(seed: Seed) -> bool:
    return seed.format == VIDEO and VIDEO_SEEDS[seed.name].endswith(".webm")


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(kind, offset, length) of every box, nested ones included, in file order."""
    found, end = [], len(data) if end is None else end
    position = start
    while position + 8 <= end:
        length, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if length == 1 and position + 16 <= end:
            length, header = struct.unpack_from(">Q", data, position + 8)[0], 16
        if length < header:
            break
        found.append((kind, position, length))
        inner = _CONTAINERS.get(kind)
        if kind in _VISUAL_ENTRIES:
            inner = 78
        if inner is not None:
            found += boxes(data, position + header + inner, min(position + length, end))
        position += length
    return found


def mp4_box_length(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A box's 32-bit length off by a little or by everything."""
    kind, offset, length = rng.choice([b for b in boxes(data) if struct.unpack_from(">I", data, b[1])[0] != 1])
    value = rng.choice([0, 1, 7, 8, length - 1, length + 1, length * 2, len(data), 0xFFFFFFFF,
                        rng.randrange(1 << 32)]) & 0xFFFFFFFF  # fmt: skip
    return _u32(data, offset, value), f"{kind.decode(errors='replace')} length at {offset} {length} -> {value}"


def mp4_picture_size(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A sample entry's width or height (what the decoder is told), or the track header's (what
    the display is told), set to an edge: 0, 1, 65,535, or 16.16 fixed point's largest."""
    fields = []
    for kind, offset, _ in boxes(data):
        if kind in _VISUAL_ENTRIES:
            fields += [(offset + 8 + 24, 2, f"{kind.decode()} width"), (offset + 8 + 26, 2, f"{kind.decode()} height")]
        elif kind == b"tkhd":
            end = offset + struct.unpack_from(">I", data, offset)[0]
            fields += [(end - 8, 4, "tkhd width"), (end - 4, 4, "tkhd height")]
    at, size, name = rng.choice(fields)
    largest = (1 << (8 * size)) - 1
    value = rng.choice([0, 1, 2, 65_535, 32_768, largest, rng.randrange(largest + 1)]) & largest
    return data[:at] + value.to_bytes(size, "big") + data[at + size :], f"{name} -> {value}"


def mp4_matrix(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """The track header's display matrix: a right angle, a reflection, another angle, a scale,
    zeros, or noise."""
    tkhds = [offset for kind, offset, _ in boxes(data) if kind == b"tkhd"]
    if not tkhds:
        return data, "no tkhd"
    offset = rng.choice(tkhds)
    version = data[offset + 8]
    matrix = offset + 8 + 4 + (32 if version == 1 else 20) + 8 + 8
    one = 0x10000
    a, b, c, d = rng.choice([(0, one, -one, 0), (-one, 0, 0, one), (0, -one, -one, 0), (46341, 46341, -46341, 46341),
                             (2 * one, 0, 0, 2 * one), (0, 0, 0, 0)] + [tuple(rng.randrange(-(1 << 31), 1 << 31)
                                                                             for _ in range(4))])  # fmt: skip
    words = struct.pack(">iiiii", a, b, 0, c, d)
    return data[:matrix] + words + data[matrix + 20 :], f"tkhd matrix -> {a}, {b}, {c}, {d}"


def mp4_sample_table(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A sample table's entry count, or one entry (a frame's size or offset, a duration, a
    keyframe's number), set to an edge."""
    tables = [(kind, offset) for kind, offset, _ in boxes(data) if kind in _TABLES]
    kind, offset = rng.choice(tables)
    count_at = offset + (16 if kind == b"stsz" else 12)
    count, words = struct.unpack_from(">I", data, count_at)[0], _TABLES[kind]
    if count and rng.random() < 0.7:
        entry = rng.randrange(count)
        at = min(count_at + 4 + 4 * (entry * words + rng.randrange(words)), len(data) - 4)
        value = rng.choice([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, len(data), rng.randrange(1 << 32)])
        return _u32(data, at, value), f"{kind.decode()} entry {entry} -> {value}"
    value = rng.choice([0, count + 1, count * 1000, 0xFFFFFFFF, 0x10000000])
    return _u32(data, count_at, value), f"{kind.decode()} count {count} -> {value}"


def _u32(data: bytes, at: int, value: int) -> bytes:
    return data[:at] + struct.pack(">I", value & 0xFFFFFFFF) + data[at + 4 :]


# --- WebM (EBML) -----------------------------------------------------------------------------

# Master elements whose payload is elements: EBML header, Segment, SeekHead, Seek, Info, Tracks,
# TrackEntry, Video, Cluster, BlockGroup, Cues, CuePoint, CueTrackPositions.
_MASTERS = {0x1A45DFA3, 0x18538067, 0x114D9B74, 0x4DBB, 0x1549A966, 0x1654AE6B, 0xAE, 0xE0, 0x1F43B675, 0xA0,
            0x1C53BB6B, 0xBB, 0xB7}  # fmt: skip
_PIXEL_SIZES = {0xB0: "PixelWidth", 0xBA: "PixelHeight", 0x54B0: "DisplayWidth", 0x54BA: "DisplayHeight"}


def _vint(data: bytes, at: int) -> tuple[int, int, int]:
    """(value with the marker bit cleared, length in bytes, the raw value) of an EBML number."""
    first = data[at]
    length = next((n for n in range(1, 9) if first & (0x80 >> (n - 1))), 9)
    if length > 8 or at + length > len(data):
        raise ValueError("not an EBML number")
    raw = int.from_bytes(data[at : at + length], "big")
    return raw & ((1 << (7 * length)) - 1), length, raw


def elements(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[int, int, int, int, int]]:
    """(id, offset, size field offset, size field length, payload size) of every element,
    masters' children included; an unknown size (all ones) ends the walk of that master."""
    found, end = [], len(data) if end is None else end
    position = start
    while position < end:
        try:
            _, id_length, element_id = _vint(data, position)
            size, size_length, _ = _vint(data, position + id_length)
        except (ValueError, IndexError):
            break
        payload = position + id_length + size_length
        found.append((element_id, position, position + id_length, size_length, size))
        unknown = size == (1 << (7 * size_length)) - 1
        if element_id in _MASTERS:
            found += elements(data, payload, end if unknown else min(payload + size, end))
        if unknown:
            break
        position = payload + size
    return found


def webm_element_size(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """An element's size, in the bytes it has, off by a little, zero, the largest, or unknown."""
    element_id, _, at, length, size = rng.choice(elements(data))
    largest = (1 << (7 * length)) - 2
    value = min(largest + 1, max(0, rng.choice([0, 1, size - 1, size + 1, size * 2, len(data), largest, largest + 1])))
    raw = (1 << (7 * length)) | value  # the length marker, then the value
    written = raw.to_bytes(length, "big")
    return data[:at] + written + data[at + length :], f"element {element_id:#x} size {size} -> {value}"


def webm_picture_size(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """PixelWidth, PixelHeight (or the display's), in the bytes they have, set to an edge."""
    found = [e for e in elements(data) if e[0] in _PIXEL_SIZES]
    element_id, _, at, length, size = rng.choice(found)
    payload = at + length
    largest = (1 << (8 * size)) - 1
    value = rng.choice([0, 1, 65_535, 16_384, largest, rng.randrange(largest + 1)]) & largest
    return data[:payload] + value.to_bytes(size, "big") + data[payload + size :], f"{_PIXEL_SIZES[element_id]} -> {value}"


# --- AVI (RIFF) and MPEG transport streams ----------------------------------------------------


def is_avi(seed: Seed) -> bool:
    return seed.format == VIDEO and VIDEO_SEEDS[seed.name].endswith(".avi")


def is_transport_stream(seed: Seed) -> bool:
    return seed.format == VIDEO and VIDEO_SEEDS[seed.name].endswith(".ts")


def riff_chunks(data: bytes, start: int = 12, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """(id, offset, size) of every chunk after the RIFF header, LIST chunks' children included."""
    found, end = [], len(data) if end is None else end
    position = start
    while position + 8 <= end:
        kind, size = struct.unpack_from("<4sI", data, position)
        found.append((kind, position, size))
        if kind == b"LIST":
            found += riff_chunks(data, position + 12, min(position + 8 + size, end))
        position += 8 + size + (size & 1)
    return found


def avi_chunk_size(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A chunk's size (the RIFF file's, a LIST's, a header's, a frame's, the index's) set to an
    edge: zero, off by one, the file's length, the largest."""
    kind, offset, size = rng.choice([(b"RIFF", 0, struct.unpack_from("<I", data, 4)[0]), *riff_chunks(data)])
    value = rng.choice([0, 1, size - 1, size + 1, len(data), 0xFFFFFFFF, rng.randrange(1 << 32)]) & 0xFFFFFFFF
    return data[: offset + 4] + struct.pack("<I", value) + data[offset + 8 :], f"{kind!r} size {size} -> {value}"


def ts_packet_field(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """One packet's header field (its PID, the adaptation-field control, the continuity counter),
    its adaptation field's length, or a PES packet's length, set to an edge value."""
    packet = rng.randrange(max(1, len(data) // 188)) * 188
    field = rng.choice(["pid", "adaptation-control", "continuity", "adaptation-length", "pes-length"])
    edited = bytearray(data)
    if field == "pid":
        pid = rng.choice([0, 1, 0x1FFF, rng.randrange(0x2000)])
        edited[packet + 1] = edited[packet + 1] & 0xE0 | pid >> 8
        edited[packet + 2] = pid & 0xFF
        return bytes(edited), f"packet at {packet}: PID -> {pid:#x}"
    if field == "adaptation-control":
        bits = rng.randrange(4)
        edited[packet + 3] = edited[packet + 3] & 0xCF | bits << 4
        return bytes(edited), f"packet at {packet}: adaptation control -> {bits}"
    if field == "continuity":
        counter = rng.randrange(16)
        edited[packet + 3] = edited[packet + 3] & 0xF0 | counter
        return bytes(edited), f"packet at {packet}: continuity -> {counter}"
    if field == "adaptation-length":
        value = rng.choice([0, 183, 184, 255])
        edited[packet + 4] = value
        return bytes(edited), f"packet at {packet}: adaptation field length -> {value}"
    value = rng.choice([0, 1, 0xFFFF, rng.randrange(0x10000)])  # PES_packet_length after 00 00 01 xx
    start = data.find(b"\x00\x00\x01", packet + 4, packet + 188)
    if start < 0:
        return data, f"packet at {packet}: no PES header"
    edited[start + 4 : start + 6] = value.to_bytes(2, "big")
    return bytes(edited), f"packet at {packet}: PES length -> {value}"
