"""bytes -> thumbnails. Pillow, and libvips where it is faster (readers/png.py, libvips.py): no
I/O, no boto3, no process-wide Pillow settings.

The order matters, each step depending on the one before:
  1. sniff the magic bytes (the extension may lie: readers/sniff.py) and refuse a format
     SOURCE_FORMATS leaves out;
  2. the format's reader (readers/registry.py) opens lazily and checks the header (shape,
     pixels, JPEG scans, the memory budget: readers/checks.py, budget.py) before any decoding;
  3. JPEG only: ``draft`` to 1.5 times the largest target, so libjpeg decodes a 12 MP photo
     at 1/2, 1/4 or 1/8 scale (box sides swapped for EXIF orientations 5-8, which transpose;
     readers/jpeg.py); a PNG is shrunk by libvips as it streams (readers/png.py);
  4. apply the EXIF orientation (after draft: transposing loads the pixels; readers/orientation.py);
  5. normalise the mode (modes.py) so resampling is not nearest-neighbour and 16 bits are
     scaled, not clipped;
  6. check the embedded ICC profile against that mode: one that cannot be used is ignored, as
     browsers ignore it, and the caller is told why (colour.py);
  7. one rendition per box (renditions.py): fit boxes largest first, each smaller one from the
     smallest rendition that will do; cover boxes cropped where crop.py says;
  8. per rendition: the profile -> sRGB once, then one encode per output format, without EXIF,
     XMP or comments (formats.py): GPS tags must not travel with a shared thumbnail.
Steps 2 to 5 are the reader's: they end in the Loaded the rest of the path starts from. An
animated GIF or WebP with THUMBNAIL_ANIMATED keeps its frames in GIF and WebP outputs
(readers/animated.py); a multi-page TIFF and every other animated output get the first frame.

What a decoder says about the bytes (Pillow opening, drafting, seeking or loading them; pi-heif
and libavif through Pillow; libvips reading a PNG) is NotAnImage, or ImageTooLarge for a
decompression bomb or memory: a permanent failure of that object. Only the decoder calls are
wrapped (readers/decoding.py, readers/png.py), one at a time, so that an error of our own between
them, or an encoder failing on pixels we made, is never taken for bad input: it propagates, and
the caller retries and counts it as the bug it is (libvips' failures as ImagingFailed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from create_thumbnail.config import COVER, DEFAULT_SOURCE_FORMATS, Box, Encoding, Reading
from create_thumbnail.errors import ImageTooLarge, NotAnImage
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.colour import to_srgb, usable_profile
from create_thumbnail.imaging.crop import Point
from create_thumbnail.imaging.formats import (
    ANIMATED_FORMATS,
    OutputFormat,
    enabled,
    encode,
    encode_animation,
    output_formats,
)
from create_thumbnail.imaging.placeholders import Placeholder, placeholder
from create_thumbnail.imaging.readers.animated import Animation, read_animation
from create_thumbnail.imaging.readers import Source, head_of
from create_thumbnail.imaging.readers.registry import load_source
from create_thumbnail.imaging.readers.sniff import sniff_format
from create_thumbnail.imaging.renditions import centre_by, resize_all


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


def make_thumbnails(data: bytes, boxes: Sequence[Box], max_pixels: int, *args: Any, **options: Any) -> list[Thumbnail]:
    """make_renditions' thumbnails alone, for callers that need nothing else."""
    return make_renditions(data, boxes, max_pixels, *args, **options).thumbnails


def make_renditions(
    data: Source,
    boxes: Sequence[Box],
    max_pixels: int,
    encoding: Encoding = Encoding(),
    warn: Callable[[str], None] = lambda note: None,
    budget: Budget = Budget(None),
    *,
    gravity: str = "attention",
    focal_point: Point | None = None,
    source_formats: Iterable[str] = DEFAULT_SOURCE_FORMATS,
    reading: Reading = Reading(),
) -> Rendered:
    """A thumbnail per box and output format, boxes in the order given, formats in
    THUMBNAIL_FORMAT's, all from one decode. warn hears what was made differently from the
    source or the rule (an ICC profile ignored, an animation kept as its first frame, a PDF
    shorter than its page), with the reason; budget is the memory decoding may take
    (Budget(None): no limit but max_pixels). A cover box centres on focal_point if given, else
    where gravity says; reading is what the rule asks of a reader (a PDF's page)."""
    if not boxes:
        raise ValueError("no boxes to fit")
    source_format = _readable_format(head_of(data), source_formats)
    try:
        image, icc, source_size, notes = load_source(data, boxes, max_pixels, budget, reading)
        for note in notes:
            warn(note)
        icc, problem = usable_profile(icc, image.mode)
        if problem:
            warn(problem)
        centre = centre_by(gravity, focal_point)
        # Only a GIF or a WebP has frames; any other source (a PDF's page) is never reopened as one.
        animated = source_format in ANIMATED_FORMATS
        animation = (read_animation(data, boxes, max_pixels, encoding, centre, warn, budget)  # type: ignore[arg-type]
                     if animated else None)  # fmt: skip
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
    return source_format


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
