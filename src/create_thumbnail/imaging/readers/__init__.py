"""Source readers: bytes -> the upright decoded image the imaging path resizes.

One module per source family, each a function with the same signature (Reader):

    load(data, boxes, max_pixels, budget) -> Loaded

  jpeg.py      JPEG (and MPO): libjpeg's draft scale, chosen from the largest box
  png.py       PNG: libvips, shrunk as it streams; the metadata after the pixels
  pillow.py    what Pillow decodes whole: WebP (still), GIF (first frame), TIFF, AVIF
  heif.py      HEIF: pi-heif registered on the first one, then as pillow.py
  animated.py  the frames of an animated GIF or WebP, when THUMBNAIL_ANIMATED keeps them
  pdf.py       PDF: the first page, rendered by PDFium
  svg.py       SVG: rendered by resvg in a child process, nothing it names read

registry.py maps a sniffed format (sniff.py) to its reader: load_source. What every reader
shares is in one place, never repeated per reader: the header checks before any decoding and the
memory budget (checks.py), what a decoder raising about the bytes means (decoding.py), and the
EXIF orientation (orientation.py).

A reader sees only bytes and the limits: it imports nothing that does I/O, and nothing of the
pipeline, the lifecycle or storage (tests/unit/test_layout.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from PIL import Image

from create_thumbnail.config import Box
from create_thumbnail.imaging.budget import Budget


class Loaded(NamedTuple):
    image: Image.Image  # decoded (JPEG: at the draft scale), upright, in a resampling mode
    icc: bytes | None  # the embedded profile, which still describes image
    size: tuple[int, int]  # the source's own size, upright


class Reader(Protocol):
    def __call__(self, data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget) -> Loaded:
        """Decoded (scaled down as far as the largest box allows, where the decoder can),
        upright, in a mode fit for resampling (modes.py); plus the embedded ICC profile, which
        still describes these pixels, and the source's own size, upright. Nothing is decoded
        before the header shows that the image fits max_pixels and the budget (checks.py).
        What the decoder says about the bytes is NotAnImage, a bomb or memory ImageTooLarge."""
        ...
