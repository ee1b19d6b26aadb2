"""The source formats SOURCE_FORMATS can add (WebP, AVIF, HEIF, TIFF, GIF) through the same grid
as JPEG and PNG: every EXIF orientation, each mode their encoders write, alpha kept where the
output format has it; and each format refused with its reason when it is not enabled."""

from __future__ import annotations

import pytest
from local_run.inputs.grid import MORE_SOURCES, TRANSPARENT, decode, oriented, source_bytes

from create_thumbnail.config import ALL_SOURCE_FORMATS, Box
from create_thumbnail.errors import NotAnImage
from create_thumbnail.imaging import make_thumbnails
from create_thumbnail.imaging.formats import source_output
from create_thumbnail.imaging.readers.sniff import sniff_format
from tests.unit.test_imaging import BOX, MAX_PIXELS, _assert_marker_top_left, _assert_same_picture

SHAPES = {"wide": (300, 200), "tall": (200, 300)}


@pytest.mark.parametrize(
    ("image_format", "mode", "orientation"), oriented(MORE_SOURCES), ids=[f"{f}-{m}-{o}" for f, m, o in oriented(MORE_SOURCES)]
)
@pytest.mark.parametrize("shape", SHAPES)
def test_more_formats_fit_keep_aspect_and_stand_upright(orientation, image_format, mode, shape):
    size = SHAPES[shape]
    data = source_bytes(mode, size, image_format, orientation)
    assert sniff_format(data) == image_format
    [thumbnail] = make_thumbnails(data, [BOX], MAX_PIXELS, source_formats=ALL_SOURCE_FORMATS)
    image = decode(thumbnail.data)
    alpha = mode in TRANSPARENT
    assert image.format == thumbnail.format == source_output(image_format, alpha, animated=False)
    assert (image.width, image.height) == (thumbnail.width, thumbnail.height)
    width, height = size
    scale = min(BOX.width / width, BOX.height / height)
    assert abs(image.width - width * scale) <= 1 and abs(image.height - height * scale) <= 1
    if alpha:
        assert image.mode in ("LA", "RGBA")
    _assert_marker_top_left(image, mode)
    _assert_same_picture(image, mode, size)


@pytest.mark.parametrize(("image_format", "setting"), [("WEBP", "webp"), ("AVIF", "avif"), ("HEIF", "heif"), ("TIFF", "tiff"), ("GIF", "gif")])
def test_a_format_left_out_of_source_formats_is_refused_by_name(image_format, setting):
    data = source_bytes("RGB" if image_format != "GIF" else "P", (120, 80), image_format)
    with pytest.raises(NotAnImage, match=f"a {image_format} image, which SOURCE_FORMATS does not include"):
        make_thumbnails(data, [BOX], MAX_PIXELS)
    enabled = ("jpeg", "png", setting)
    assert make_thumbnails(data, [BOX], MAX_PIXELS, source_formats=enabled)


def test_a_multi_page_tiff_gives_its_first_page():
    from local_run.inputs.samples import encode
    from PIL import Image

    pages = [Image.new("RGB", (200, 100), colour) for colour in ((200, 20, 20), (20, 200, 20))]
    data = encode(pages[0], "TIFF", save_all=True, append_images=pages[1:])
    [thumbnail] = make_thumbnails(data, [Box(50, 50)], MAX_PIXELS, source_formats=ALL_SOURCE_FORMATS)
    assert decode(thumbnail.data).convert("RGB").getpixel((10, 10))[0] > 150
