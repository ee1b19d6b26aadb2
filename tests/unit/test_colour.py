"""Embedded profiles end up as sRGB pixels with no profile attached; junk and sRGB profiles change
nothing. Expected values come from LittleCMS applied to the source directly (the ground truth),
and each case also proves the naive reading (ignoring the profile) would be visibly wrong."""

from __future__ import annotations

from io import BytesIO

import pytest
from local_run.inputs.grid import decode
from local_run.inputs.icc_profiles import (
    ADOBE_RGB,
    PROPHOTO_RGB,
    cmyk_profile,
    grey_profile,
    reclassified,
    rgb_profile,
    tagless_rgb_profile,
)
from local_run.inputs.samples import encode
from PIL import Image, ImageCms

from create_thumbnail.config import Box
from create_thumbnail.imaging import make_thumbnails

BOX = Box(64, 64)
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def _thumbnail(data: bytes, warnings: list[str] | None = None) -> Image.Image:
    [thumbnail] = make_thumbnails(data, [BOX], 50_000_000, warn=(warnings if warnings is not None else []).append)
    image = decode(thumbnail.data)
    assert "icc_profile" not in image.info, "a thumbnail carries no profile: its pixels are sRGB"
    return image


def _truth(colour, mode: str, icc: bytes, out_mode: str = "RGB"):
    transform = ImageCms.buildTransform(ImageCms.ImageCmsProfile(BytesIO(icc)), SRGB, mode, out_mode)
    return ImageCms.applyTransform(Image.new(mode, (1, 1), colour), transform).getpixel((0, 0))


def _close(a, b, tolerance: int) -> bool:
    a, b = (a,) if isinstance(a, int) else a, (b,) if isinstance(b, int) else b
    return all(abs(x - y) <= tolerance for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(
    ("name", "space", "colour"),
    [("Adobe RGB (1998)", ADOBE_RGB, (40, 160, 90)), ("ProPhoto RGB", PROPHOTO_RGB, (90, 140, 60))],
)
@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_wide_gamut_rgb_is_converted_to_srgb(name, space, colour, image_format):
    icc = rgb_profile(name, space)
    data = encode(Image.new("RGB", (200, 100), colour), image_format, icc_profile=icc, quality=95)
    pixel = _thumbnail(data).getpixel((32, 16))
    stored = decode(data).getpixel((100, 50))  # what the file holds after JPEG's rounding
    expected = _truth(stored, "RGB", icc)
    assert _close(pixel, expected, 4), (pixel, expected)
    assert not _close(pixel, stored, 12), "looks as if the profile had been ignored"


def test_transparent_png_with_a_profile_keeps_its_alpha():
    icc = rgb_profile("Adobe RGB (1998)", ADOBE_RGB)
    image = Image.new("RGBA", (200, 100), (40, 160, 90, 128))
    result = _thumbnail(encode(image, "PNG", icc_profile=icc))
    assert result.mode == "RGBA"
    assert _close(result.getpixel((32, 16))[:3], _truth((40, 160, 90), "RGB", icc), 4)
    assert abs(result.getpixel((32, 16))[3] - 128) <= 1


@pytest.mark.parametrize("mode", ["L", "LA"])
def test_grey_profile_is_converted_and_stays_grey(mode):
    icc = grey_profile(gamma=1.0)  # linear: 128 means much lighter than sRGB's 128
    colour = 128 if mode == "L" else (128, 200)
    image = _thumbnail(encode(Image.new(mode, (120, 80), colour), "PNG", icc_profile=icc))
    assert image.mode == mode
    expected = _truth(128, "L", icc)[0]
    value = image.getpixel((10, 10)) if mode == "L" else image.getpixel((10, 10))[0]
    assert abs(value - expected) <= 2 and expected > 170
    if mode == "LA":
        assert image.getpixel((10, 10))[1] == 200


@pytest.mark.parametrize("with_profile", [True, False], ids=["cmyk-icc", "cmyk-no-icc"])
def test_cmyk_jpeg_becomes_rgb_with_the_right_colours(with_profile):
    """Pure magenta + yellow ink is red; with no profile Pillow's naive formula says the same."""
    options = {"icc_profile": cmyk_profile()} if with_profile else {}
    data = encode(Image.new("CMYK", (200, 100), (0, 255, 255, 0)), "JPEG", quality=95, **options)
    image = _thumbnail(data)
    assert image.mode == "RGB"
    assert _close(image.getpixel((32, 16)), (255, 0, 0), 12), image.getpixel((32, 16))


def test_cmyk_profile_colours_follow_the_profile_not_the_naive_formula():
    """50% of each ink: the naive formula gives mid grey; this profile's lut agrees, so the
    result must be a neutral grey near the LittleCMS value, proving the lut was applied."""
    icc = cmyk_profile()
    data = encode(Image.new("CMYK", (200, 100), (0, 0, 0, 128)), "JPEG", quality=95, icc_profile=icc)
    pixel = _thumbnail(data).getpixel((32, 16))
    assert _close(pixel, _truth((0, 0, 0, 128), "CMYK", icc), 6)


ADOBE = rgb_profile("Adobe RGB (1998)", ADOBE_RGB)


def _corrupt_description(icc: bytes) -> bytes:
    """The desc tag's text length made absurd: ImageCms reads it as a character out of range."""
    damaged = bytearray(icc)
    tag = damaged.index(b"desc", 200)
    damaged[tag + 12 : tag + 16] = b"\xec" * 4
    return bytes(damaged)

UNUSABLE = {
    "junk": (b"junk", "RGB", "it cannot be parsed"),
    "zeros": (b"\x00" * 200, "RGB", "it cannot be parsed"),
    "truncated": (ADOBE[:100], "RGB", "it cannot be parsed"),
    "device-link": (reclassified(ADOBE, b"link"), "RGB", "a 'link' profile describes no device's colours"),
    "abstract": (reclassified(ADOBE, b"abst"), "RGB", "a 'abst' profile describes no device's colours"),
    "cmyk-on-rgb": (cmyk_profile(), "RGB", "a CMYK profile does not describe RGB pixels"),
    "grey-on-rgb": (grey_profile(), "RGB", "a GRAY profile does not describe RGB pixels"),
    "rgb-on-grey": (ADOBE, "L", "a RGB profile does not describe L pixels"),
    "rgb-on-cmyk": (ADOBE, "CMYK", "a RGB profile does not describe CMYK pixels"),
    "no-colorants": (tagless_rgb_profile(), "RGB", "LittleCMS cannot build a transform from it"),
    # Found by the fuzz test: fields LittleCMS parses but Python cannot read back.
    "description-not-text": (_corrupt_description(ADOBE), "RGB", "its header cannot be read"),
    "colour-space-not-ascii": (cmyk_profile()[:16] + b"2\xee\x96\x1a" + cmyk_profile()[20:], "CMYK", "its header cannot be read"),
}
COLOURS = {"RGB": (40, 160, 90), "L": 90, "CMYK": (0, 255, 255, 0)}


@pytest.mark.parametrize("case", UNUSABLE)
def test_an_unusable_profile_is_ignored_with_the_reason_and_the_image_made_untagged(case):
    """As a browser does: the pixels are taken as sRGB (CMYK by the naive formula)."""
    icc, mode, reason = UNUSABLE[case]
    source = Image.new(mode, (200, 100), COLOURS[mode])
    warnings: list[str] = []
    got = _thumbnail(encode(source, "JPEG", icc_profile=icc, quality=95), warnings)
    untagged = _thumbnail(encode(source, "JPEG", quality=95))
    assert got.tobytes() == untagged.tobytes()
    [warning] = warnings
    assert warning.startswith(f"ICC profile ignored, image made as untagged sRGB: {reason}"), warning


def test_srgb_profile_leaves_pixels_alone_and_says_nothing():
    icc = SRGB.tobytes()
    warnings: list[str] = []
    with_icc = _thumbnail(encode(Image.new("RGB", (200, 100), (40, 160, 90)), "PNG", icc_profile=icc), warnings)
    without = _thumbnail(encode(Image.new("RGB", (200, 100), (40, 160, 90)), "PNG"))
    assert with_icc.tobytes() == without.tobytes()
    assert warnings == []
