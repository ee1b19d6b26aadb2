"""bytes -> thumbnails. Pillow, and libvips where it is faster (pngs.py, libvips.py): no I/O, no
boto3, no process-wide Pillow settings.

The order matters, each step depending on the one before:
  1. sniff the magic bytes (the extension may lie) and refuse a format SOURCE_FORMATS leaves out;
  2. open lazily and check the header (shape, pixels, JPEG scans, the memory budget: budget.py)
     before any decoding;
  3. JPEG only: ``draft`` to 1.5 times the largest target, so libjpeg decodes a 12 MP photo
     at 1/2, 1/4 or 1/8 scale (box sides swapped for EXIF orientations 5-8, which transpose);
  4. apply the EXIF orientation (after draft: transposing loads the pixels);
  5. normalise the mode (modes.py) so resampling is not nearest-neighbour and 16 bits are
     scaled, not clipped;
  6. check the embedded ICC profile against that mode: one that cannot be used is ignored, as
     browsers ignore it, and the caller is told why (colour.py);
  7. one rendition per box (renditions.py): fit boxes largest first, each smaller one from the
     smallest rendition that will do; cover boxes cropped where crop.py says;
  8. per rendition: the profile -> sRGB once, then one encode per output format, without EXIF,
     XMP or comments (formats.py): GPS tags must not travel with a shared thumbnail.
An animated GIF or WebP with THUMBNAIL_ANIMATED keeps its frames in GIF and WebP outputs
(animation.py); a multi-page TIFF and every other animated output get the first frame.

What a decoder says about the bytes (Pillow opening, drafting, seeking or loading them; pi-heif
and libavif through Pillow; libvips reading a PNG) is NotAnImage, or ImageTooLarge for a
decompression bomb or memory: a permanent failure of that object. Only the decoder calls are
wrapped (formats.decoding, pngs.py), one at a time, so that an error of our own between them,
or an encoder failing on pixels we made, is never taken for bad input: it propagates, and
the caller retries and counts it as the bug it is (libvips' failures as ImagingFailed).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from typing import Any, NamedTuple

from PIL import Image

from create_thumbnail import allocator
from create_thumbnail.animation import Animation, animate, within_limits
from create_thumbnail.budget import Budget, Header, check_memory, check_scans, check_shape, estimate_peak
from create_thumbnail.colour import to_srgb, usable_profile
from create_thumbnail.config import COVER, DEFAULT_SOURCE_FORMATS, Box, Encoding
from create_thumbnail.crop import Point
from create_thumbnail.errors import ImageTooLarge, NotAnImage
from create_thumbnail.formats import (
    HEIF,
    JPEG_FAMILY,
    PNG,
    SVG,
    OutputFormat,
    decoding,
    enabled,
    encode,
    encode_animation,
    output_formats,
    sniff_format,
)
from create_thumbnail.modes import resampling_mode
from create_thumbnail.pngs import decode_shrunk, trailing_metadata
from create_thumbnail.placeholders import Placeholder, placeholder
from create_thumbnail.renditions import Centre, centre_by, draft_size, resize_all

_ORIENTATION_TAG = 0x0112
_TRANSPOSING = range(2, 9)  # orientations that turn or flip the stored pixels
_SWAPPING = frozenset({5, 6, 7, 8})  # those that swap width and height
# What turns each orientation upright, as exif_transpose does (which would also rewrite the
# EXIF block, which no thumbnail carries); frames of an animation carry no EXIF of their own.
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# What Pillow's EXIF reader raises on a malformed block: SyntaxError for a header that is not
# TIFF's (a bad byte order mark), struct.error for a value shorter than its type. Nothing else
# came from reading the orientation of 7,331 images that open (the fuzz test's inputs for two
# master seeds, and random mutations of every seed); a truncated IFD Pillow reads as far as it
# goes, with a warning.
_BAD_EXIF = (SyntaxError, struct.error)


@dataclass(frozen=True, slots=True)
class Thumbnail:
    box: Box
    data: bytes
    format: str
    content_type: str
    width: int
    height: int
    extensions: tuple[str, ...] = ()
    frames: int = 1


@dataclass(frozen=True, slots=True)
class Rendered:
    """Everything one decode made: the thumbnails, the source's upright size, and the
    placeholder a page shows until a thumbnail arrives (from the smallest rendition)."""

    thumbnails: list[Thumbnail]
    source_size: tuple[int, int]
    placeholder: Placeholder


class Loaded(NamedTuple):
    image: Image.Image  # decoded (JPEG: at the draft scale), upright, in a resampling mode
    icc: bytes | None  # the embedded profile, which still describes image
    size: tuple[int, int]  # the source's own size, upright


def make_thumbnails(data: bytes, boxes: Sequence[Box], max_pixels: int, *args: Any, **options: Any) -> list[Thumbnail]:
    """make_renditions' thumbnails alone, for callers that need nothing else."""
    return make_renditions(data, boxes, max_pixels, *args, **options).thumbnails


def make_renditions(
    data: bytes,
    boxes: Sequence[Box],
    max_pixels: int,
    encoding: Encoding = Encoding(),
    warn: Callable[[str], None] = lambda note: None,
    budget: Budget = Budget(None),
    *,
    gravity: str = "attention",
    focal_point: Point | None = None,
    source_formats: Iterable[str] = DEFAULT_SOURCE_FORMATS,
) -> Rendered:
    """A thumbnail per box and output format, boxes in the order given, formats in
    THUMBNAIL_FORMAT's, all from one decode. warn hears what was made differently from the
    source (an ICC profile ignored, an animation kept as its first frame), with the reason;
    budget is the memory decoding may take (Budget(None): no limit but max_pixels). A cover box
    centres on focal_point if given, else where gravity says."""
    if not boxes:
        raise ValueError("no boxes to fit")
    source_format = _readable_format(data, source_formats)
    try:
        image, icc, source_size = load_source(data, boxes, max_pixels, budget)
        icc, problem = usable_profile(icc, image.mode)
        if problem:
            warn(problem)
        centre = centre_by(gravity, focal_point)
        animation = None if source_format == SVG else _animation(data, boxes, max_pixels, encoding, centre, warn, budget)
        targets = output_formats(source_format, encoding, image.mode in ("LA", "RGBA"), animation is not None)
        resized = resize_all(image, boxes, centre)
        del image  # the decode is the largest thing held: let it go before the encoders' buffers
        thumbnails = [
            thumbnail
            for box in boxes
            for thumbnail in _thumbnails(resized[box], box, icc, targets, encoding, animation)
        ]
        return Rendered(thumbnails, source_size, placeholder(to_srgb(_whole_picture(resized), icc)))
    except MemoryError:
        raise ImageTooLarge("ran out of memory decoding the image") from None


def _whole_picture(resized: dict[Box, Image.Image]) -> Image.Image:
    """The smallest rendition of the whole picture, whose shape a placeholder should have: a
    fit box's, unless every box is a cover crop."""
    whole = [image for box, image in resized.items() if box.fit != COVER] or list(resized.values())
    return min(whole, key=lambda image: image.width * image.height)


def _readable_format(data: bytes, source_formats: Iterable[str]) -> str:
    source_format = sniff_format(data)
    if source_format not in enabled(source_formats):
        raise NotAnImage(f"a {source_format} image, which SOURCE_FORMATS does not include")
    if source_format == HEIF:
        _register_heif()
    return source_format


def _register_heif() -> None:
    """pi-heif (libheif and libde265, decode only) is imported on the first HEIF, never at cold
    start: most functions never see one."""
    import pi_heif

    pi_heif.register_heif_opener()


def _animation(
    data: bytes, boxes: Sequence[Box], max_pixels: int, encoding: Encoding, centre: Centre,
    warn: Callable[[str], None], budget: Budget,
) -> Animation | None:
    if not encoding.animated:
        return None
    with decoding():
        image = Image.open(BytesIO(data))
    if image.format not in ("GIF", "WEBP"):
        return None
    with decoding():  # a GIF's decoder seeks through every frame to count them
        frames = getattr(image, "n_frames", 1)  # Pillow keeps the count: within_limits reads it again
    if frames < 2:
        return None
    problem = within_limits(image, boxes, encoding, max_pixels, budget.bytes)
    if problem:
        warn(problem)
        return None
    method = _TRANSPOSE.get(_orientation(image))
    return animate(data, boxes, centre, lambda frame: frame if method is None else frame.transpose(method))


def _thumbnails(
    image: Image.Image,
    box: Box,
    icc: bytes | None,
    targets: Sequence[OutputFormat],
    encoding: Encoding,
    animation: Animation | None,
) -> list[Thumbnail]:
    image = to_srgb(image, icc)
    made = []
    for target in targets:
        if animation is not None and target.animates:
            frames = [to_srgb(frame, icc) for frame in animation.frames[box]]
            data = encode_animation(frames, animation.durations, animation.loop, target, encoding)
        else:
            frames, data = [image], encode(image, target, encoding)
        made.append(Thumbnail(box, data, target.name, target.content_type, image.width, image.height,
                              target.extensions, len(frames)))  # fmt: skip
    return made


def load_source(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget = Budget(None)) -> Loaded:
    """Decoded (scaled down as far as the largest box allows: JPEG draft, PNG shrink-on-load),
    upright, in a mode fit for resampling; plus the embedded ICC profile, which still describes
    these pixels, and the source's own size. Nothing is decoded before the header shows that the
    image fits the limits and the budget."""
    if sniff_format(data) == SVG:  # rendered, not decoded: svg.py, imported with the first SVG
        from create_thumbnail import svg

        return svg.load(data, boxes, max_pixels, budget)
    with decoding():  # our own max_pixels check below stands in for Pillow's warning
        image = Image.open(BytesIO(data), formats=[sniff_format(data)])
    header = _check_header(image, data, max_pixels)
    full_size = image.size
    if image.format == PNG:
        image.info.update(trailing_metadata(data))  # what Pillow would find after the pixels
    orientation = _orientation(image)
    if image.format in JPEG_FAMILY:
        _draft(image, boxes, orientation)  # image.size is the drafted one from here on
    estimate = partial(estimate_peak, header, _decoded_size(image, boxes, orientation), boxes)
    _admit(estimate(orientation in _TRANSPOSING), budget, held=len(data))
    if image.format == PNG:
        return _png(data, boxes, full_size, orientation)
    with decoding():
        image.load()
    if (late := _orientation(image)) != orientation:  # TIFF: Pillow turned it already
        orientation = late
        _admit(estimate(orientation in _TRANSPOSING), budget, held=len(data))
    icc_profile = image.info.get("icc_profile") or None
    if orientation in _TRANSPOSING:
        image = image.transpose(_TRANSPOSE[orientation])
    upright = full_size[::-1] if orientation in _SWAPPING else full_size
    return Loaded(resampling_mode(image), icc_profile, upright)


def _admit(estimate: int, budget: Budget, held: int) -> None:
    """Refuse an image over the budget. One that comes near it gets the pages the allocator kept
    from earlier images handed back first: the budget does not count them (allocator.py)."""
    left = check_memory(estimate, budget, held)
    if left is not None and left < allocator.TRIM_THRESHOLD:
        allocator.release_freed_memory()


def _png(data: bytes, boxes: Sequence[Box], full_size: tuple[int, int], orientation: int) -> Loaded:
    """Through libvips (pngs.py), shrunk while it decodes to what the largest box needs, then
    turned upright by the orientation Pillow read, as every other format is."""
    image, icc = decode_shrunk(data, draft_size(full_size, _stored_boxes(boxes, orientation)))
    if orientation in _TRANSPOSING:
        image = image.transpose(_TRANSPOSE[orientation])
    upright = full_size[::-1] if orientation in _SWAPPING else full_size
    return Loaded(image, icc or None, upright)


def _stored_boxes(boxes: Sequence[Box], orientation: int) -> Sequence[Box]:
    """The boxes as the stored pixels see them: sides swapped where EXIF turns the image."""
    return [Box(box.height, box.width, box.fit) for box in boxes] if orientation in _SWAPPING else boxes


def _decoded_size(image: Image.Image, boxes: Sequence[Box], orientation: int) -> tuple[int, int]:
    """How many pixels the decode will hold: a PNG only its shrunk size, the rest in full (JPEG
    draft applies its scale before the estimate is asked: see load_source)."""
    if image.format != PNG:
        return image.size
    wanted = draft_size(image.size, _stored_boxes(boxes, orientation))
    factor = max(1, min(image.width // max(1, wanted[0]), image.height // max(1, wanted[1])))
    return -(-image.width // factor), -(-image.height // factor)


def _check_header(image: Image.Image, data: bytes, max_pixels: int) -> Header:
    """Shape, pixel count and scans, then what the header says decoding will cost."""
    check_shape(image.size)
    _check_pixels(image.size, max_pixels)
    if image.format in JPEG_FAMILY and image.info.get("progressive"):
        # Only a progressive JPEG can repeat scans over the same coefficients: libjpeg refuses
        # a sequential one whose component comes round again (tests/unit/test_budget.py), so
        # a baseline photo is spared the ~1 ms walk of its bytes.
        check_scans(data, image.size)
    return Header.of(image)


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"{width}x{height} is {width * height:,} pixels, over the limit of {max_pixels:,}"
        )


def _orientation(image: Image.Image) -> int:
    """The orientation as Pillow reads it, the same way for every format and decoder path: the
    EXIF block (a JPEG's APP1, a PNG's eXIf or EXIF text chunk, a WebP's, an AVIF's, a TIFF's
    own tags), else XMP's tiff:Orientation. pi-heif hands over a HEIF already turned, its
    orientation reset to 1. 1 when absent or unreadable: a broken EXIF block is not a broken
    image. A PNG's metadata is all in info by now (load_source adds what follows the pixels),
    and libvips decodes its pixels: PngImageFile.getexif would decode them all over again to
    look for late chunks, so the reading every other format's getexif ends in is called."""
    read = Image.Image.getexif if image.format == PNG else type(image).getexif
    try:
        value = read(image).get(_ORIENTATION_TAG, 1)
    except _BAD_EXIF:
        return 1
    return value if isinstance(value, int) and value in range(1, 9) else 1


def _draft(image: Image.Image, boxes: Sequence[Box], orientation: int) -> None:
    """Ask libjpeg for a 1/2, 1/4 or 1/8 scale decode that still serves every box."""
    wanted = draft_size(image.size, _stored_boxes(boxes, orientation))
    if wanted[0] < image.width and wanted[1] < image.height:
        with decoding():
            image.draft(None, wanted)
