"""Which resampler makes each rendition, and what libvips' makes: the exact size, the same geometry
as Pillow's, the quality of a full decode + LANCZOS."""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tracemalloc

import pytest
from local_run.inputs.samples import photo, textured
from PIL import Image, ImageChops, ImageDraw, ImageStat

from create_thumbnail.config import COVER, Box
from create_thumbnail.imaging import libvips, renditions
from create_thumbnail.imaging.libvips import resample_rgb
from create_thumbnail.imaging.renditions import fit, resampled_by_libvips, resize_all


def _psnr(image: Image.Image, reference: Image.Image) -> float:
    rms = ImageStat.Stat(ImageChops.difference(image, reference)).rms
    mse = sum(value * value for value in rms) / len(rms)
    return 10 * math.log10(255**2 / mse)


@pytest.mark.parametrize(
    ("size", "target", "expected"),
    [
        ((2000, 1500), (1024, 768), True),  # a 12 MP JPEG drafted at 1/2 for a 1024 px box
        ((1500, 1000), (1024, 683), True),  # 24 MP at 1/4
        ((3000, 2000), (1024, 683), True),  # 2.93x
        ((1000, 750), (512, 384), True),
        ((750, 500), (256, 171), False),  # below 0.7 MP the copies cost what the SIMD saves
        ((4000, 3000), (1024, 768), False),  # 3.9x: the kernel's taps outgrow the gain
        ((2000, 1500), (2000, 1500), False),  # nothing to resample
    ],
)
def test_libvips_takes_large_images_shrunk_by_up_to_three(size, target, expected):
    assert resampled_by_libvips(size, target) is expected


def test_every_fit_box_from_a_large_rgb_decode_is_exactly_its_size():
    """libvips rounds width / (width / target) back to the target, for every target tried."""
    image = photo((1001, 799), seed=5)
    for side in range(340, 1000, 13):
        box = Box(side, side)
        target = fit(image.size, box)
        assert resampled_by_libvips(image.size, target)
        assert resize_all(image, [box])[box].size == target


def test_a_thin_line_lands_where_pixel_centres_put_it():
    """Pixel centres at half-integers, as Pillow has them: a one-pixel line at row or column p
    of n comes out at (p + 0.5) * m / n - 0.5 of m, to a twentieth of a pixel. A half-pixel shift
    would move every edge of every thumbnail."""
    image = Image.new("RGB", (1600, 1200), "black")
    draw = ImageDraw.Draw(image)
    draw.line([(533, 0), (533, 1199)], fill="white")
    draw.line([(0, 400), (1599, 400)], fill="white")
    target = (700, 525)
    resized = resample_rgb(image, target).convert("L")

    def centre(axis: int) -> float:
        # A strip across the line that the other line does not cross.
        across = (0, 0, resized.width, 100) if axis == 0 else (0, 0, 100, resized.height)
        strip = resized.crop(across)
        sums = [0.0] * resized.size[axis]
        for index, value in enumerate(strip.get_flattened_data()):
            sums[index % strip.width if axis == 0 else index // strip.width] += value
        return sum(i * s for i, s in enumerate(sums)) / sum(sums)

    assert centre(0) == pytest.approx((533 + 0.5) * 700 / 1600 - 0.5, abs=0.05)
    assert centre(1) == pytest.approx((400 + 0.5) * 525 / 1200 - 0.5, abs=0.05)


def test_libvips_resamples_as_well_as_pillow_against_a_full_lanczos():
    image = photo((2000, 1500), seed=2)
    target = (1024, 768)
    reference = image.resize(target, Image.Resampling.LANCZOS)
    ours = _psnr(resample_rgb(image, target), reference)
    assert ours > 45
    assert ours >= _psnr(image.resize(target, Image.Resampling.HAMMING), reference) - 0.5


def test_only_large_rgb_fit_renditions_go_to_libvips(monkeypatch):
    """From the decode or from a rendition, if 0.7 MP or more; grey, alpha, cover crops and
    small sources are Pillow's."""
    sent = []

    def recording(image: Image.Image, size: tuple[int, int]) -> Image.Image:
        sent.append((image.mode, image.size, size))
        return resample_rgb(image, size)

    monkeypatch.setattr(renditions, "resample_rgb", recording)
    rgb = photo((2000, 1500), seed=3)
    boxes = [Box(1024, 1024), Box(512, 512), Box(256, 256), Box(300, 300, COVER)]
    made = resize_all(rgb, boxes)
    # 512 from the 1024 px rendition (0.79 MP); 256 from the 512 px one (0.2 MP), by Pillow.
    assert sent == [("RGB", (2000, 1500), (1024, 768)), ("RGB", (1024, 768), (512, 384))]
    assert [made[box].size for box in boxes] == [(1024, 768), (512, 384), (256, 192), (300, 300)]
    for mode in ("L", "RGBA", "LA"):
        sent.clear()
        resize_all(rgb.convert(mode), boxes[:2])
        assert sent == []


def test_resample_rgb_refuses_other_modes():
    with pytest.raises(ValueError, match="RGB, not RGBA"):
        resample_rgb(Image.new("RGBA", (10, 10)), (5, 5))


def test_lent_and_copied_pixels_resample_alike(monkeypatch):
    """libvips reads Pillow's RGBX in place where Pillow lends it (arrow.py), else a packed RGB
    copy: the same bytes come back either way."""
    image = photo((2000, 1500), seed=3)
    lent = resample_rgb(image, (1024, 768))
    monkeypatch.setattr(libvips, "borrow_rgbx", lambda image: None)
    assert lent.tobytes() == resample_rgb(image, (1024, 768)).tobytes()


def test_a_lent_image_is_not_copied_for_libvips():
    """The packed copy would be 3 bytes a pixel (9 MB here); what Python allocates is the
    resampled image coming back (2.4 MB)."""
    image = photo((2000, 1500), seed=3)
    tracemalloc.start()
    try:
        resample_rgb(image, (1024, 768))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 3 * 2000 * 1500 / 2


def test_libvips_is_loaded_by_the_first_large_resample_not_at_cold_start():
    """A function making small boxes from JPEGs never pays for loading libvips."""
    probe = """
import sys
from io import BytesIO
from PIL import Image
import create_thumbnail.app
from create_thumbnail.config import Box
from create_thumbnail.imaging import make_thumbnails
def jpeg(size):
    buffer = BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(buffer, "JPEG")
    return buffer.getvalue()
loaded = ["pyvips" in sys.modules]
make_thumbnails(jpeg((1600, 1200)), [Box(256, 256)], 50_000_000)
loaded.append("pyvips" in sys.modules)
make_thumbnails(jpeg((1600, 1200)), [Box(1024, 1024)], 50_000_000)
loaded.append("pyvips" in sys.modules)
print(loaded)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})  # fmt: skip
    assert done.stdout.strip() == "[False, False, True]"


def test_smaller_boxes_keep_fine_detail_when_cut_from_a_rendition():
    """Each smaller box is cut from a rendition, not the source: with detail at every scale,
    reduce() to the last factor and HAMMING measured 39.3 and 39.4 dB here against the source +
    LANCZOS; libvips' cubic (512 px, from the 1024 px rendition) and BICUBIC (256 px, from the
    512 px one) 43.7 and 44.8."""
    image = textured((2000, 1500), seed=5)
    boxes = [Box(1024, 1024), Box(512, 512), Box(256, 256)]
    made = resize_all(image, boxes)
    for box in boxes[1:]:
        assert _psnr(made[box], image.resize(made[box].size, Image.Resampling.LANCZOS)) > 43
