"""What every reader checks before it decodes a pixel, in one place: the shape and pixel count
from the header, a progressive JPEG's scans, and the memory the decode will take against the
budget (budget.py has the limits and the estimates)."""

from __future__ import annotations

from io import BytesIO

from PIL import Image

from create_thumbnail.errors import ImageTooLarge
from create_thumbnail.imaging import allocator
from create_thumbnail.imaging.budget import Budget, Header, check_memory, check_scans, check_shape
from create_thumbnail.imaging.formats import JPEG_FAMILY
from create_thumbnail.imaging.readers.decoding import decoding
from create_thumbnail.imaging.readers.sniff import sniff_format


def open_checked(data: bytes, max_pixels: int) -> tuple[Image.Image, Header]:
    """Opened lazily by Pillow as the format the bytes announce, nothing decoded yet; its
    header checked (check_header)."""
    with decoding():  # our own max_pixels check below stands in for Pillow's warning
        image = Image.open(BytesIO(data), formats=[sniff_format(data)])
    return image, check_header(image, data, max_pixels)


def check_header(image: Image.Image, data: bytes, max_pixels: int) -> Header:
    """Shape, pixel count and scans, then what the header says decoding will cost."""
    check_shape(image.size)
    check_pixels(image.size, max_pixels)
    if image.format in JPEG_FAMILY and image.info.get("progressive"):
        # Only a progressive JPEG can repeat scans over the same coefficients: libjpeg refuses
        # a sequential one whose component comes round again (tests/unit/test_budget.py), so
        # a baseline photo is spared the ~1 ms walk of its bytes.
        check_scans(data, image.size)
    return Header.of(image)


def check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    width, height = size
    if width * height > max_pixels:
        raise ImageTooLarge(
            f"{width}x{height} is {width * height:,} pixels, over the limit of {max_pixels:,}"
        )


def admit(estimate: int, budget: Budget, held: int) -> None:
    """Refuse an image over the budget. One that comes near it gets the pages the allocator kept
    from earlier images handed back first: the budget does not count them (allocator.py)."""
    left = check_memory(estimate, budget, held)
    if left is not None and left < allocator.TRIM_THRESHOLD:
        allocator.release_freed_memory()
