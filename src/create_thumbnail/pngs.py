"""PNG through libvips: libspng's SIMD unfiltering and zlib-ng, read in strips and shrunk as it
streams, so neither the time nor the memory of a full decode is paid; and written the same way.

Pillow decodes a PNG whole before anything can be resized (no draft mode, as JPEG has): a 12 MP
RGB PNG took 158 ms and 48 MB to decode, where libvips reads it and box-shrinks it to 1.5 times
the largest box in 131 ms holding 12 MB (docs/performance.md). What leaves
here is a Pillow image, as small as the boxes allow, in the mode the rest of imaging.py expects
(L, LA, RGB or RGBA, 8 bits), with the embedded profile and EXIF orientation still to apply: the
rest of the path is the same for every format. Thumbnails written as PNG leave through libvips
too, at level 3, with every row "up"-filtered (each byte less the one above it).

One filter for every row, measured on 1024 px thumbnails (ms, KB), against libspng's per-row
choice among the five ("all") and against none, which libvips and sharp write by default:

    input                  none         all          up
    RGB photo-like         34.7  1547   44.9   701   22.0   726
    RGBA photo-like        46.5  1801   66.6  1190   36.2  1220
    RGBA logo               2.3    12   20.1     6    4.5     6
    text screenshot         4.7   136   15.4   143    6.8   159

"up" is twice as fast as "all" for 1–4% more bytes on photos, the same on flat graphics, 11% more
on text; unfiltered doubles a photo's bytes. Pillow's encoder took 108 ms for a 1024 px RGB PNG.

pyvips is imported on the first PNG (libvips.py).
"""

from __future__ import annotations

from typing import Any

from PIL import Image

from create_thumbnail.errors import NotAnImage
from create_thumbnail.libvips import vips

_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_PIXELS_PER_MM_AT_72_DPI = 72 / 25.4


def decode_shrunk(data: bytes, at_least: tuple[int, int]) -> tuple[Image.Image, bytes | None, int | None]:
    """(the PNG shrunk by a whole factor to no less than at_least, its ICC profile, its EXIF
    orientation as libvips read it). A truncated or broken PNG is NotAnImage."""
    pyvips = vips()
    try:
        image = pyvips.Image.new_from_buffer(data, "", access="sequential", fail_on="truncated")
        icc = image.get("icc-profile-data") if "icc-profile-data" in image.get_fields() else None
        orientation = image.get("orientation") if "orientation" in image.get_fields() else None
        image = _shrunk(_eight_bits(image), at_least)
        pixels = image.write_to_memory()
    except pyvips.Error as error:
        raise NotAnImage(f"could not decode the PNG: {str(error).strip().splitlines()[-1]}") from None
    decoded = Image.frombytes(_MODES[image.bands], (image.width, image.height), pixels)
    return decoded, icc, orientation


def _eight_bits(image: Any) -> Any:
    """16-bit samples keep their high byte, as the rest of imaging does; a tRNS colour libspng
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


def encode_png(image: Image.Image, level: int) -> bytes:
    """An L, LA, RGB or RGBA image as a PNG: "up" filters, zlib level, no metadata but the
    pHYs chunk libvips always writes, set to the customary 72 dpi (its default would say 25.4)."""
    pixels = vips().Image.new_from_memory(image.tobytes(), image.width, image.height, len(image.mode), "uchar")
    pixels = pixels.copy(xres=_PIXELS_PER_MM_AT_72_DPI, yres=_PIXELS_PER_MM_AT_72_DPI)
    return pixels.write_to_buffer(".png", compression=level, filter="up", keep="none")
