"""Which reader decodes each source format: the sniffed format (sniff.py) -> its reader.

Every format in formats.SOURCES has exactly one entry here (tests/unit/test_readers.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

from create_thumbnail.config import Box
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.formats import AVIF, GIF, HEIF, JPEG, PDF, PNG, RAW, SVG, TIFF, WEBP
from create_thumbnail.imaging.readers import Loaded, Reader, heif, jpeg, pdf, pillow, png, raw
from create_thumbnail.imaging.readers.sniff import sniff_format


def _svg(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget) -> Loaded:
    """readers/svg.py brings the XML parser and the fork's machinery: imported with the first SVG."""
    from create_thumbnail.imaging.readers import svg

    return svg.load(data, boxes, max_pixels, budget)


READERS: Mapping[str, Reader] = MappingProxyType({
    JPEG: jpeg.load,
    PNG: png.load,
    GIF: pillow.load,  # the first frame; readers/animated.py reads them all when they are kept
    WEBP: pillow.load,  # likewise
    TIFF: pillow.load,
    AVIF: pillow.load,
    HEIF: heif.load,
    PDF: pdf.load,  # the first page, rendered by PDFium (imported on the first PDF)
    SVG: _svg,  # rendered by resvg in a child process
    RAW: raw.load,  # the embedded JPEG preview, through jpeg.py; no demosaic
})  # fmt: skip


def load_source(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget = Budget(None)) -> Loaded:
    """Decoded (scaled down as far as the largest box allows: JPEG draft, PNG shrink-on-load),
    upright, in a mode fit for resampling; plus the embedded ICC profile, which still describes
    these pixels, and the source's own size. Nothing is decoded before the header shows that the
    image fits the limits and the budget."""
    return READERS[sniff_format(data)](data, boxes, max_pixels, budget)
