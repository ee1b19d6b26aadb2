"""Pillow's RGB memory lent to libvips in place (arrow.py): the bytes are the image's own, not a
copy, and anything Pillow cannot lend as one run of RGBX bytes is refused, so the caller copies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from local_run.inputs.samples import photo
from PIL import Image

from create_thumbnail.arrow import borrow_rgbx


@contextmanager
def _block_size(size: int) -> Iterator[None]:
    """Pillow's block size is process-wide: set for the test, then put back."""
    before = Image.core.get_block_size()
    Image.core.set_block_size(size)
    try:
        yield
    finally:
        Image.core.set_block_size(before)


def test_the_lent_bytes_are_the_images_rgbx():
    image = photo((300, 200), seed=1)
    borrowed = borrow_rgbx(image)
    assert borrowed is not None
    assert bytes(borrowed.pixels) == image.tobytes("raw", "RGBX")


def test_the_lent_bytes_are_the_images_memory_not_a_copy():
    image = Image.new("RGB", (64, 48), (10, 20, 30))
    borrowed = borrow_rgbx(image)
    assert borrowed is not None
    image.putpixel((5, 2), (200, 150, 100))
    offset = 4 * (2 * 64 + 5)
    assert bytes(borrowed.pixels[offset : offset + 3]) == bytes((200, 150, 100))


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "I;16", "CMYK"])
def test_only_rgb_is_lent(mode):
    assert borrow_rgbx(Image.new(mode, (40, 30))) is None


def test_an_image_in_several_blocks_is_not_lent():
    with _block_size(1 << 20):
        split = Image.new("RGB", (1000, 1000))  # 4 MB: four blocks
        whole = Image.new("RGB", (400, 400))  # 640 KB: one
    assert borrow_rgbx(split) is None
    assert borrow_rgbx(whole) is not None
