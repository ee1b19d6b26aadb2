"""A camera RAW's structure, read in pure Python: whether TIFF bytes are a RAW rather than a
picture, its orientation, the size of its sensor data and the JPEG previews it embeds. Nothing is
decoded here, and no RAW library is imported.

DNG, CR2, NEF and ARW are TIFF files whose IFDs hold the sensor data beside JPEG previews: a
DNG's preview IFDs (NewSubFileType 1, compressed as JPEG), a CR2's first IFD (a JPEG in one
strip), the JPEGInterchangeFormat of a NEF's or an ARW's IFDs (JpgFromRaw, PreviewImage).

Every offset is checked against the data, every IFD is visited once, the walk stops after
_MAX_IFDS IFDs of at most _MAX_ENTRIES entries, and a JPEG's header is read for at most
_MAX_SEGMENTS segments: whatever hostile bytes claim, they cost some thousands of small reads.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

_DNG_VERSION = 50706
# DNGPrivateData: where Sony's ARW keeps its SR2Private block (and a DNG its maker's notes); an
# ARW's sensor IFD may lie far into the file, past what a cut-short copy holds.
_DNG_PRIVATE_DATA = 50740
_WIDTH, _HEIGHT, _COMPRESSION, _PHOTOMETRIC = 256, 257, 259, 262
_STRIP_OFFSETS, _ORIENTATION, _STRIP_BYTE_COUNTS = 273, 274, 279
_SUB_IFDS, _JPEG_OFFSET, _JPEG_LENGTH = 330, 513, 514
# Photometric interpretations only sensor data has: a colour filter array, DNG's linear raw.
_SENSOR_PHOTOMETRIC = frozenset({32803, 34892})
# Compressions only RAWs use (TIFF's own, PackBits 32773 among them, are left out): Sony ARW,
# packed RAW, Samsung SRW, Kodak, Nikon NEF, Pentax PEF.
_RAW_COMPRESSION = frozenset({32767, 32769, 32770, 32867, 34713, 65535})
_JPEG_COMPRESSION = frozenset({6, 7})  # old-style and new-style JPEG
# Bytes a value of each TIFF field type (BYTE, ASCII, SHORT, LONG, RATIONAL ... IFD8).
_TYPE_SIZES = {1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8, 11: 4, 12: 8, 13: 4, 16: 8}
_MAX_IFDS = 32  # a camera's RAW has under 10
_MAX_ENTRIES = 1024  # a camera's IFD has under 100; more is read no further
_MAX_SUB_IFDS = 8  # SubIFDs followed from one IFD
_MAX_SEGMENTS = 256  # JPEG segments before its frame header (a camera's preview has under 20)
# The JPEG start-of-frame markers Pillow decodes: baseline, extended, progressive. A lossless JPEG
# (SOF3) in an IFD is sensor data (a CR2's or a DNG's), not a preview.
_PICTURE_SOF = frozenset({0xC0, 0xC1, 0xC2})


@dataclass(frozen=True, slots=True)
class Preview:
    offset: int
    length: int  # as the IFD states it: the bytes there may end sooner (the JPEG reader says so)
    size: tuple[int, int]  # as stored, from its start-of-frame


@dataclass(frozen=True, slots=True)
class RawLayout:
    orientation: int | None  # the first IFD's EXIF orientation; None where it has none
    previews: tuple[Preview, ...]
    sensor: tuple[int, int] | None = None  # the largest sensor-data IFD's size, as stored
    declared: int = 0  # places IFDs name for a JPEG preview, a JPEG picture there or not


def is_camera_raw(data: bytes) -> bool:
    """Whether TIFF bytes (II*\\0, MM\\0*) are a camera RAW rather than a picture: a CR2's "CR" at
    offset 8, or an IFD that only RAWs have (DNGVersion or DNGPrivateData, a colour filter array,
    linear raw, a raw compression). A camera maker's name is no sign: a plain TIFF, a camera's own
    TIFF output included, carries it too, and has none of these."""
    if data[8:10] == b"CR":
        return True
    for ifd in walk_ifds(data):
        if ifd.entries.keys() & {_DNG_VERSION, _DNG_PRIVATE_DATA} or ifd.holds_sensor_data():
            return True
    return False


def read_layout(data: bytes) -> RawLayout:
    """The orientation, the sensor's size and every JPEG preview found, each once, in the order
    found."""
    orientation = None
    found: dict[int, Preview] = {}
    declared: set[int] = set()
    sensor: tuple[int, int] | None = None
    for index, ifd in enumerate(walk_ifds(data)):
        size = (ifd.first(_WIDTH) or 0, ifd.first(_HEIGHT) or 0)
        largest = sensor[0] * sensor[1] if sensor else -1
        if ifd.holds_sensor_data() and size[0] * size[1] > largest:
            sensor = size
        if index == 0 and _ORIENTATION in ifd.entries:
            value = ifd.first(_ORIENTATION)
            orientation = value if value in range(1, 9) else 1
        for offset, length in ifd.jpeg_candidates():
            declared.add(offset)
            if offset not in found and (size := jpeg_size(data, offset, length)) is not None:
                found[offset] = Preview(offset, length, size)
    return RawLayout(orientation, tuple(found.values()), sensor, len(declared))


def jpeg_size(data: bytes, offset: int, length: int) -> tuple[int, int] | None:
    """(width, height) of the JPEG at data[offset:offset + length] from its start-of-frame, or
    None where there is no JPEG picture there (a lossless JPEG, other bytes, past the end)."""
    end = min(len(data), offset + length)
    if offset < 0 or data[offset : offset + 3] != b"\xff\xd8\xff":
        return None
    position = offset + 2
    for _ in range(_MAX_SEGMENTS):
        if position + 9 > end or data[position] != 0xFF:
            return None
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker in _PICTURE_SOF:
            height, width = struct.unpack_from(">HH", data, position + 5)
            return (width, height) if width and height else None
        if marker == 0xDA or 0xC3 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return None  # the scan began, or a frame Pillow does not decode (lossless...)
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return None


@dataclass(frozen=True, slots=True)
class Ifd:
    data: bytes
    order: str  # struct's byte order
    entries: dict[int, tuple[int, int, int]]  # tag -> (type, count, where its values are)

    def values(self, tag: int, limit: int = 64) -> list[int]:
        """The tag's integer values (BYTE, SHORT, LONG, IFD), at most limit of them."""
        kind, count, position = self.entries.get(tag, (0, 0, 0))
        codes = {1: "B", 3: "H", 4: "I", 7: "B", 13: "I"}
        if kind not in codes:
            return []
        count = min(count, limit)
        if position + _TYPE_SIZES[kind] * count > len(self.data):
            return []
        return list(struct.unpack_from(f"{self.order}{count}{codes[kind]}", self.data, position))

    def first(self, tag: int) -> int | None:
        found = self.values(tag, 1)
        return found[0] if found else None

    def holds_sensor_data(self) -> bool:
        photometric, compression = self.first(_PHOTOMETRIC), self.first(_COMPRESSION)
        return photometric in _SENSOR_PHOTOMETRIC or compression in _RAW_COMPRESSION

    def jpeg_candidates(self) -> Iterator[tuple[int, int]]:
        """(offset, length) of what may be a JPEG preview in this IFD."""
        offset, length = self.first(_JPEG_OFFSET), self.first(_JPEG_LENGTH)
        if offset is not None and length:
            yield offset, length
        if self.first(_COMPRESSION) in _JPEG_COMPRESSION:
            strips, counts = self.values(_STRIP_OFFSETS, 2), self.values(_STRIP_BYTE_COUNTS, 2)
            if len(strips) == 1 and len(counts) == 1:  # one strip: a preview; tiles: sensor data
                yield strips[0], counts[0]


def walk_ifds(data: bytes) -> Iterator[Ifd]:
    """Every IFD reachable from the TIFF header: the chain of main IFDs and their SubIFDs (a DNG's
    raw and preview images, a NEF's JpgFromRaw), each once, at most _MAX_IFDS."""
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(data[:4])
    if order is None or len(data) < 8:
        return
    pending = [struct.unpack_from(f"{order}I", data, 4)[0]]
    seen: set[int] = set()
    while pending and len(seen) < _MAX_IFDS:
        offset = pending.pop(0)
        if offset in seen or not 8 <= offset <= len(data) - 2:
            continue
        seen.add(offset)
        ifd, following = _read_ifd(data, order, offset)
        yield ifd
        pending.extend(ifd.values(_SUB_IFDS, _MAX_SUB_IFDS))
        if following:
            pending.append(following)


def _read_ifd(data: bytes, order: str, offset: int) -> tuple[Ifd, int]:
    """One IFD's entries (tag -> type, count, where its values are) and the next IFD's offset."""
    count = struct.unpack_from(f"{order}H", data, offset)[0]
    entries: dict[int, tuple[int, int, int]] = {}
    start = offset + 2
    usable = min(count, _MAX_ENTRIES, (len(data) - start) // 12)
    for index in range(usable):
        tag, kind, number, value = struct.unpack_from(f"{order}HHI4s", data, start + 12 * index)
        size = _TYPE_SIZES.get(kind, 1) * number
        position = start + 12 * index + 8 if size <= 4 else struct.unpack(f"{order}I", value)[0]
        entries.setdefault(tag, (kind, number, position))
    end = start + 12 * count
    following = 0
    if count == usable and end + 4 <= len(data):
        following = struct.unpack_from(f"{order}I", data, end)[0]
    return Ifd(data, order, entries), following
