"""PDF sources: the rule's page (the first by default), rendered by PDFium (pypdfium2) at the size
the largest box needs.

A page has no pixels of its own, so nothing is scaled down after a full-size decode: the scale is
chosen from the page's size in points (1/72 in, upright: PDFium applies /Rotate) so that the
bitmap just covers the largest box (a fit box's whole page, a cover box's crop), and never
more than MAX_SOURCE_PIXELS or a side of budget.MAX_SIDE. It is rendered onto white, as paper
is: the picture is opaque, and THUMBNAIL_FORMAT=source makes it a JPEG.

Only the rendering engine runs. No form environment is set up (init_forms is never called), so
PDFium runs no JavaScript and fills no forms; it fetches nothing over a network, and the other
pages are never loaded.

The page is Reading.page (PDF_PAGE, or a rule's "page"), counted from 1. A document with fewer
pages gives its last page, and says so in Loaded.notes (a warning on the record): the page is
chosen for every PDF under a prefix, and a rule that skips a cover page should not leave a
one-page document without any thumbnail, nor fail it permanently for something no retry or
re-upload of that document could change. The last page is the nearest to the one asked for.

What PDFium says about the bytes (pypdfium2's PdfiumError) is NotAnImage, or EncryptedDocument
when the document asks for a password to be opened; each call into PDFium is wrapped on its own
(_reading), so that an error of ours between them propagates as the bug it is.

Memory (docs/performance.md, "Memory budget"; benchmarks/pdf_bench.py measures it): PDFium's
bitmap (3 bytes a pixel) beside Pillow's copy, the bitmaps transparency groups render into,
PDFium's own state, and every image the page draws, read from its dictionary: PDFium decodes an
image whole and keeps it for the page when its decoded size is under 60 MB (kHugeImageSize),
streams larger ones row by row, and resamples each through a buffer as long as its longer side
by the length it is drawn at. What cannot be seen cheaply is not counted: images in patterns,
Type 3 glyphs, annotations' appearances and soft masks, and the content streams themselves,
held decompressed while the page is parsed.

pypdfium2 is imported on the first PDF, never at cold start.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from PIL import Image

from create_thumbnail.config import Box, Reading
from create_thumbnail.errors import EncryptedDocument, ImageTooLarge, NotAnImage
from create_thumbnail.imaging.budget import MAX_SIDE, Budget, Header, check_shape, estimate_peak
from create_thumbnail.imaging.readers.checks import admit
from create_thumbnail.imaging.renditions import box_scale

if TYPE_CHECKING:
    from create_thumbnail.imaging.readers import Loaded

# PDF's own limit is 14,400 units a side (ISO 32000, Annex C); UserUnit may make a unit larger,
# but PDFium ignores it and reports the box as written. A hundred times the limit (508 m) is
# beyond any drawing, and keeps the scale a float can hold; past it the box is a broken file's.
MAX_PAGE_POINTS = 14_400 * 100
# Peak bytes a rendered pixel costs beside Pillow's RGB image (the budget's "RGB" path): PDFium's
# 24-bit bitmap (3), and the 32-bit bitmaps a transparency group or soft mask is drawn into
# before it is composited (up to two at once, measured: benchmarks/pdf_bench.py).
_RENDER_BYTES_PER_PIXEL = 3.0 + 8.0
# PDFium's parser, font cache and renderer state for one document, whatever the page
# (benchmarks/pdf_bench.py: 0.4-2.2 MB for text and image pages), with room to spare.
_PDFIUM_FIXED_BYTES = 16 * 1024 * 1024
# An image PDFium decodes whole is kept for the page (CPDF_PageImageCache) while it is under
# kHugeImageSize decoded (60 MB); a larger one is streamed row by row. Either way its stretcher
# resamples one axis first, into a buffer of the other axis' source length by the drawn length
# (a 400 x 65,535 image drawn 723 px wide: 138 MB measured). Both counted at 4 bytes a pixel,
# the drawn length as the render's longer side (the image may be drawn turned).
_IMAGE_BYTES_PER_PIXEL = 4
_IMAGE_HELD_LIMIT = 60_000_000
# Form XObjects nest; PDFium draws up to its own limit, the objects walked for images go as deep.
_FORM_DEPTH = 15
# A scale a hair under the exact one, so that pypdfium2's ceil() of points x scale does not make
# a 256-pixel side 257 (a float product such as 256.00000000003) and the fit resample a blur.
_UNDER = 1 - 1e-7


def load(
    data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget, *, reading: Reading = Reading()
) -> Loaded:
    """reading's page (the last, if the document is shorter), upright, rendered onto white at the
    scale the boxes need, as RGB; no ICC profile (PDFium renders into sRGB, converting the page's
    own colour spaces itself); and that page's size in points as the source's size."""
    from create_thumbnail.imaging.readers import Loaded

    pdfium = _pdfium()
    document = _open(pdfium, data)
    try:
        with _reading(pdfium):
            pages = len(document)
        if pages < 1:
            raise NotAnImage("a PDF without pages")
        number, notes = page_to_render(reading.page, pages)
        with _reading(pdfium):
            page = document[number - 1]
        with _reading(pdfium):
            size = page.get_size()
        check_page(size)
        scale = render_scale(size, boxes, max_pixels)
        rendered = rendered_size(size, scale)
        check_shape(rendered)
        with _reading(pdfium):
            images = _image_sizes(page, pdfium)
        admit(estimate_render(rendered, boxes, images), budget, held=len(data))
        image = _render(page, scale, pdfium)
    finally:
        document.close()  # pages, bitmaps and the parsed objects go with it
    upright = (max(1, round(size[0])), max(1, round(size[1])))
    return Loaded(image, None, upright, notes)


def page_to_render(asked: int, pages: int) -> tuple[int, tuple[str, ...]]:
    """The page number (from 1) to render for the page asked, and why it is another, if it is."""
    if asked <= pages:
        return asked, ()
    pages_text = f"{pages:,} page{'s' if pages > 1 else ''}"
    return pages, (f"a PDF of {pages_text}: page {asked:,} was asked for, its last page rendered instead",)


def check_page(size: tuple[float, float]) -> None:
    """Refuse a page box with no area or sides no drawing has (see MAX_PAGE_POINTS)."""
    width, height = size
    if not (math.isfinite(width) and math.isfinite(height)) or width <= 0 or height <= 0:
        raise NotAnImage(f"a PDF page of {width:g} x {height:g} pt has no area")
    if max(width, height) > MAX_PAGE_POINTS:
        raise ImageTooLarge(f"a PDF page of {width:,.0f} x {height:,.0f} pt: a side over {MAX_PAGE_POINTS:,} pt")


def render_scale(page: tuple[float, float], boxes: Sequence[Box], max_pixels: int) -> float:
    """Pixels per point: the least that covers every box (a fit box's whole page, a cover box's
    crop of it), within max_pixels in all and MAX_SIDE a side, where the page then comes out
    smaller than the box, as a small image does."""
    width, height = page
    needed = max(box_scale(page, box) for box in boxes)
    return min(needed, _most_pixels(page, max_pixels), MAX_SIDE / max(width, height)) * _UNDER


def _most_pixels(page: tuple[float, float], max_pixels: int) -> float:
    """The largest scale whose bitmap, each side rounded up, holds at most max_pixels:
    (w s + 1)(h s + 1) = max_pixels, solved for s."""
    width, height = page
    area, perimeter = width * height, width + height
    return (math.sqrt(perimeter * perimeter + 4 * area * (max_pixels - 1)) - perimeter) / (2 * area)


def rendered_size(page: tuple[float, float], scale: float) -> tuple[int, int]:
    """The bitmap pypdfium2 makes for this scale (it rounds each side up)."""
    return max(1, math.ceil(page[0] * scale)), max(1, math.ceil(page[1] * scale))


def estimate_render(rendered: tuple[int, int], boxes: Sequence[Box], images: Sequence[tuple[int, int]]) -> int:
    """Peak bytes of rendering at this size and resizing for the boxes: the budget's RGB path for
    Pillow's copy and the resize, PDFium's bitmaps beside it, its state, and the page's images."""
    drawn = max(rendered)
    held = sum(
        min(_IMAGE_BYTES_PER_PIXEL * width * height, _IMAGE_HELD_LIMIT) + _IMAGE_BYTES_PER_PIXEL * drawn * max(width, height)
        for width, height in images
    )
    header = Header("RGB", 0, _RENDER_BYTES_PER_PIXEL, decoder_fixed_bytes=_PDFIUM_FIXED_BYTES + held)
    return estimate_peak(header, rendered, boxes, transposes=False)


def _pdfium() -> Any:
    """pypdfium2 on the first PDF: loading PDFium costs every other format nothing."""
    import pypdfium2

    return pypdfium2


@contextmanager
def _reading(pdfium: Any) -> Iterator[None]:
    """Around one call into PDFium: its complaint about the bytes is NotAnImage."""
    try:
        yield
    except pdfium.PdfiumError as error:
        raise NotAnImage(f"could not read the PDF: {error}") from error


def _open(pdfium: Any, data: bytes) -> Any:
    """The document, parsed from memory (PDFium reads the caller's bytes; no copy)."""
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as error:
        if getattr(error, "err_code", None) == pdfium.raw.FPDF_ERR_PASSWORD:
            raise EncryptedDocument("a PDF that needs a password to be opened") from error
        raise NotAnImage(f"could not read the PDF: {error}") from error


def _image_sizes(page: Any, pdfium: Any) -> list[tuple[int, int]]:
    """Width and height of every image the page draws, in Form XObjects too, read from the
    images' dictionaries without decoding them."""
    found = page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=_FORM_DEPTH)
    return [tuple(image.get_px_size()) for image in found]


def _render(page: Any, scale: float, pdfium: Any) -> Image.Image:
    """RGB onto white; forms are not drawn (none were initialised), annotations' appearances are,
    as a viewer shows them."""
    with _reading(pdfium):
        bitmap = page.render(scale=scale, may_draw_forms=False, rev_byteorder=True, fill_color=(255, 255, 255, 255))
    try:
        size = (bitmap.width, bitmap.height)
        return Image.frombytes("RGB", size, bitmap.buffer, "raw", "RGB", bitmap.stride, 1)  # a copy
    finally:
        bitmap.close()
