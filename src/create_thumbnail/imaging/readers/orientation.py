"""The EXIF orientation, read the same way for every format and decoder path, and what turns
each one upright."""

from __future__ import annotations

import struct
from collections.abc import Sequence

from PIL import Image

from create_thumbnail.config import Box
from create_thumbnail.imaging.formats import PNG

_ORIENTATION_TAG = 0x0112
TRANSPOSING = range(2, 9)  # orientations that turn or flip the stored pixels
SWAPPING = frozenset({5, 6, 7, 8})  # those that swap width and height
# What turns each orientation upright, as exif_transpose does (which would also rewrite the
# EXIF block, which no thumbnail carries); frames of an animation carry no EXIF of their own.
TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# What Pillow's EXIF reader raises on a malformed block: SyntaxError for a header that is not
# TIFF's (a bad byte order mark), struct.error for a value shorter than its type. Nothing else
# came from reading the orientation of 7,331 images that open (the fuzz test's inputs for two
# master seeds, and random mutations of every seed); a truncated IFD Pillow reads as far as it
# goes, with a warning.
_BAD_EXIF = (SyntaxError, struct.error)


def orientation_of(image: Image.Image) -> int:
    """The orientation as Pillow reads it, the same way for every format and decoder path: the
    EXIF block (a JPEG's APP1, a PNG's eXIf or EXIF text chunk, a WebP's, an AVIF's, a TIFF's
    own tags), else XMP's tiff:Orientation. pi-heif hands over a HEIF already turned, its
    orientation reset to 1. 1 when absent or unreadable: a broken EXIF block is not a broken
    image. A PNG's metadata is all in info by now (png.py adds what follows the pixels),
    and libvips decodes its pixels: PngImageFile.getexif would decode them all over again to
    look for late chunks, so the reading every other format's getexif ends in is called."""
    read = Image.Image.getexif if image.format == PNG else type(image).getexif
    try:
        value = read(image).get(_ORIENTATION_TAG, 1)
    except _BAD_EXIF:
        return 1
    return value if isinstance(value, int) and value in range(1, 9) else 1


def upright(image: Image.Image, orientation: int) -> Image.Image:
    """The decoded pixels turned as the orientation says (a copy), or image itself."""
    return image.transpose(TRANSPOSE[orientation]) if orientation in TRANSPOSING else image


def upright_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    return size[::-1] if orientation in SWAPPING else size


def stored_boxes(boxes: Sequence[Box], orientation: int) -> Sequence[Box]:
    """The boxes as the stored pixels see them: sides swapped where EXIF turns the image."""
    return [Box(box.height, box.width, box.fit) for box in boxes] if orientation in SWAPPING else boxes
