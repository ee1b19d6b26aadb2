"""Decoded pixels -> a mode Pillow resamples well, without losing what the source meant.

Palettes and bilevel images would otherwise be resized nearest-neighbour, and 16-bit grey (a
TIFF's: PNGs come through libvips, readers/png.py) would be clipped to white by a plain convert.
"""

from __future__ import annotations

from functools import cache

from PIL import Image


def resampling_mode(image: Image.Image) -> Image.Image:
    """Modes Pillow resamples well: L, LA, RGB, RGBA, CMYK. Palettes and bilevel would otherwise
    be resized nearest-neighbour, and 16-bit grey would be clipped to white by a plain convert.
    CMYK stays CMYK so that its profile (or the naive formula) turns it into sRGB afterwards."""
    mode = image.mode
    transparent = image.info.get("transparency") is not None
    if mode.startswith("I;16"):
        return _high_bytes(image)
    if mode == "I":  # 16-bit samples widened to 32 bits by older decoders
        return image.point(_sixteen_to_eight_bits(), "L")
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
    raw bytes, where convert("I") would widen every pixel to 32 bits first."""
    high = 0 if image.mode == "I;16B" else 1
    return Image.frombytes("L", image.size, image.tobytes()[high::2])
