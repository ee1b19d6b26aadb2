"""Formats: which source formats there are (their SOURCE_FORMATS names and key suffixes), which
output formats a thumbnail gets, the modes each can hold, and how each is encoded. How bytes
announce a source format is readers/sniff.py's, which reader decodes it readers/registry.py's.

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
from create_thumbnail.imaging.libvips import failed, vips

JPEG, PNG, WEBP, AVIF, GIF, TIFF, HEIF = "JPEG", "PNG", "WEBP", "AVIF", "GIF", "TIFF", "HEIF"
PDF = "PDF"  # rendered by PDFium, not Pillow (readers/pdf.py)
# The sources that may hold frames to keep (THUMBNAIL_ANIMATED): every other is one picture.
ANIMATED_FORMATS = frozenset({GIF, WEBP})
SVG = "SVG"  # not Pillow's: rendered by readers/svg.py
RAW = "RAW"  # camera RAWs (DNG, CR2, NEF, ARW): their embedded JPEG preview (readers/raw.py)
VIDEO = "VIDEO"  # a poster frame, decoded by FFmpeg from ranged reads (readers/video.py)
JXL = "JXL"  # JPEG XL, decoded by libjxl, not through Pillow (readers/jxl.py)
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
    "pdf": SourceFormat(PDF, "pdf", (".pdf",)),
    "svg": SourceFormat(SVG, "svg", (".svg", ".svgz")),
    "raw": SourceFormat(RAW, "raw", (".dng", ".cr2", ".nef", ".arw")),
    # Not .ts: a bucket's TypeScript sources would each be fetched, to fail as not a video.
    "video": SourceFormat(VIDEO, "video", (".mp4", ".m4v", ".mov", ".webm", ".mkv", ".avi", ".mts", ".m2ts", ".3gp")),
    "jxl": SourceFormat(JXL, "jxl", (".jxl",)),
})  # fmt: skip


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
    HEIF, which browsers do not show, become JPEG, or PNG when they have alpha; a PDF page is
    rendered onto white, as paper, so it is JPEG; an SVG (rendered with transparency) becomes PNG;
    a camera RAW's preview is a JPEG, and stays one; a video's frame, opaque, JPEG; a JPEG XL,
    which browsers do not broadly show, JPEG, or PNG with alpha."""
    if source_format in JPEG_FAMILY or source_format == PDF:
        return JPEG
    if source_format in (PNG, WEBP, AVIF):
        return source_format
    if source_format == GIF:
        return GIF if animated else PNG
    if source_format == SVG:
        return PNG
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
    if target.name == PNG:  # libvips' encoder: half the time of Pillow's (encode_png)
        return encode_png(image, encoding.png_compress_level)
    image.info = {}  # encoders fall back to info for ICC profiles and comments
    buffer = BytesIO()
    image.save(buffer, format=target.name, **target.save_options(encoding))
    return buffer.getvalue()


def encode_animation(
    frames: Sequence[Image.Image], durations: Sequence[int], loop: int, target: OutputFormat, encoding: Encoding
) -> bytes:
    """Every frame already composited and resized, RGB(A)."""
    fitted = [fit_mode(frame, target, encoding.background) for frame in frames]
    durations = list(durations)
    options = target.save_options(encoding)
    if target.name == GIF:
        options["disposal"] = 2  # each frame is whole: clear before drawing the next
        fitted, durations = _gif_delays(fitted, durations)
    first, *rest = fitted
    first.info = {}
    buffer = BytesIO()
    first.save(buffer, format=target.name, save_all=True, append_images=rest, duration=durations, loop=loop, **options)
    return buffer.getvalue()


# A GIF frame's delay is 16 bits of centiseconds: 655.35 s at most. A WebP source's may be 16,777 s,
# and Pillow's GIF writer merges a frame into the one before when they are the same, adding their
# delays: a hundred identical frames of 10 s each are one frame of 1,000 s, which it cannot write
# (OverflowError). Clamped to the most the field holds, merged or not: a still that long is
# already longer than anyone waits.
_GIF_MAX_DELAY_MS = 65_535 * 10


def _gif_delays(frames: list[Image.Image], durations: list[int]) -> tuple[list[Image.Image], list[int]]:
    """The frames and delays to give Pillow's GIF writer: every delay clamped, and, when the
    delays could add up past the field, the frames it would merge merged here first, with their
    delays added and clamped. It merges a frame equal to the one before once both are reduced to
    a palette, compared as RGBA (or, with the same palette, as indices, which is never looser):
    the same reduction here, so it finds nothing left to merge."""
    durations = [min(max(0, duration), _GIF_MAX_DELAY_MS) for duration in durations]
    if sum(durations) <= _GIF_MAX_DELAY_MS:  # no run of frames can add up past the field
        return frames, durations
    kept: list[Image.Image] = []
    delays: list[int] = []
    previous = b""
    for frame, duration in zip(frames, durations, strict=True):
        reduced = _as_gif_sees_it(frame)
        if kept and reduced == previous:
            delays[-1] = min(delays[-1] + duration, _GIF_MAX_DELAY_MS)
            continue
        kept.append(frame)
        delays.append(duration)
        previous = reduced
    return kept, delays


def _as_gif_sees_it(frame: Image.Image) -> bytes:
    """The frame's pixels after the palette reduction Pillow's GIF writer makes (an adaptive
    palette for RGB and RGBA; L, P and 1 are written as they are), as RGBA."""
    reduced = frame.convert("P", palette=Image.Palette.ADAPTIVE) if frame.mode in ("RGB", "RGBA") else frame
    return reduced.convert("RGBA").tobytes()


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


# Thumbnails written as PNG leave through libvips, at level 3, with every row "up"-filtered (each
# byte less the one above it). One filter for every row, measured on 1024 px thumbnails (ms, KB),
# against libpng's per-row choice among the five ("all") and against none, which libvips and
# sharp write by default:
#
#     input                  none         all          up
#     RGB photo-like         34.7  1547   44.9   701   22.0   726
#     RGBA photo-like        46.5  1801   66.6  1190   36.2  1220
#     RGBA logo               2.3    12   20.1     6    4.5     6
#     text screenshot         4.7   136   15.4   143    6.8   159
#
# "up" is twice as fast as "all" for 1–4% more bytes on photos, the same on flat graphics, 11% more
# on text; unfiltered doubles a photo's bytes. Pillow's encoder took 108 ms for a 1024 px RGB PNG.
_PIXELS_PER_MM_AT_72_DPI = 72 / 25.4


def encode_png(image: Image.Image, level: int) -> bytes:
    """An L, LA, RGB or RGBA image as a PNG: "up" filters, zlib level, no metadata but the
    pHYs chunk libvips always writes, set to the customary 72 dpi (its default would say 25.4).
    The pixels are ours: libvips failing on them is ImagingFailed, not the source's fault."""
    pyvips = vips()
    try:
        width, height, bands = image.width, image.height, len(image.mode)
        pixels = pyvips.Image.new_from_memory(image.tobytes(), width, height, bands, "uchar")
        pixels = pixels.copy(xres=_PIXELS_PER_MM_AT_72_DPI, yres=_PIXELS_PER_MM_AT_72_DPI)
        return pixels.write_to_buffer(".png", compression=level, filter="up", keep="none")
    except pyvips.Error as error:
        raise failed("writing a PNG", error) from error
