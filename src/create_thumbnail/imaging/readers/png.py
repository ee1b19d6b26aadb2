"""PNG through libvips (pyvips-binary's build: libpng, with zlib-ng), read in strips and shrunk
as it streams, so neither the time nor the memory of a full decode is paid. (Thumbnails written
as PNG leave through libvips too: formats.encode_png.)

Pillow decodes a PNG whole before anything can be resized (no draft mode, as JPEG has): a 12 MP
RGB PNG took 158 ms and 48 MB to decode, where libvips reads it and box-shrinks it to 1.5 times
the largest box in 131 ms holding 12 MB (docs/performance.md). What leaves here is a Pillow
image, as small as the boxes allow, in the mode the rest of the imaging path expects (L, LA, RGB
or RGBA, 8 bits), with the embedded profile still to apply: the rest of the path is the same for
every format. The orientation is read by Pillow, as every other format's is (orientation.py),
from the chunks before the pixels and, without decoding them, from those after
(trailing_metadata): libvips reads only an eXIf chunk before the pixels (and
not one that starts "Exif\0\0", as Pillow writes), no XMP and no EXIF text chunk.

pyvips is imported on the first PNG (libvips.py).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from io import BytesIO
from typing import Any

from PIL import Image

from create_thumbnail.config import Box
from create_thumbnail.errors import NotAnImage
from create_thumbnail.imaging.budget import Budget, estimate_peak
from create_thumbnail.imaging.libvips import failed, message, vips
from create_thumbnail.imaging.readers import Loaded
from create_thumbnail.imaging.readers.checks import admit, open_checked
from create_thumbnail.imaging.readers.orientation import TRANSPOSING, orientation_of, stored_boxes, upright, upright_size
from create_thumbnail.imaging.renditions import draft_size

_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PIXELS = frozenset({b"IDAT", b"fdAT"})  # an APNG's later frames are fdAT
# The chunks Pillow reads EXIF and XMP from: eXIf, XMP's iTXt, ImageMagick's "Raw profile type
# exif" in tEXt or zTXt.
_METADATA = frozenset({b"eXIf", b"iTXt", b"tEXt", b"zTXt"})
_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"
_CHUNK_HEAD = struct.Struct(">I4s")  # length, type


def load(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget) -> Loaded:
    """Through libvips, shrunk while it decodes to what the largest box needs, then turned
    upright by the orientation Pillow read (from the chunks before the pixels and after them),
    as every other format is."""
    image, header = open_checked(data, max_pixels)
    full_size = image.size
    image.info.update(trailing_metadata(data))  # what Pillow would find after the pixels
    orientation = orientation_of(image)
    decoded_size = _decoded_size(full_size, boxes, orientation)
    admit(estimate_peak(header, decoded_size, boxes, orientation in TRANSPOSING), budget, held=len(data))
    decoded, icc = decode_shrunk(data, draft_size(full_size, stored_boxes(boxes, orientation)))
    return Loaded(upright(decoded, orientation), icc or None, upright_size(full_size, orientation))


def _decoded_size(size: tuple[int, int], boxes: Sequence[Box], orientation: int) -> tuple[int, int]:
    """How many pixels the decode will hold: only its shrunk size."""
    wanted = draft_size(size, stored_boxes(boxes, orientation))
    width, height = size
    factor = max(1, min(width // max(1, wanted[0]), height // max(1, wanted[1])))
    return -(-width // factor), -(-height // factor)


def decode_shrunk(data: bytes, at_least: tuple[int, int]) -> tuple[Image.Image, bytes | None]:
    """(the PNG shrunk by a whole factor to no less than at_least, its ICC profile). What libvips
    says about the bytes, as it reads the header or as the pixels stream through the shrink, is
    NotAnImage (a truncated PNG too); a failure to build the shrink itself is ImagingFailed."""
    pyvips = vips()
    try:
        image = pyvips.Image.new_from_buffer(data, "", access="sequential", fail_on="truncated")
    except pyvips.Error as error:
        raise _undecodable(error) from error
    icc = image.get("icc-profile-data") if "icc-profile-data" in image.get_fields() else None
    try:
        shrunk = _shrunk(_eight_bits(image), at_least)
    except pyvips.Error as error:
        raise failed("shrinking a PNG", error) from error
    try:
        # Sequential access: the PNG is decoded here, strip by strip, into the shrink; the
        # operations were built above, so what fails now is reading the bytes.
        pixels = shrunk.write_to_memory()
    except pyvips.Error as error:
        raise _undecodable(error) from error
    decoded = Image.frombytes(_MODES[shrunk.bands], (shrunk.width, shrunk.height), pixels)
    return decoded, icc


def _undecodable(error: Exception) -> NotAnImage:
    return NotAnImage(f"could not decode the PNG: {message(error)}")


def trailing_metadata(data: bytes) -> dict[str, Any]:
    """What Pillow reads from the metadata chunks after the pixels (an eXIf, XMP or EXIF text
    chunk may follow IDAT), without decoding a pixel: Pillow itself reads them only once every
    pixel is decoded, libvips not at all. The chunks are found by walking the lengths, and
    Pillow's own chunk parsers (with their limits on text) read them from a PNG of those chunks
    alone, under a header that says 1x1 (nothing there is decoded or sized). Empty when there
    are none, or when Pillow cannot read them: the pixels are still good, as with a broken EXIF
    block, and libvips decodes them."""
    form, chunks = b"", []
    position, past_pixels = 8, False
    while position + 12 <= len(data):  # 4 ms for 33 MB in 8 KB IDAT chunks, as libvips writes
        length, kind = _CHUNK_HEAD.unpack_from(data, position)
        end = position + 12 + length
        if kind == b"IEND" or end > len(data):
            break
        if kind == b"IHDR" and length == 13:
            form = data[position + 16 : end - 4]  # bit depth, colour type and the rest
        elif kind in _PIXELS:
            past_pixels = True
        elif past_pixels and kind in _METADATA:
            chunks.append(data[position:end])
        position = end
    if not form or not chunks:
        return {}
    header = _chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + form)
    try:
        alone = BytesIO(b"".join([_SIGNATURE, header, *chunks, _IEND]))
        return Image.open(alone, formats=["PNG"]).info
    except (OSError, ValueError):  # a broken chunk, or text over Pillow's limits
        return {}


def _chunk(kind: bytes, body: bytes) -> bytes:
    return len(body).to_bytes(4, "big") + kind + body + zlib.crc32(kind + body).to_bytes(4, "big")


def _eight_bits(image: Any) -> Any:
    """16-bit samples keep their high byte, as the rest of imaging does; a tRNS colour libpng
    has already made alpha, matched on all 16 bits."""
    return (image >> 8).cast("uchar") if image.format == "ushort" else image


def _shrunk(image: Any, at_least: tuple[int, int]) -> Any:
    """A box-filter shrink by the largest whole factor that keeps both sides at or above
    at_least; with alpha, of premultiplied pixels, so transparent ones lend no colour. They are
    rounded back to 8 bits before the shrink, as Pillow's own resize does: in float, the strips
    held 20 MB for a 4 MP RGBA PNG, against 11 MB, and what rounding loses is colour a pixel
    shows at most alpha/255 of (under half a level)."""
    factor = max(1, min(image.width // max(1, at_least[0]), image.height // max(1, at_least[1])))
    if factor == 1:
        return image
    if image.hasalpha():
        premultiplied = (image.premultiply() + 0.5).cast("uchar")
        return (premultiplied.shrink(factor, factor).unpremultiply() + 0.5).cast("uchar")
    return image.shrink(factor, factor)
