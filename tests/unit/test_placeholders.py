"""Our BlurHash and ThumbHash encoders against the reference implementations (the `blurhash`
and `thumbhash` packages, dev tools only): the same strings for the same pixels, and what their
decoders make of ours looks like the image."""

from __future__ import annotations

import base64

import blurhash as reference_blurhash
import pytest
import thumbhash as reference_thumbhash
from local_run.inputs.samples import photo, transparent_logo
from PIL import Image

from create_thumbnail.imaging.placeholders import blurhash, dominant_color, placeholder, thumbhash

SHAPES = [(16, 12), (12, 16), (16, 16), (24, 7), (1, 9)]


def _rows(image: Image.Image) -> list[list[list[int]]]:
    rgb = image.convert("RGB")
    return [[list(rgb.getpixel((x, y))) for x in range(rgb.width)] for y in range(rgb.height)]


@pytest.mark.parametrize("size", SHAPES)
@pytest.mark.parametrize("seed", range(3))
def test_blurhash_is_the_reference_string(size, seed):
    image = photo(size, seed=seed) if min(size) > 2 else Image.new("RGB", size, (20 * seed, 90, 200))
    assert blurhash(image) == reference_blurhash.encode(_rows(image), 4, 3)


@pytest.mark.parametrize("size", [(16, 12), (12, 16), (16, 16), (24, 7), (24, 18), (100, 100)])
@pytest.mark.parametrize("seed", range(3))
def test_opaque_thumbhash_is_the_reference_bytes(size, seed):
    """Photo-like pixels: a flat colour can land a value on .5, where the Python port rounds to
    even and the JavaScript reference (which browsers decode with) rounds up; we round up."""
    image = photo(size, seed=seed).convert("RGBA")
    expected = bytes(reference_thumbhash.rgba_to_thumb_hash(image.width, image.height, list(image.tobytes())))
    assert base64.b64decode(thumbhash(image)) == expected


def test_on_a_tie_thumbhash_rounds_as_the_javascript_reference_does():
    """(200, 30, 10): red - green is 2/3, so 31.5 + 31.5 x 2/3 = 52.5; Math.round gives 53."""
    data = base64.b64decode(thumbhash(Image.new("RGBA", (4, 4), (200, 30, 10, 255))))
    header24 = data[0] | data[1] << 8 | data[2] << 16
    assert (header24 >> 12) & 63 == 53


def test_a_transparent_thumbhash_decodes_to_the_images_colour_and_alpha():
    """The reference encoder fails on alpha (round() of a tuple), so alpha is held to its
    decoder: the average colour and alpha it reads back are the image's."""
    image = transparent_logo((24, 16)).convert("RGBA")
    red, green, blue, alpha = reference_thumbhash.thumb_hash_to_average_rgba(list(base64.b64decode(thumbhash(image))))
    pixels = list(image.get_flattened_data())
    mean_alpha = sum(p[3] for p in pixels) / len(pixels) / 255
    weighted = [sum(p[i] * p[3] for p in pixels) / sum(p[3] for p in pixels) / 255 for i in range(3)]
    assert abs(alpha - mean_alpha) < 0.07
    assert all(abs(got - want) < 0.06 for got, want in zip((red, green, blue), weighted, strict=True))


def test_the_reference_decoder_draws_our_blurhash_like_the_image():
    image = Image.new("RGB", (16, 12), (200, 40, 40))
    image.paste((40, 60, 220), (8, 0, 16, 12))  # left red, right blue
    decoded = reference_blurhash.decode(blurhash(image), 16, 12)
    left, right = decoded[6][2], decoded[6][13]
    assert left[0] > left[2] + 60 and right[2] > right[0] + 60


def test_dominant_colour_is_the_largest_area_and_ignores_transparent_pixels():
    image = Image.new("RGBA", (40, 40), (10, 200, 30, 255))
    image.paste((250, 250, 0, 255), (0, 0, 40, 12))
    assert dominant_color(image) in ("#0ac81e", "#0ac81f", "#0bc81e", "#0ac71e", "#08c81e", "#0ac820", "#0cc81c")
    clear = Image.new("RGBA", (40, 40), (250, 0, 0, 0))
    clear.paste((0, 0, 250, 255), (0, 0, 10, 10))
    assert dominant_color(clear).startswith("#0000f")


def test_the_three_fit_in_s3_metadata():
    metadata = placeholder(photo((256, 192), seed=5)).as_metadata()
    assert set(metadata) == {"blurhash", "thumbhash", "dominant-color"}
    assert sum(len(k) + len(v) for k, v in metadata.items()) < 200 and all(v.isascii() for v in metadata.values())


@pytest.mark.parametrize("mode", ["RGB", "L"])
@pytest.mark.parametrize("size", [(256, 192), (255, 191), (3, 900), (25, 19), (1, 1)])
def test_an_opaque_image_shrunk_first_gives_what_its_rgba_copy_gives(mode, size):
    """placeholder() shrinks an RGB or L thumbnail before adding alpha: the strings must be
    those of the RGBA copy it used to shrink."""
    image = photo(size, seed=7).convert(mode) if min(size) > 2 else Image.new(mode, size, 120)
    assert placeholder(image) == placeholder(image.convert("RGBA"))
