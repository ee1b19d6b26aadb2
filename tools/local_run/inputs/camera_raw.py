"""Camera RAWs made here, in the shapes each make writes: a DNG (16-bit RGGB mosaic of the
picture, with or without a JPEG preview in IFD0), a CR2 (its "CR" header, a full-size JPEG in
IFD0, lossless-JPEG sensor data in IFD3), a NEF (a 160 x 120 RGB thumbnail in IFD0, JpgFromRaw
and Nikon-compressed sensor data in SubIFDs) and an ARW (SR2Private, a 1616 x 1080-style preview
in IFD0, a 160 x 120 one in IFD1, Sony-compressed sensor data in a SubIFD). The picture has a red
block top-left once the RAW's orientation is applied; the previews carry no orientation of their
own unless asked, as cameras write them. Sensor data other than the DNG's is a stub: only the
preview is ever read.

Real files from cameras are in tests/fixtures/raw/; these are what code can make: any size, any
orientation, a header that lies. picture: the upright picture (the fuzz seeds pass their own,
deterministic one); by default samples.photo.
"""

from __future__ import annotations

import struct
from io import BytesIO

from PIL import Image

from local_run.inputs.samples import _STORE, photo

_BYTE, _ASCII, _SHORT, _LONG, _RATIONAL, _UNDEFINED, _SRATIONAL = 1, 2, 3, 4, 5, 7, 10
_FORMATS = {_BYTE: "B", _ASCII: "B", _SHORT: "H", _LONG: "I", _RATIONAL: "I", _UNDEFINED: "B", _SRATIONAL: "i"}
_SIZES = {_BYTE: 1, _ASCII: 1, _SHORT: 2, _LONG: 4, _RATIONAL: 8, _UNDEFINED: 1, _SRATIONAL: 8}
Entry = tuple[int, int, tuple[int, ...] | bytes]


def dng(
    size: tuple[int, int] = (600, 400),
    orientation: int = 1,
    preview: tuple[int, int] | None = None,
    preview_exif_orientation: int | None = None,
    claim: tuple[int, int] | None = None,
    picture: Image.Image | None = None,
) -> bytes:
    """A DNG of an upright size, stored turned for orientation: 16-bit uncompressed RGGB sensor
    data, and, given a preview size (upright), a JPEG preview in IFD0 with the sensor in a SubIFD
    (as cameras and Adobe's converter write them). claim: the sensor size the header states
    instead (the data stays small)."""
    upright = picture or photo(size)
    stored = _stored(upright, orientation)
    mosaic = bayer(stored)
    width, height = claim or stored.size
    sensor: list[Entry] = [
        (254, _LONG, (0,)), (256, _LONG, (width,)), (257, _LONG, (height,)), (258, _SHORT, (16,)),
        (259, _SHORT, (1,)), (262, _SHORT, (32803,)), (273, _LONG, (0,)), (277, _SHORT, (1,)),
        (278, _LONG, (height,)), (279, _LONG, (len(mosaic),)), (284, _SHORT, (1,)),
        (33421, _SHORT, (2, 2)), (33422, _BYTE, (0, 1, 1, 2)), (50717, _LONG, (65535,)),
    ]  # fmt: skip
    main: list[Entry] = [
        (271, _ASCII, b"Synthetic\0"), (272, _ASCII, b"Mosaic\0"), (274, _SHORT, (orientation,)),
        (50706, _BYTE, (1, 4, 0, 0)), (50708, _ASCII, b"Synthetic Mosaic\0"),
        (50721, _SRATIONAL, (1, 1, 0, 1, 0, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 1, 1, 1)),
        (50728, _RATIONAL, (1, 1, 1, 1, 1, 1)),
    ]  # fmt: skip
    if preview is None:
        return tiff("<", [main + sensor], {0: {273: mosaic}})
    jpeg = preview_jpeg(upright, preview, orientation, preview_exif_orientation)
    stored_preview = preview_stored(preview, orientation)
    main += [(254, _LONG, (1,)), (256, _LONG, stored_preview[:1]), (257, _LONG, stored_preview[1:]),
             (259, _SHORT, (7,)), (262, _SHORT, (6,)), (273, _LONG, (0,)), (277, _SHORT, (3,)),
             (279, _LONG, (len(jpeg),))]  # fmt: skip
    return tiff("<", [main, sensor], {0: {273: jpeg}, 1: {273: mosaic}}, sub_ifds={0: [1]})


def cr2_like(preview: tuple[int, int], orientation: int = 1, picture: Image.Image | None = None) -> bytes:
    """A CR2's shape: "CR" 2.0 and the sensor IFD's offset after the TIFF header; IFD0 with the
    make, the orientation and the full-size JPEG in one strip (Compression 6); IFD1 a 160 x 120
    JPEG thumbnail; IFD3 the sensor data, a lossless JPEG (SOF3: never taken for a preview)."""
    upright = picture or photo(preview)
    jpeg = preview_jpeg(upright, preview, orientation, None)
    thumbnail = preview_jpeg(upright, (160, 120), orientation, None)
    stored = preview_stored(preview, orientation)
    main: list[Entry] = [(256, _SHORT, stored[:1]), (257, _SHORT, stored[1:]), (259, _SHORT, (6,)),
                         (271, _ASCII, b"Canon\0"), (272, _ASCII, b"Canon EOS Synthetic\0"),
                         (273, _LONG, (0,)), (274, _SHORT, (orientation,)), (279, _LONG, (len(jpeg),))]  # fmt: skip
    thumb: list[Entry] = [(513, _LONG, (0,)), (514, _LONG, (len(thumbnail),))]
    rgb: list[Entry] = [(256, _SHORT, (4,)), (257, _SHORT, (4,)), (259, _SHORT, (1,)), (262, _SHORT, (2,)),
                        (273, _LONG, (0,)), (277, _SHORT, (3,)), (279, _LONG, (48,))]  # fmt: skip
    lossless = _lossless_jpeg_stub(stored)
    sensor: list[Entry] = [(259, _SHORT, (6,)), (273, _LONG, (0,)), (279, _LONG, (len(lossless),)),
                           (50752, _SHORT, (1, stored[0] // 2, stored[0] // 2))]  # fmt: skip
    blobs = {0: {273: jpeg}, 1: {513: thumbnail}, 2: {273: bytes(48)}, 3: {273: lossless}}
    data, offsets = tiff_with_offsets("<", [main, thumb, rgb, sensor], blobs, header=b"CR\x02\x00\0\0\0\0")
    return data[:12] + struct.pack("<I", offsets[3]) + data[16:]


def nef_like(
    preview: tuple[int, int], orientation: int = 1, make: str = "NIKON CORPORATION", picture: Image.Image | None = None
) -> bytes:
    """A NEF's shape: IFD0 with the make, the orientation and a 160 x 120 RGB thumbnail (what a
    TIFF reader would show of the file), a SubIFD holding the full-size JPEG as
    JPEGInterchangeFormat (JpgFromRaw), another the Nikon-compressed sensor data (a stub, stated
    a little larger than the JPEG, as a sensor's masked borders make it)."""
    upright = picture or photo(preview)
    jpeg = preview_jpeg(upright, preview, orientation, None)
    stored = preview_stored(preview, orientation)
    small = _stored(upright.convert("RGB").resize((160, 120) if preview[0] >= preview[1] else (120, 160)), orientation)
    rgb = small.tobytes()
    main: list[Entry] = [
        (254, _LONG, (1,)), (256, _LONG, (small.width,)), (257, _LONG, (small.height,)), (258, _SHORT, (8, 8, 8)),
        (259, _SHORT, (1,)), (262, _SHORT, (2,)), (271, _ASCII, make.encode() + b"\0"), (273, _LONG, (0,)),
        (274, _SHORT, (orientation,)), (277, _SHORT, (3,)), (278, _LONG, (small.height,)), (279, _LONG, (len(rgb),)),
    ]  # fmt: skip
    jpg_from_raw: list[Entry] = [(254, _LONG, (1,)), (259, _SHORT, (6,)), (513, _LONG, (0,)), (514, _LONG, (len(jpeg),))]
    sensor: list[Entry] = [(254, _LONG, (0,)), (256, _LONG, (stored[0] + 32,)), (257, _LONG, (stored[1] + 16,)),
                           (259, _SHORT, (34713,)), (262, _SHORT, (32803,)), (273, _LONG, (0,)), (279, _LONG, (16,))]  # fmt: skip
    blobs = {0: {273: rgb}, 1: {513: jpeg}, 2: {273: bytes(16)}}
    return tiff("<", [main, jpg_from_raw, sensor], blobs, sub_ifds={0: [1, 2]})


def arw_like(
    sensor: tuple[int, int] = (6000, 4000), preview: tuple[int, int] = (1616, 1080), orientation: int = 1,
    picture: Image.Image | None = None,
) -> bytes:
    """An ARW's shape: IFD0 with the make, the orientation, SR2Private (DNGPrivateData) and the
    preview as JPEGInterchangeFormat; IFD1, chained, a 160 x 120 JPEG thumbnail; a SubIFD the
    Sony-compressed sensor data (a stub stated at sensor's size)."""
    upright = picture or photo(preview)
    jpeg = preview_jpeg(upright, preview, orientation, None)
    thumbnail = preview_jpeg(upright, (160, 120), orientation, None)
    stored_sensor = preview_stored(sensor, orientation)
    main: list[Entry] = [(254, _LONG, (1,)), (271, _ASCII, b"SONY\0"), (272, _ASCII, b"ILCE-Synthetic\0"),
                         (274, _SHORT, (orientation,)), (513, _LONG, (0,)), (514, _LONG, (len(jpeg),)),
                         (50740, _BYTE, (0, 0, 0, 0))]  # fmt: skip
    thumb: list[Entry] = [(254, _LONG, (1,)), (513, _LONG, (0,)), (514, _LONG, (len(thumbnail),))]
    raw: list[Entry] = [(254, _LONG, (0,)), (256, _LONG, stored_sensor[:1]), (257, _LONG, stored_sensor[1:]),
                        (259, _SHORT, (32767,)), (262, _SHORT, (32803,)), (273, _LONG, (0,)), (279, _LONG, (16,))]  # fmt: skip
    blobs = {0: {513: jpeg}, 1: {513: thumbnail}, 2: {273: bytes(16)}}
    return tiff("<", [main, thumb, raw], blobs, sub_ifds={0: [2]})


def preview_stored(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return size[::-1] if orientation in (5, 6, 7, 8) else size


def preview_jpeg(upright: Image.Image, size: tuple[int, int], orientation: int, exif_orientation: int | None) -> bytes:
    """The picture at the preview's upright size, stored turned as the sensor is; with an EXIF
    orientation of its own only when asked (most cameras write none in the preview)."""
    stored = _stored(upright.resize(size), orientation)
    out = BytesIO()
    exif = b""
    if exif_orientation is not None:
        tags = Image.Exif()
        tags[0x0112] = exif_orientation
        exif = tags.tobytes()
    stored.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def bayer(image: Image.Image) -> bytes:
    """RGGB mosaic of an RGB image, 16 bits a photosite, little-endian (the value's high byte)."""
    red, green, blue = (channel.tobytes() for channel in image.convert("RGB").split())
    width, height = image.size
    out = bytearray(2 * width * height)
    for y in range(height):
        row = slice(y * width, (y + 1) * width)
        first, second = (red, green) if y % 2 == 0 else (green, blue)
        line = bytearray(width)
        line[0::2] = first[row][0::2]
        line[1::2] = second[row][1::2]
        out[2 * y * width + 1 : 2 * (y + 1) * width : 2] = line
    return bytes(out)


def tiff(order: str, ifds: list[list[Entry]], blobs: dict[int, dict[int, bytes]],
         sub_ifds: dict[int, list[int]] | None = None) -> bytes:  # fmt: skip
    return tiff_with_offsets(order, ifds, blobs, sub_ifds)[0]


def tiff_with_offsets(
    order: str, ifds: list[list[Entry]], blobs: dict[int, dict[int, bytes]],
    sub_ifds: dict[int, list[int]] | None = None, header: bytes = b"",
) -> tuple[bytes, list[int]]:  # fmt: skip
    """A TIFF of these IFDs, and each IFD's offset: the first is IFD0, the rest reachable as
    SubIFDs (sub_ifds: IFD index -> the indexes it points at) or else chained. blobs: per IFD,
    per offset tag (273, 513), the bytes it points at, laid after the IFDs. header: bytes after
    the TIFF header's eight (a CR2's), before the first IFD."""
    sub_ifds = sub_ifds or {}
    pointed = {index for targets in sub_ifds.values() for index in targets}
    chain = [index for index in range(len(ifds)) if index not in pointed]
    for index, targets in sub_ifds.items():
        ifds[index] = [entry for entry in ifds[index] if entry[0] != 330] + [(330, _LONG, tuple([0] * len(targets)))]
    offsets, position = [], 8 + len(header)
    for entries in ifds:
        offsets.append(position)
        position += 2 + 12 * len(entries) + 4 + sum(_extra(kind, values) for _, kind, values in entries)
    blob_offsets: dict[tuple[int, int], int] = {}
    for index, by_tag in blobs.items():
        for tag, blob in by_tag.items():
            blob_offsets[index, tag] = position
            position += len(blob) + (len(blob) & 1)
    out = bytearray(b"II*\x00" if order == "<" else b"MM\x00*") + struct.pack(f"{order}I", offsets[0]) + header
    for index, entries in enumerate(ifds):
        resolved = []
        for tag, kind, values in sorted(entries, key=lambda entry: entry[0]):
            if (index, tag) in blob_offsets:
                values = (blob_offsets[index, tag],)
            elif tag == 330:
                values = tuple(offsets[target] for target in sub_ifds[index])
            resolved.append((tag, kind, values))
        following = chain[chain.index(index) + 1] if index in chain and chain.index(index) + 1 < len(chain) else None
        out += _ifd(order, resolved, offsets[index], offsets[following] if following is not None else 0)
    for index, by_tag in blobs.items():
        for tag, blob in by_tag.items():
            assert len(out) == blob_offsets[index, tag]
            out += blob + b"\0" * (len(blob) & 1)
    return bytes(out), offsets


def _stored(upright: Image.Image, orientation: int) -> Image.Image:
    return upright.transpose(_STORE[orientation]) if orientation in _STORE else upright


def _lossless_jpeg_stub(size: tuple[int, int]) -> bytes:
    """SOI, a lossless start-of-frame (SOF3) of two components at half the width, as a CR2's
    sensor data begins, and EOI: what a preview finder must pass over."""
    frame = struct.pack(">BHHB", 14, size[1], size[0] // 2, 2) + bytes((1, 0x11, 0, 2, 0x11, 0))
    return b"\xff\xd8\xff\xc3" + struct.pack(">H", 2 + len(frame)) + frame + b"\xff\xd9"


def _count(kind: int, values: tuple[int, ...] | bytes) -> int:
    return len(values) // (2 if kind in (_RATIONAL, _SRATIONAL) else 1)


def _extra(kind: int, values: tuple[int, ...] | bytes) -> int:
    size = _SIZES[kind] * _count(kind, values)
    return 0 if size <= 4 else size + (size & 1)


def _ifd(order: str, entries: list[Entry], at: int, following: int) -> bytes:
    head = struct.pack(f"{order}H", len(entries))
    extra_at = at + 2 + 12 * len(entries) + 4
    body, extra = b"", b""
    for tag, kind, values in entries:
        code = _FORMATS[kind]
        packed = bytes(values) if isinstance(values, bytes) else struct.pack(f"{order}{len(values)}{code}", *values)
        count = _count(kind, values)
        if len(packed) <= 4:
            body += struct.pack(f"{order}HHI", tag, kind, count) + packed.ljust(4, b"\0")
        else:
            body += struct.pack(f"{order}HHII", tag, kind, count, extra_at + len(extra))
            extra += packed + b"\0" * (len(packed) & 1)
    return head + body + struct.pack(f"{order}I", following) + extra
