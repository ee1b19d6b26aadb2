"""bytes -> thumbnails. Pure Pillow: no I/O, no boto3, no process-wide Pillow settings.

The order matters, each step depending on the one before:
  1. sniff the magic bytes (the extension may lie);
  2. open lazily and check the pixel count from the header, before any decoding;
  3. JPEG only: ``draft`` to 1.5 times the largest target, so libjpeg decodes a 12 MP photo
     at 1/2, 1/4 or 1/8 scale (box sides swapped for EXIF orientations 5-8, which transpose);
  4. apply the EXIF orientation (after draft: transposing loads the pixels);
  5. normalise the mode so resampling is not nearest-neighbour and 16 bits are scaled, not clipped
     (a 16-bit PNG's tRNS colour, which names one exact 16-bit value, becomes alpha);
  6. check the embedded ICC profile against that mode: one that cannot be used is ignored, as
     browsers ignore it, and the caller is told why (colour.py);
  7. resize, largest box first, each smaller box from the smallest rendition that still has
     1.5 times its pixels (three boxes cost little more than the largest alone);
  8. per thumbnail: the profile -> sRGB, then encode without EXIF, XMP or comments
     (formats.py): GPS tags must not travel with a shared thumbnail.

Whatever a hostile or broken file makes Pillow raise comes out as NotAnImage (or ImageTooLarge
for memory): a permanent failure of that object, never an untyped error that Lambda would retry
and dead-letter.
"""

from __future__ import annotations

import math
import struct
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache, partial
from io import BytesIO

from PIL import Image, ImageChops, ImageOps, UnidentifiedImageError

from create_thumbnail.budget import Budget, Header, check_memory, check_scans, check_shape, estimate_peak
from create_thumbnail.colour import to_srgb, usable_profile
from create_thumbnail.config import Box, Encoding
from create_thumbnail.errors import ImageTooLarge, NotAnImage
from create_thumbnail.formats import JPEG, PNG, OutputFormat, encode, output_format

_MAGIC = ((b"\xff\xd8\xff", JPEG), (b"\x89PNG\r\n\x1a\n", PNG))
_ORIENTATION_TAG = 0x0112
_TRANSPOSING = range(2, 9)  # orientations exif_transpose acts on
_TRANSPOSING_ORIENTATIONS = frozenset({5, 6, 7, 8})  # those that swap width and height
# Never resample from fewer than this many times the target's pixels per side: JPEG draft decodes
# at 1/2, 1/4 or 1/8 scale down to it, and smaller boxes are cut from larger renditions down to
# it; the resample does the rest. Measured on a 12 MP photo against a full decode + LANCZOS: 1.5 gives
# 54 dB PSNR (indistinguishable) and, for a 1024 box, decodes at 1/2 (60 ms) where
# Image.thumbnail's 2.0 misses 1/2 by 48 pixels and decodes all 12 MP (162 ms, +90 MB).
_GAP = 1.5
# What Pillow's decoders and EXIF parser raise on malformed files (found by the fuzz test in
# tests/fuzz/); any of them from make_thumbnails means the bytes are not an image we can read.
_UNDECODABLE = (
    UnidentifiedImageError,
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
)


@dataclass(frozen=True, slots=True)
class Thumbnail:
    box: Box
    data: bytes
    format: str
    content_type: str
    width: int
    height: int
    extensions: tuple[str, ...] = ()


def sniff_format(data: bytes) -> str:
    """The format the bytes say they are. Raises NotAnImage for anything but JPEG or PNG."""
    for magic, name in _MAGIC:
        if data.startswith(magic):
            return name
    raise NotAnImage(f"not a JPEG or PNG: the data starts with {data[:8]!r}")


def fit(size: tuple[int, int], box: Box) -> tuple[int, int]:
    """The largest size inside box with size's aspect ratio; never larger than size itself."""
    width, height = size
    if width <= box.width and height <= box.height:
        return size
    scale = min(box.width / width, box.height / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def make_thumbnails(
    data: bytes,
    boxes: Sequence[Box],
    max_pixels: int,
    encoding: Encoding = Encoding(),
    warn: Callable[[str], None] = lambda note: None,
    budget: Budget = Budget(None),
) -> list[Thumbnail]:
    """One thumbnail per box, in the order given, all from one decode. warn hears what was
    made differently from the source (an ICC profile ignored), with the reason; budget is the
    memory decoding may take (Budget(None): no limit but max_pixels)."""
    if not boxes:
        raise ValueError("no boxes to fit")
    target = output_format(sniff_format(data), encoding)
    try:
        image, icc = load_source(data, boxes, max_pixels, budget)
        icc, problem = usable_profile(icc, image.mode)
        if problem:
            warn(problem)
        resized = resize_all(image, boxes)
        return [_thumbnail(resized[box], box, icc, target, encoding) for box in boxes]
    except MemoryError:
        raise ImageTooLarge("ran out of memory decoding the image") from None
    except _UNDECODABLE as error:
        raise NotAnImage(f"could not decode the image: {type(error).__name__}: {error}") from None


def resize_all(image: Image.Image, boxes: Sequence[Box]) -> dict[Box, Image.Image]:
    """Largest target first; each later one resamples the smallest rendition made so far that
    still has _GAP times its size, so extra boxes cost a fraction of the first."""
    done: dict[Box, Image.Image] = {}
    for box in sorted(set(boxes), key=lambda b: fit(image.size, b), reverse=True):
        target = fit(image.size, box)
        sources = [im for im in done.values() if min(im.width / target[0], im.height / target[1]) >= _GAP]
        source = min(sources, key=lambda im: im.width, default=image)
        done[box] = _resize(source, target)
    return done


def _thumbnail(
    image: Image.Image, box: Box, icc: bytes | None, target: OutputFormat, encoding: Encoding
) -> Thumbnail:
    image = to_srgb(image, icc)
    return Thumbnail(
        box=box,
        data=encode(image, target, encoding),
        format=target.name,
        content_type=target.content_type,
        width=image.width,
        height=image.height,
        extensions=target.extensions,
    )


def load_source(
    data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget = Budget(None)
) -> tuple[Image.Image, bytes | None]:
    """Decoded (scaled down by JPEG draft as far as the largest box allows), upright, in a mode
    fit for resampling; plus the embedded ICC profile, which still describes these pixels.
    Nothing is decoded before the header shows that the image fits the limits and the budget."""
    with warnings.catch_warnings():
        # Our own max_pixels check below replaces Pillow's warning; its hard error (at twice
        # Image.MAX_IMAGE_PIXELS) still fires inside open() and is caught as too large.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(BytesIO(data), formats=[sniff_format(data)])
            header = _check_header(image, data, max_pixels)
            orientation = _orientation(image, decode=False)
            if image.format == JPEG:
                _draft(image, boxes, orientation)
            estimate = partial(estimate_peak, header, image.size, boxes)
            check_memory(estimate(orientation in _TRANSPOSING), budget, held=len(data))
            image.load()
        except Image.DecompressionBombError as error:
            raise ImageTooLarge(str(error)) from None
    if (late := _orientation(image, decode=True)) != orientation:  # a PNG's eXIf after its pixels
        orientation = late
        check_memory(estimate(orientation in _TRANSPOSING), budget, held=len(data))
    icc_profile = image.info.get("icc_profile") or None
    if orientation in _TRANSPOSING:
        image = ImageOps.exif_transpose(image)
    low_bytes = _low_bytes(data, orientation) if header.path == "RGB16+alpha" else None
    return _resampling_mode(image, low_bytes), icc_profile


def _check_header(image: Image.Image, data: bytes, max_pixels: int) -> Header:
    """Shape, pixel count and scans, then what the header says decoding will cost."""
    check_shape(image.size)
    _check_pixels(image.size, max_pixels)
    if image.format == JPEG:
        check_scans(data, image.size)
    return Header.of(image, sixteen_bit_rgb=_is_rgb16(image))


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"{width}x{height} is {width * height:,} pixels, over the limit of {max_pixels:,}"
        )


def _orientation(image: Image.Image, decode: bool) -> int:
    """EXIF orientation, 1 when absent or unreadable: a broken EXIF block is not a broken image.
    A PNG's getexif() decodes the image to look for an eXIf chunk after the pixels: without
    decode, only one before them is read."""
    if not decode and image.format == PNG and "exif" not in image.info:
        return 1
    try:
        value = image.getexif().get(_ORIENTATION_TAG, 1)
    except Exception:  # noqa: BLE001 - Pillow raises many types for malformed EXIF
        return 1
    return value if isinstance(value, int) else 1


def _draft(image: Image.Image, boxes: Sequence[Box], orientation: int) -> None:
    """Ask libjpeg for a 1/2, 1/4 or 1/8 scale decode that still covers the largest target."""
    width, height = image.size
    largest_w, largest_h = 0, 0
    for box in boxes:
        if orientation in _TRANSPOSING_ORIENTATIONS:
            box = Box(box.height, box.width)
        target_w, target_h = fit((width, height), box)
        largest_w, largest_h = max(largest_w, target_w), max(largest_h, target_h)
    if (largest_w, largest_h) != (width, height):
        image.draft(None, (math.ceil(largest_w * _GAP), math.ceil(largest_h * _GAP)))


def _resampling_mode(image: Image.Image, low_bytes: Image.Image | None = None) -> Image.Image:
    """Modes Pillow resamples well: L, LA, RGB, RGBA, CMYK. Palettes and bilevel would otherwise
    be resized nearest-neighbour, and 16-bit grey would be clipped to white by a plain convert.
    CMYK stays CMYK so that its profile (or the naive formula) turns it into sRGB afterwards.
    low_bytes: for a 16-bit RGB PNG with tRNS, its samples' low bytes (see _low_bytes)."""
    mode = image.mode
    transparent = image.info.get("transparency") is not None
    if mode.startswith("I;16"):
        return _high_bytes(image)
    if mode == "I":  # 16-bit samples widened to 32 bits by older decoders
        return image.point(_sixteen_to_eight_bits(), "L")
    if low_bytes is not None:
        return _with_key_alpha(image, low_bytes, _key(image, tuple))
    if mode in ("1", "L"):
        target = "LA" if transparent else "L"
    elif mode in ("P", "RGB"):
        target = "RGBA" if transparent else "RGB"
    elif mode in ("LA", "RGBA", "CMYK"):
        target = mode
    elif mode == "PA":
        target = "RGBA"
    else:  # CMYK, YCbCr, LAB, HSV
        target = "RGB"
    # convert() to the same mode still copies: 48 MB at 12 MP, 400 MB at 100 MP.
    return image if target == mode else image.convert(target)


@cache
def _sixteen_to_eight_bits() -> list[int]:
    return [value >> 8 for value in range(65536)]


def _high_bytes(image: Image.Image) -> Image.Image:
    """16-bit grey -> 8-bit by keeping each sample's high byte (v >> 8). Costs one copy of the
    raw bytes, where convert("I") would widen every pixel to 32 bits first. A tRNS value
    becomes alpha, matched on all 16 bits."""
    raw = image.tobytes()
    high, low = (0, 1) if image.mode == "I;16B" else (1, 0)
    grey = Image.frombytes("L", image.size, raw[high::2])
    key = _key(image, int)
    if key is None:
        return grey
    low_bytes = Image.frombytes("L", image.size, raw[low::2])
    del raw
    return _with_key_alpha(grey, low_bytes, (key,))


def _key(image: Image.Image, kind: type) -> tuple[int, ...] | int | None:
    """The tRNS colour of a 16-bit PNG (an int for grey, a tuple for RGB), if it has one."""
    key = image.info.get("transparency")
    return key if isinstance(key, kind) else None


def _is_rgb16(image: Image.Image) -> bool:
    """Pillow holds a 16-bit RGB PNG as 8-bit RGB; only the undecoded tile says it was 16."""
    return image.format == PNG and image.mode == "RGB" and any(t.args == "RGB;16B" for t in image.tile)


def _low_bytes(data: bytes, orientation: int) -> Image.Image:
    """A 16-bit RGB PNG decoded once more for the low byte of every sample (the same stream
    read as little-endian puts the low byte where Pillow keeps the high one), turned upright
    as the image was."""
    image = Image.open(BytesIO(data), formats=[PNG])
    image.tile = [tile._replace(args="RGB;16L") for tile in image.tile]
    image.load()
    return ImageOps.exif_transpose(image) if orientation in range(2, 9) else image


def _with_key_alpha(high: Image.Image, low: Image.Image, key: tuple[int, ...]) -> Image.Image:
    """high (L or RGB, the samples' high bytes) plus alpha 0 exactly where every 16-bit sample
    equals the key, as a PNG decoder that honours tRNS shows it. One band at a time, so that
    at most three single-byte planes exist beside the two images."""
    opaque_unless_all: Image.Image | None = None
    for index, sample in enumerate(key):
        for image, wanted in ((high, sample >> 8), (low, sample & 0xFF)):
            match = image.getchannel(index).point([255 if value == wanted else 0 for value in range(256)])
            opaque_unless_all = match if opaque_unless_all is None else ImageChops.multiply(opaque_unless_all, match)
    del low
    high.putalpha(ImageChops.invert(opaque_unless_all))  # L -> LA, RGB -> RGBA, in place
    high.info.pop("transparency", None)
    return high


def _resize(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if size == image.size:
        return image.copy()
    # reducing_gap: integer-factor reduce() first, then one resample. HAMMING, measured against a
    # full decode + LANCZOS (benchmarks/imaging_bench.py, 12 MP photo): 50.6 dB for the resize
    # alone and 40.0 dB after the q85 encode, where LANCZOS gives 54.0 and 40.3 at 2.5x the
    # resample time: the encoder loses more than the filter choice, and HAMMING keeps a 12 MP
    # JPEG at ~1.05x the libjpeg-turbo floor (LANCZOS: ~1.15x).
    return image.resize(size, Image.Resampling.HAMMING, reducing_gap=3.0)
