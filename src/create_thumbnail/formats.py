"""Formats: which source formats there are and how their bytes announce them, which output formats
a thumbnail gets, the modes each can hold, and how each is encoded.

One table instead of per-format branches in the encoder (thumbor's 200-line read() is the
cautionary tale). Every encoder gets an empty info dict and only the options listed here, so no
EXIF, XMP, comment or stale ICC profile can ride along.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from io import BytesIO
from types import MappingProxyType
from typing import Any

from PIL import Image

from create_thumbnail.config import Encoding
from create_thumbnail.errors import NotAnImage
from create_thumbnail.pngs import encode_png

JPEG, PNG, WEBP, AVIF, GIF, TIFF, HEIF = "JPEG", "PNG", "WEBP", "AVIF", "GIF", "TIFF", "HEIF"
# Pillow calls a JPEG with a second picture (a phone's depth map or stereo pair) MPO; it is a JPEG.
JPEG_FAMILY = frozenset({JPEG, "MPO"})


@dataclass(frozen=True, slots=True)
class SourceFormat:
    name: str  # Pillow's
    setting: str  # SOURCE_FORMATS' spelling
    suffixes: tuple[str, ...]


SOURCES = MappingProxyType({
    "jpeg": SourceFormat(JPEG, "jpeg", (".jpg", ".jpeg")),
    "png": SourceFormat(PNG, "png", (".png",)),
    "webp": SourceFormat(WEBP, "webp", (".webp",)),
    "gif": SourceFormat(GIF, "gif", (".gif",)),
    "tiff": SourceFormat(TIFF, "tiff", (".tif", ".tiff")),
    "heif": SourceFormat(HEIF, "heif", (".heic", ".heif")),
    "avif": SourceFormat(AVIF, "avif", (".avif",)),
})  # fmt: skip
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def sniff_format(data: bytes) -> str:
    """The format the bytes say they are (Pillow's name). Raises NotAnImage for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return TIFF
    if data[4:8] == b"ftyp":
        return _iso_media_format(data)
    raise NotAnImage(f"not an image format we read: the data starts with {data[:8]!r}")


def _iso_media_format(data: bytes) -> str:
    """HEIF and AVIF share the ISO media file: its ftyp box names the major brand and the
    compatible ones; an AVIF may declare the generic 'mif1' first."""
    size = int.from_bytes(data[:4], "big")
    brands = {data[8:12]} | {data[i : i + 4] for i in range(16, min(size, 64), 4)}
    if brands & _AVIF_BRANDS:
        return AVIF
    if brands & _HEIF_BRANDS:
        return HEIF
    raise NotAnImage(f"an ISO media file of brand {data[8:12]!r}, not HEIF or AVIF")


def enabled(settings: Iterable[str]) -> frozenset[str]:
    """SOURCE_FORMATS' names -> Pillow's."""
    return frozenset(SOURCES[setting].name for setting in settings)


def suffixes(settings: Iterable[str]) -> tuple[str, ...]:
    return tuple(suffix for setting in settings for suffix in SOURCES[setting].suffixes)


def claimed_format(key: str, settings: Iterable[str]) -> str | None:
    """The source format a key's extension claims, among those enabled (bytes still decide)."""
    lowered = key.lower()
    return next((SOURCES[s].name for s in settings if lowered.endswith(SOURCES[s].suffixes)), None)


@dataclass(frozen=True, slots=True)
class OutputFormat:
    name: str
    content_type: str
    extensions: tuple[str, ...]  # the first is appended when a key's own extension says otherwise
    modes: frozenset[str]  # what the encoder is given; anything else is converted first
    animates: bool = False  # can hold an animation

    def save_options(self, encoding: Encoding) -> dict[str, Any]:
        if self.name == JPEG:
            return {"quality": encoding.jpeg_quality, "optimize": True}
        if self.name == PNG:
            return {"compress_level": encoding.png_compress_level}
        if self.name == WEBP:  # method 6: 1% fewer bytes for 1.4x the time
            return {"quality": encoding.webp_quality, "method": 4}
        if self.name == GIF:
            return {"optimize": False}
        # speed 6: 17 ms for a 256 px and 61 ms for a 1024 px thumbnail here; 4 takes 7-10x that
        # for 10-25% fewer bytes, 8 cannot reach JPEG 85's SSIM. Nobody waits on an upload.
        return {"quality": encoding.avif_quality, "speed": 6}


FORMATS = MappingProxyType({
    JPEG: OutputFormat(JPEG, "image/jpeg", (".jpg", ".jpeg"), frozenset({"L", "RGB"})),
    PNG: OutputFormat(PNG, "image/png", (".png",), frozenset({"L", "LA", "RGB", "RGBA"})),
    WEBP: OutputFormat(WEBP, "image/webp", (".webp",), frozenset({"RGB", "RGBA"}), animates=True),
    AVIF: OutputFormat(AVIF, "image/avif", (".avif",), frozenset({"RGB", "RGBA"})),
    GIF: OutputFormat(GIF, "image/gif", (".gif",), frozenset({"P", "L", "RGB", "RGBA"}), animates=True),
})  # fmt: skip


def source_output(source_format: str, alpha: bool, animated: bool) -> str:
    """What THUMBNAIL_FORMAT=source means for each source: its own format where browsers show
    it; an animated GIF stays GIF (when animation is kept), a still one becomes PNG; TIFF and
    HEIF, which browsers do not show, become JPEG, or PNG when they have alpha."""
    if source_format in JPEG_FAMILY:
        return JPEG
    if source_format in (PNG, WEBP, AVIF):
        return source_format
    if source_format == GIF:
        return GIF if animated else PNG
    return PNG if alpha else JPEG


def output_formats(
    source_format: str, encoding: Encoding, alpha: bool = False, animated: bool = False
) -> list[OutputFormat]:
    """The thumbnail formats for a source, in THUMBNAIL_FORMAT's order, each once."""
    names = [source_output(source_format, alpha, animated) if f == "source" else f.upper() for f in encoding.formats]
    return [FORMATS[name] for name in dict.fromkeys(names)]


def possible_outputs(settings: Iterable[str], encoding: Encoding) -> set[OutputFormat]:
    """Every format a thumbnail of a source in one of these formats may have: the keys a removal
    must look for without knowing the bytes."""
    found = set()
    for name in enabled(settings):
        for alpha in (False, True):
            for animated in (False, encoding.animated):
                found.update(output_formats(name, encoding, alpha, animated))
    return found


def encode(image: Image.Image, target: OutputFormat, encoding: Encoding) -> bytes:
    image = fit_mode(image, target, encoding.background)
    if target.name == PNG:  # libvips' encoder: half the time of Pillow's (pngs.py)
        return encode_png(image, encoding.png_compress_level)
    image.info = {}  # encoders fall back to info for ICC profiles and comments
    buffer = BytesIO()
    image.save(buffer, format=target.name, **target.save_options(encoding))
    return buffer.getvalue()


def encode_animation(
    frames: Sequence[Image.Image], durations: Sequence[int], loop: int, target: OutputFormat, encoding: Encoding
) -> bytes:
    """Every frame already composited and resized, RGB(A)."""
    first, *rest = [fit_mode(frame, target, encoding.background) for frame in frames]
    first.info = {}
    buffer = BytesIO()
    options = target.save_options(encoding)
    if target.name == GIF:
        options["disposal"] = 2  # each frame is whole: clear before drawing the next
    first.save(buffer, format=target.name, save_all=True, append_images=rest, duration=list(durations), loop=loop, **options)
    return buffer.getvalue()


def fit_mode(image: Image.Image, target: OutputFormat, background: tuple[int, int, int]) -> Image.Image:
    if image.mode in target.modes:
        return image
    if image.mode in ("LA", "RGBA") and image.mode[:-1] in target.modes and target.name == JPEG:
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
