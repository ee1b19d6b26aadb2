"""Decoded pixels -> a mode Pillow resamples well, without losing what the source meant.

Palettes and bilevel images would otherwise be resized nearest-neighbour, and 16-bit grey would
be clipped to white by a plain convert. 16-bit samples are scaled by their high byte, and a
16-bit PNG's tRNS colour, which names one exact 16-bit value, becomes alpha matched on all 16
bits: Pillow keeps only the high byte and would drop it.
"""

from __future__ import annotations

from functools import cache
from io import BytesIO

from PIL import Image, ImageChops, ImageOps

from create_thumbnail.formats import PNG


def resampling_mode(image: Image.Image, low_bytes: Image.Image | None = None) -> Image.Image:
    """Modes Pillow resamples well: L, LA, RGB, RGBA, CMYK. Palettes and bilevel would otherwise
    be resized nearest-neighbour, and 16-bit grey would be clipped to white by a plain convert.
    CMYK stays CMYK so that its profile (or the naive formula) turns it into sRGB afterwards.
    low_bytes: for a 16-bit RGB PNG with tRNS, its samples' low bytes (see low_bytes)."""
    mode = image.mode
    transparent = image.info.get("transparency") is not None
    if mode.startswith("I;16"):
        return _high_bytes(image)
    if mode == "I":  # 16-bit samples widened to 32 bits by older decoders
        return image.point(_sixteen_to_eight_bits(), "L")
    if low_bytes is not None:
        return _with_key_alpha(image, low_bytes, _key(image, tuple))
    if mode in ("1", "L"):
        target = "LA" if transparent else "L"
    elif mode in ("P", "RGB"):
        target = "RGBA" if transparent else "RGB"
    elif mode in ("LA", "RGBA", "CMYK"):
        target = mode
    elif mode == "PA":
        target = "RGBA"
    else:  # CMYK, YCbCr, LAB, HSV
        target = "RGB"
    # convert() to the same mode still copies: 48 MB at 12 MP, 400 MB at 100 MP.
    return image if target == mode else image.convert(target)


@cache
def _sixteen_to_eight_bits() -> list[int]:
    return [value >> 8 for value in range(65536)]


def _high_bytes(image: Image.Image) -> Image.Image:
    """16-bit grey -> 8-bit by keeping each sample's high byte (v >> 8). Costs one copy of the
    raw bytes, where convert("I") would widen every pixel to 32 bits first. A tRNS value
    becomes alpha, matched on all 16 bits."""
    raw = image.tobytes()
    high, low = (0, 1) if image.mode == "I;16B" else (1, 0)
    grey = Image.frombytes("L", image.size, raw[high::2])
    key = _key(image, int)
    if key is None:
        return grey
    low_bytes = Image.frombytes("L", image.size, raw[low::2])
    del raw
    return _with_key_alpha(grey, low_bytes, (key,))


def _key(image: Image.Image, kind: type) -> tuple[int, ...] | int | None:
    """The tRNS colour of a 16-bit PNG (an int for grey, a tuple for RGB), if it has one."""
    key = image.info.get("transparency")
    return key if isinstance(key, kind) else None


def is_rgb16(image: Image.Image) -> bool:
    """Pillow holds a 16-bit RGB PNG as 8-bit RGB; only the undecoded tile says it was 16."""
    return image.format == PNG and image.mode == "RGB" and any(t.args == "RGB;16B" for t in image.tile)


def low_bytes(data: bytes, orientation: int) -> Image.Image:
    """A 16-bit RGB PNG decoded once more for the low byte of every sample (the same stream
    read as little-endian puts the low byte where Pillow keeps the high one), turned upright
    as the image was."""
    image = Image.open(BytesIO(data), formats=[PNG])
    image.tile = [tile._replace(args="RGB;16L") for tile in image.tile]
    image.load()
    return ImageOps.exif_transpose(image) if orientation in range(2, 9) else image


def _with_key_alpha(high: Image.Image, low: Image.Image, key: tuple[int, ...]) -> Image.Image:
    """high (L or RGB, the samples' high bytes) plus alpha 0 exactly where every 16-bit sample
    equals the key, as a PNG decoder that honours tRNS shows it. One band at a time, so that
    at most three single-byte planes exist beside the two images."""
    opaque_unless_all: Image.Image | None = None
    for index, sample in enumerate(key):
        for image, wanted in ((high, sample >> 8), (low, sample & 0xFF)):
            match = image.getchannel(index).point([255 if value == wanted else 0 for value in range(256)])
            opaque_unless_all = match if opaque_unless_all is None else ImageChops.multiply(opaque_unless_all, match)
    del low
    high.putalpha(ImageChops.invert(opaque_unless_all))  # L -> LA, RGB -> RGBA, in place
    high.info.pop("transparency", None)
    return high
