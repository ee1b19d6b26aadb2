"""Which reader decodes each source format: the sniffed format (sniff.py) -> its reader.

Every format in formats.SOURCES has exactly one entry here (tests/unit/test_readers.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from create_thumbnail.config import Box, Reading
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.formats import AVIF, GIF, HEIF, JPEG, JXL, PDF, PNG, RAW, SVG, TIFF, VIDEO, WEBP
from create_thumbnail.imaging.readers import (
    Loaded,
    RandomAccess,
    Reader,
    ReaderTakingReading,
    Source,
    head_of,
    heif,
    jpeg,
    pdf,
    pillow,
    png,
)
from create_thumbnail.imaging.readers.sniff import sniff_format


def _svg(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget) -> Loaded:
    """readers/svg.py brings the XML parser and the fork's machinery: imported with the first SVG."""
    from create_thumbnail.imaging.readers import svg

    return svg.load(data, boxes, max_pixels, budget)


def _video(
    data: Source, boxes: Sequence[Box], max_pixels: int, budget: Budget, *, reading: Reading = Reading()
) -> Loaded:
    """readers/video.py, imported with the first video (it imports PyAV only then)."""
    from create_thumbnail.imaging.readers import video

    return video.load(data, boxes, max_pixels, budget, reading=reading)


def _raw(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget) -> Loaded:
    """readers/raw.py and its TIFF walk, imported with the first camera RAW: a JPEG's cold start
    does not pay for them."""
    from create_thumbnail.imaging.readers import raw

    return raw.load(data, boxes, max_pixels, budget)


def _jxl(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget) -> Loaded:
    """readers/jxl.py, its header and frame readers, imported with the first JPEG XL (it imports
    pillow-jxl-plugin, from its layer, only then)."""
    from create_thumbnail.imaging.readers import jxl

    return jxl.load(data, boxes, max_pixels, budget)


READERS: Mapping[str, Reader] = MappingProxyType({
    JPEG: jpeg.load,
    PNG: png.load,
    GIF: pillow.load,  # the first frame; readers/animated.py reads them all when they are kept
    WEBP: pillow.load,  # likewise
    TIFF: pillow.load,
    AVIF: pillow.load,
    HEIF: heif.load,
    PDF: pdf.load,  # the rule's page, rendered by PDFium (imported on the first PDF)
    SVG: _svg,  # rendered by resvg in a child process
    RAW: _raw,  # the embedded JPEG preview, through jpeg.py; no demosaic
    VIDEO: _video,  # a poster frame, FFmpeg reading the object in ranges (PyAV, from its layer)
    JXL: _jxl,  # libjxl through pillow-jxl-plugin, from its layer; an animation's first frame
})  # fmt: skip

# The readers with a choice a rule makes, handed its Reading (a PDF's page); each is its format's
# entry in READERS too, where, called without one, it makes the default choice.
TAKES_READING: Mapping[str, ReaderTakingReading] = MappingProxyType({PDF: pdf.load, VIDEO: _video})


def load_source(
    data: Source, boxes: Sequence[Box], max_pixels: int, budget: Budget = Budget(None), reading: Reading = Reading()
) -> Loaded:
    """Decoded (scaled down as far as the largest box allows: JPEG draft, PNG shrink-on-load),
    upright, in a mode fit for resampling; plus the embedded ICC profile, which still describes
    these pixels, and the source's own size. Nothing is decoded before the header shows that the
    image fits the limits and the budget. reading reaches only the readers in TAKES_READING;
    a RandomAccess only the video reader (any other format is read whole by its caller)."""
    source_format = sniff_format(head_of(data))
    if source_format in TAKES_READING:
        return TAKES_READING[source_format](data, boxes, max_pixels, budget, reading=reading)  # type: ignore[arg-type]
    if isinstance(data, RandomAccess):
        raise TypeError(f"a {source_format} source is read whole, not in ranges")
    return READERS[source_format](data, boxes, max_pixels, budget)
