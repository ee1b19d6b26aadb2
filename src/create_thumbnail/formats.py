"""Output formats: which one a thumbnail gets, the modes it can hold, and how it is encoded.

One table instead of per-format branches in the encoder (thumbor's 200-line read() is the
cautionary tale). Every encoder gets an empty info dict and only the options listed here, so no
EXIF, XMP, comment or stale ICC profile can ride along.
"""

from __future__ import annotations

from dataclasses import dataclass
from io import BytesIO
from types import MappingProxyType
from typing import Any

from PIL import Image

from create_thumbnail.config import Encoding

JPEG, PNG, WEBP, AVIF = "JPEG", "PNG", "WEBP", "AVIF"


@dataclass(frozen=True, slots=True)
class OutputFormat:
    name: str
    content_type: str
    extensions: tuple[str, ...]  # the first is appended when a key's own extension says otherwise
    modes: frozenset[str]  # what the encoder is given; anything else is converted first

    def save_options(self, encoding: Encoding) -> dict[str, Any]:
        if self.name == JPEG:
            return {"quality": encoding.jpeg_quality, "optimize": True}
        if self.name == PNG:
            return {"compress_level": encoding.png_compress_level}
        if self.name == WEBP:
            return {"quality": encoding.webp_quality, "method": 4}
        return {"quality": encoding.avif_quality, "speed": 8}


FORMATS = MappingProxyType({
    JPEG: OutputFormat(JPEG, "image/jpeg", (".jpg", ".jpeg"), frozenset({"L", "RGB"})),
    PNG: OutputFormat(PNG, "image/png", (".png",), frozenset({"L", "LA", "RGB", "RGBA"})),
    WEBP: OutputFormat(WEBP, "image/webp", (".webp",), frozenset({"RGB", "RGBA"})),
    AVIF: OutputFormat(AVIF, "image/avif", (".avif",), frozenset({"RGB", "RGBA"})),
})  # fmt: skip


def output_format(source_format: str, encoding: Encoding) -> OutputFormat:
    """THUMBNAIL_FORMAT=source keeps the sniffed format of the bytes, not the key's extension."""
    return FORMATS[source_format if encoding.format == "source" else encoding.format.upper()]


def encode(image: Image.Image, target: OutputFormat, encoding: Encoding) -> bytes:
    image = _fit_mode(image, target, encoding.background)
    image.info = {}  # encoders fall back to info for ICC profiles and comments
    buffer = BytesIO()
    image.save(buffer, format=target.name, **target.save_options(encoding))
    return buffer.getvalue()


def _fit_mode(image: Image.Image, target: OutputFormat, background: tuple[int, int, int]) -> Image.Image:
    if image.mode in target.modes:
        return image
    if image.mode in ("LA", "RGBA") and image.mode[:-1] in target.modes:
        return _flatten(image, background)  # JPEG: no alpha
    if image.mode == "L":
        return image.convert("RGB")
    return image.convert("RGBA")  # LA for WebP and AVIF


def _flatten(image: Image.Image, background: tuple[int, int, int]) -> Image.Image:
    """Composite onto the background colour, as a browser shows a transparent image."""
    base_mode = image.mode[:-1]
    fill = round(0.299 * background[0] + 0.587 * background[1] + 0.114 * background[2])
    flat = Image.new(base_mode, image.size, fill if base_mode == "L" else background)
    flat.paste(image.convert(base_mode), mask=image.getchannel("A"))
    return flat
