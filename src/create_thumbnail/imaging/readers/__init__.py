"""Source readers: bytes -> the upright decoded image the imaging path resizes.

One module per source family, each a function with the same signature (Reader):

    load(data, boxes, max_pixels, budget) -> Loaded

  jpeg.py      JPEG (and MPO): libjpeg's draft scale, chosen from the largest box
  png.py       PNG: libvips, shrunk as it streams; the metadata after the pixels
  pillow.py    what Pillow decodes whole: WebP (still), GIF (first frame), TIFF, AVIF
  heif.py      HEIF: pi-heif registered on the first one, then as pillow.py
  animated.py  the frames of an animated GIF or WebP, when THUMBNAIL_ANIMATED keeps them
  pdf.py       PDF: the rule's page, rendered by PDFium at the size the largest box needs
  svg.py       SVG: rendered by resvg in a child process, nothing it names ever read
  raw.py       camera RAWs: the embedded JPEG preview that serves the boxes, through jpeg.py
  video.py     MP4, MOV, WebM: a poster frame, FFmpeg reading the object in ranges
  jxl.py       JPEG XL: libjxl on the first one, its header read first (jxl_header.py), an
               animation cut after its first frame (jxl_frames.py)

A reader with a choice a rule makes (a PDF's page) also takes the rule's Reading, keyword-only,
with the default choice as its default (ReaderTakingReading); registry.TAKES_READING names those
readers, and no other is handed it.

registry.py maps a sniffed format (sniff.py) to its reader: load_source. What every reader
shares is in one place, never repeated per reader: the header checks before any decoding and the
memory budget (checks.py), what a decoder raising about the bytes means (decoding.py), and the
EXIF orientation (orientation.py).

A video alone is not handed bytes but a RandomAccess (ranged.RangedFile: the object read in
ranges as its demuxer asks, the ranges fetched by the caller), or bytes where a caller has them.

A reader sees only bytes (or that file) and the limits: it imports nothing that does I/O, and nothing of the
pipeline, the lifecycle or storage (tests/unit/test_layout.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol, runtime_checkable

from PIL import Image

from create_thumbnail.config import Box, Reading
from create_thumbnail.imaging.budget import Budget


class Loaded(NamedTuple):
    image: Image.Image  # decoded (JPEG: at the draft scale), upright, in a resampling mode
    icc: bytes | None  # the embedded profile, which still describes image
    size: tuple[int, int]  # the source's own size, upright
    # What was read other than the Reading asked (a PDF too short for its page), for warn().
    notes: tuple[str, ...] = ()


@runtime_checkable
class RandomAccess(Protocol):
    """A source read only where its reader asks (ranged.RangedFile): a seekable binary file of
    size bytes, and its first bytes, which tell its format."""

    head: bytes
    size: int

    def read(self, size: int = -1, /) -> bytes: ...

    def seek(self, offset: int, whence: int = 0, /) -> int: ...

    def tell(self) -> int: ...


Source = bytes | RandomAccess


def head_of(data: Source) -> bytes:
    """The bytes a source's format is sniffed from."""
    return data.head if isinstance(data, RandomAccess) else data


class Reader(Protocol):
    def __call__(self, data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget) -> Loaded:
        """Decoded (scaled down as far as the largest box allows, where the decoder can),
        upright, in a mode fit for resampling (modes.py); plus the embedded ICC profile, which
        still describes these pixels, and the source's own size, upright. Nothing is decoded
        before the header shows that the image fits max_pixels and the budget (checks.py).
        What the decoder says about the bytes is NotAnImage, a bomb or memory ImageTooLarge."""
        ...


class ReaderTakingReading(Protocol):
    def __call__(
        self, data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget, *, reading: Reading = Reading()
    ) -> Loaded:
        """A Reader that also makes the choices reading asks for; what it read otherwise (a
        page past the document's end) it says in Loaded.notes, never silently."""
        ...
