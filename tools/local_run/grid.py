"""Image factories for tests: every source is drawn upright with an asymmetric marker (a block in
the top-left corner on a contrasting background), then stored the way a camera would store it
for the given EXIF orientation. A thumbnail is upright iff the block is back in its top-left."""

from __future__ import annotations

from io import BytesIO

from PIL import Image, ImageDraw

from local_run.samples import encode, store_with_orientation
from local_run.icc_profiles import cmyk_profile

# (background, marker) per mode, far apart so resampling blur cannot confuse them.
COLOURS: dict[str, tuple[object, object]] = {
    "1": (1, 0),
    "L": (235, 20),
    "LA": ((0, 0), (20, 255)),
    "RGB": ((240, 240, 200), (220, 30, 30)),
    "RGBA": ((0, 0, 0, 0), (220, 30, 30, 255)),
    "CMYK": ((10, 10, 40, 0), (20, 220, 220, 10)),
    "I;16": (60000, 5000),
}
TRANSPARENT = {"LA", "RGBA", "P+alpha"}


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
    image = Image.new(mode, size, background)
    _draw_marker(image, marker)
    return image


def _draw_marker(image: Image.Image, fill: object) -> None:
    width, height = image.size
    ImageDraw.Draw(image).rectangle((0, 0, max(1, width // 3) - 1, max(1, height // 3) - 1), fill=fill)


def source_bytes(mode: str, size: tuple[int, int], image_format: str, orientation: int = 1) -> bytes:
    """Encoded as a camera or editor would: pixels stored turned, EXIF saying how to fix them.
    'CMYK+icc' is CMYK with an embedded (naive) CMYK printer profile."""
    stored, exif = store_with_orientation(upright(mode.removesuffix("+icc"), size), orientation)
    options: dict[str, object] = {"exif": exif} if orientation != 1 else {}
    if mode == "CMYK+icc":
        options["icc_profile"] = cmyk_profile()
    if mode == "P+alpha":
        options["transparency"] = 0
    if image_format == "JPEG":
        options["quality"] = 95
    return encode(stored, image_format, **options)


def decode(data: bytes) -> Image.Image:
    image = Image.open(BytesIO(data))
    image.load()
    return image
