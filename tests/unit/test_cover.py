"""Crop-to-fill boxes (WIDTHxHEIGHT:cover): exactly the box for every source in the grid, every
EXIF orientation, never upscaled; centred on the object's focal point, else on where the
interesting part of the picture is (attention), else on the middle."""

from __future__ import annotations

import pytest
from local_run.inputs.grid import GRID_SOURCES, MORE_SOURCES, decode, oriented, source_bytes
from local_run.inputs.samples import encode
from PIL import Image, ImageDraw

from create_thumbnail.config import ALL_SOURCE_FORMATS, Box
from create_thumbnail.imaging import make_thumbnails
from create_thumbnail.imaging.crop import attention_centre, cover_region, cover_size, parse_focal_point

COVER = Box(150, 150, "cover")
SHAPES = {"wide": (300, 200), "tall": (200, 300), "square": (240, 240), "1xN": (1, 300)}
SOURCES = GRID_SOURCES + MORE_SOURCES


@pytest.mark.parametrize(
    ("image_format", "mode", "orientation"), oriented(SOURCES), ids=[f"{f}-{m}-{o}" for f, m, o in oriented(SOURCES)]
)
@pytest.mark.parametrize("shape", SHAPES)
def test_a_cover_box_is_exactly_the_box_unless_the_source_is_smaller(orientation, image_format, mode, shape):
    data = source_bytes(mode, SHAPES[shape], image_format, orientation)
    fit_box, cover_box = Box(256, 256), COVER
    thumbnails = make_thumbnails(data, [fit_box, cover_box], 50_000_000, source_formats=ALL_SOURCE_FORMATS)
    [cover] = [t for t in thumbnails if t.box == cover_box]
    expected = (1, 1) if shape == "1xN" else (150, 150)  # 1 pixel wide: a 1x1 crop, not upscaled
    assert (cover.width, cover.height) == decode(cover.data).size == expected


@pytest.mark.parametrize(
    ("size", "aspect", "centre", "region"),
    [((300, 200), (1, 1), (0.5, 0.5), (50, 0, 250, 200)), ((300, 200), (1, 1), (0.0, 0.5), (0, 0, 200, 200)),
     ((300, 200), (1, 1), (1.0, 0.3), (100, 0, 300, 200)), ((200, 300), (1, 1), (0.5, 0.9), (0, 100, 200, 300)),
     ((300, 200), (3, 1), (0.5, 0.2), (0, 0, 300, 100)), ((300, 200), (3, 2), (0.1, 0.1), (0, 0, 300, 200))],
)  # fmt: skip
def test_the_region_has_the_box_aspect_and_stays_inside_the_image(size, aspect, centre, region):
    assert cover_region(size, aspect, centre) == region


def test_a_crop_smaller_than_the_box_keeps_the_box_aspect_without_upscaling():
    assert cover_size((0, 0, 100, 100), (150, 150)) == (100, 100)
    assert cover_size((0, 0, 100, 50), (200, 100)) == (100, 50)
    assert cover_size((0, 0, 400, 400), (150, 150)) == (150, 150)


@pytest.mark.parametrize(("value", "point"), [("0.25,0.75", (0.25, 0.75)), (" 1 , 0 ", (1.0, 0.0)), ("0.5", None),
                                              ("a,b", None), ("1.5,0.5", None), (None, None)])  # fmt: skip
def test_focal_points_parse_or_are_refused(value, point):
    assert parse_focal_point(value) == point


def _scene(object_at: tuple[int, int], size: tuple[int, int] = (600, 300)) -> Image.Image:
    """A plain background with one small red disc: the only thing worth looking at."""
    image = Image.new("RGB", size, (120, 120, 120))
    x, y = object_at
    ImageDraw.Draw(image).ellipse((x - 25, y - 25, x + 25, y + 25), fill=(220, 30, 30))
    return image


@pytest.mark.parametrize("x", [40, 150, 300, 450, 560])
def test_attention_centres_the_crop_on_the_salient_object(x):
    centre = attention_centre(_scene((x, 150)), (1, 1))
    left, _, right, _ = cover_region((600, 300), (1, 1), centre)
    assert left <= x - 25 and x + 25 <= right


def _reddest_column(image: Image.Image) -> int:
    red = image.convert("RGB").split()[0]
    columns = [sum(red.crop((x, 0, x + 1, red.height)).tobytes()) for x in range(red.width)]
    return columns.index(max(columns))


@pytest.mark.parametrize("gravity", ["attention", "centre"])
def test_a_focal_point_wins_over_the_gravity(gravity):
    data = encode(_scene((560, 150)), "PNG")
    [left] = make_thumbnails(data, [COVER], 50_000_000, gravity=gravity, focal_point=(0.05, 0.5))
    [right] = make_thumbnails(data, [COVER], 50_000_000, gravity=gravity, focal_point=(0.95, 0.5))
    assert decode(left.data).convert("RGB").getpixel((140, 75)) == (120, 120, 120)  # disc not in view
    assert _reddest_column(decode(right.data)) > 75  # disc in the right half of the crop


def test_centre_gravity_ignores_the_object_and_attention_finds_it():
    data = encode(_scene((560, 150)), "PNG")
    [centre] = make_thumbnails(data, [COVER], 50_000_000, gravity="centre")
    [attention] = make_thumbnails(data, [COVER], 50_000_000, gravity="attention")
    assert max(decode(centre.data).convert("RGB").getchannel("R").tobytes()) < 200
    assert max(decode(attention.data).convert("RGB").getchannel("R").tobytes()) > 200
