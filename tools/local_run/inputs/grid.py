"""Image factories for tests: every source is drawn upright with an asymmetric marker (a block in
the top-left corner on a contrasting background), then stored the way a camera would store it
for the given EXIF orientation. A thumbnail is upright iff the block is back in its top-left."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageDraw

from local_run.inputs.icc_profiles import cmyk_profile
from local_run.inputs.samples import (
    encode,
    heif_bytes,
    rgb16_png,
    sixteen_bits,
    store_with_orientation,
)

# (background, marker) per mode, far apart so resampling blur cannot confuse them.
COLOURS: dict[str, tuple[object, object]] = {
    "1": (1, 0),
    "L": (235, 20),
    "LA": ((0, 0), (20, 255)),
    "RGB": ((240, 240, 200), (220, 30, 30)),
    "RGBA": ((0, 0, 0, 0), (220, 30, 30, 255)),
    "CMYK": ((10, 10, 40, 0), (20, 220, 220, 10)),
    "I;16": (60000, 5000),
    # 16-bit PNGs whose tRNS key is the background: it must come out transparent.
    "I;16+tRNS": (60000, 5000),
    "RGB16+tRNS": ((240, 240, 200), (220, 30, 30)),
}
TRANSPARENT = {"LA", "RGBA", "P+alpha", "I;16+tRNS", "RGB16+tRNS"}


def upright(mode: str, size: tuple[int, int]) -> Image.Image:
    """mode is a Pillow mode, or 'P' / 'P+alpha' for a palette image without / with tRNS."""
    if mode.startswith("P"):
        image = Image.new("P", size, 0)
        image.putpalette([240, 240, 200, 220, 30, 30] + [0] * (256 - 2) * 3)
        if mode == "P+alpha":
            image.info["transparency"] = 0
        _draw_marker(image, 1)
        return image
    background, marker = COLOURS[mode]
    image = Image.new({"I;16+tRNS": "I;16", "RGB16+tRNS": "RGB"}.get(mode, mode), size, background)
    _draw_marker(image, marker)
    return image


def _draw_marker(image: Image.Image, fill: object) -> None:
    width, height = image.size
    ImageDraw.Draw(image).rectangle((0, 0, max(1, width // 3) - 1, max(1, height // 3) - 1), fill=fill)


def source_bytes(mode: str, size: tuple[int, int], image_format: str, orientation: int = 1) -> bytes:
    """Encoded as a camera or editor would: pixels stored turned, EXIF saying how to fix them.
    'CMYK+icc' is CMYK with an embedded (naive) CMYK printer profile; '+tRNS' modes are 16-bit
    PNGs whose background colour is their tRNS key."""
    stored, exif = store_with_orientation(upright(mode.removesuffix("+icc"), size), orientation)
    if mode == "RGB16+tRNS":
        key = tuple(sixteen_bits(value) for value in COLOURS[mode][0])
        return rgb16_png(stored, key, exif if orientation != 1 else None)
    options: dict[str, object] = {"exif": exif} if orientation != 1 else {}
    if mode == "I;16+tRNS":
        options["transparency"] = COLOURS[mode][0]
    if mode == "CMYK+icc":
        options["icc_profile"] = cmyk_profile()
    if mode == "P+alpha":
        options["transparency"] = 0
    if image_format in ("JPEG", "WEBP", "AVIF"):
        options["quality"] = 95
    if image_format == "GIF":  # no EXIF in a GIF: stored upright
        return encode(upright(mode, size), "GIF", **{k: v for k, v in options.items() if k != "exif"})
    if image_format == "HEIF":
        return heif_bytes(stored, exif if orientation != 1 else None)
    return encode(stored, image_format, **options)


def decode(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image


# Every (format, mode) the imaging grid covers: tests/unit/test_imaging.py and the contact sheet.
GRID_SOURCES = [("JPEG", m) for m in ("L", "RGB", "CMYK", "CMYK+icc")] + [
    ("PNG", m) for m in ("1", "L", "LA", "P", "P+alpha", "RGB", "RGBA", "I;16", "I;16+tRNS", "RGB16+tRNS")
]
# The formats SOURCE_FORMATS may add, each in the modes its encoders write.
MORE_SOURCES = [
    ("WEBP", "RGB"), ("WEBP", "RGBA"), ("AVIF", "RGB"), ("AVIF", "RGBA"), ("HEIF", "RGB"), ("HEIF", "RGBA"),
    ("TIFF", "RGB"), ("TIFF", "RGBA"), ("TIFF", "L"), ("TIFF", "CMYK"), ("TIFF", "I;16"), ("GIF", "P"), ("GIF", "P+alpha"),
]  # fmt: skip


def oriented(sources: list[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """(format, mode, EXIF orientation) for each orientation the format can carry: a GIF has no
    EXIF, so 1 alone. A grid of every combination would only skip the ones that cannot exist."""
    return [(f, m, o) for f, m in sources for o in (range(1, 9) if f != "GIF" else (1,))]
