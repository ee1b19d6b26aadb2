"""Pillow's RGB memory lent to libvips in place (arrow.py): the bytes are the image's own, not a
copy, they stay valid for as long as anything holds them, and anything Pillow cannot lend as one
run of RGBX bytes is refused, so the caller copies."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from local_run.inputs.samples import photo
from PIL import Image

from create_thumbnail.imaging.arrow import borrow_rgbx
from create_thumbnail.imaging.libvips import vips


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


# Run in a child process: reading freed memory may end in SIGSEGV, which must fail the test, not
# take pytest down. The libvips image outlives the call that lent it the pixels; every other
# reference to the Pillow image goes with that call, and new images of another colour are made
# to take the memory it would have freed.
_OUTLIVES = """
import gc
from PIL import Image
from create_thumbnail.imaging.arrow import borrow_rgbx
from create_thumbnail.imaging.libvips import vips
{make}
expected = Image.new("RGB", (512, 512), (10, 20, 30)).tobytes()
made = lent_to_libvips()
gc.collect()
others = [Image.new("RGB", (512, 512), (200, 100, 50)) for _ in range(50)]
print("same" if made.extract_band(0, n=3).write_to_memory() == expected else "different")
"""
_THROUGH_ARROW = """
def lent_to_libvips():
    image = Image.new("RGB", (512, 512), (10, 20, 30))
    lent = borrow_rgbx(image)
    return vips().Image.new_from_memory(lent.pixels, 512, 512, 4, "uchar")
"""
_THROUGH_LIBVIPS = """
from create_thumbnail.imaging.libvips import rgb_image
def lent_to_libvips():
    return rgb_image(Image.new("RGB", (512, 512), (10, 20, 30)))
"""


@pytest.mark.parametrize("make", [_THROUGH_ARROW, _THROUGH_LIBVIPS], ids=["arrow", "libvips"])
def test_a_libvips_image_keeps_the_lent_pixels_alive_after_the_lender_is_gone(make):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.run(
        [sys.executable, "-c", _OUTLIVES.format(make=make)], capture_output=True, text=True, timeout=120, env=env
    )
    assert child.returncode == 0, f"the child ended with {child.returncode}: {child.stderr[-1500:]}"
    assert child.stdout.strip() == "same"


def test_the_lent_memory_goes_back_once_nothing_holds_it():
    """Owning is not leaking: once the libvips image goes, so does the Pillow image it held."""
    image = Image.new("RGB", (256, 256), (10, 20, 30))
    gone = weakref.ref(image)
    lent = borrow_rgbx(image)
    assert lent is not None
    made = vips().Image.new_from_memory(lent.pixels, 256, 256, 4, "uchar").reduce(2, 2)
    del image, lent
    gc.collect()
    assert gone() is not None, "the libvips image lost the memory its pixels live in"
    assert made.getpoint(3, 3)[:3] == [10, 20, 30]
    del made
    gc.collect()
    assert gone() is None, "the Pillow image outlived everything that used it"
