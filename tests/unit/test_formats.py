"""THUMBNAIL_FORMAT and the per-format settings, decoded back from the bytes."""

from __future__ import annotations

import pytest
from local_run.inputs.grid import decode, source_bytes
from local_run.inputs.samples import encode
from PIL import Image, PngImagePlugin

from create_thumbnail.config import Box, Encoding
from create_thumbnail.imaging import make_thumbnails
from create_thumbnail.naming import destination_key

BOX = Box(100, 100)


def _one(data: bytes, encoding: Encoding):
    [thumbnail] = make_thumbnails(data, [BOX], 50_000_000, encoding)
    return thumbnail, decode(thumbnail.data)


@pytest.mark.parametrize(
    ("setting", "source", "expected"),
    [
        ("source", "JPEG", "JPEG"),
        ("source", "PNG", "PNG"),
        ("jpeg", "PNG", "JPEG"),
        ("png", "JPEG", "PNG"),
        ("webp", "JPEG", "WEBP"),
        ("avif", "PNG", "AVIF"),
    ],
)
def test_output_format_follows_the_setting_and_the_sniffed_source(setting, source, expected):
    thumbnail, image = _one(source_bytes("RGB", (200, 300), source, orientation=6), Encoding(formats=(setting,)))
    assert image.format == expected == thumbnail.format
    assert thumbnail.content_type == Image.MIME[expected]
    assert max(image.size) == 100 and image.height > image.width  # EXIF 6 applied


@pytest.mark.parametrize("setting", ["png", "webp", "avif"])
def test_transparency_survives_in_formats_that_have_it(setting):
    _, image = _one(source_bytes("RGBA", (300, 200), "PNG"), Encoding(formats=(setting,)))
    assert image.mode == "RGBA"
    assert image.getpixel((90, 60))[3] < 20 and image.getpixel((2, 2))[3] > 230


@pytest.mark.parametrize(("mode", "source"), [("RGBA", "PNG"), ("LA", "PNG"), ("P+alpha", "PNG")])
def test_jpeg_output_composites_transparency_onto_the_background(mode, source):
    encoding = Encoding(formats=("jpeg",), background=(250, 20, 20))
    _, image = _one(source_bytes(mode, (300, 200), source), encoding)
    assert image.mode in ("RGB", "L")
    corner = image.convert("RGB").getpixel((90, 60))
    if image.mode == "RGB":
        assert corner[0] > 220 and corner[1] < 60, corner  # the background, not black
    else:
        assert abs(corner[0] - round(0.299 * 250 + 0.587 * 20 + 0.114 * 20)) <= 3


def test_default_background_is_white():
    _, image = _one(source_bytes("RGBA", (300, 200), "PNG"), Encoding(formats=("jpeg",)))
    assert min(image.getpixel((90, 60))) > 245


@pytest.mark.parametrize(
    ("field", "low", "high", "setting"),
    [("jpeg_quality", 30, 95, "jpeg"), ("webp_quality", 30, 95, "webp"), ("avif_quality", 30, 90, "avif")],
)
def test_quality_settings_reach_the_encoder(field, low, high, setting):
    data = source_bytes("RGB", (600, 400), "JPEG")
    small, _ = _one(data, Encoding(formats=(setting,), **{field: low}))
    large, _ = _one(data, Encoding(formats=(setting,), **{field: high}))
    assert len(small.data) < len(large.data)


def test_png_compress_level_reaches_the_encoder():
    data = source_bytes("RGB", (600, 400), "PNG")
    fast, _ = _one(data, Encoding(png_compress_level=0))
    small, _ = _one(data, Encoding(png_compress_level=9))
    assert len(small.data) < len(fast.data)


def _chunks(png: bytes) -> list[bytes]:
    chunks, position = [], 8
    while position < len(png):
        length = int.from_bytes(png[position : position + 4], "big")
        chunks.append(png[position + 4 : position + 8])
        position += 12 + length
    return chunks


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "P"])
def test_a_png_thumbnail_carries_its_pixels_and_no_metadata_of_the_sources(mode):
    """libvips writes pHYs whatever it is told: at 72 dpi, not its default 25.4 (1 pixel a mm)."""
    source = Image.new(mode, (300, 200))
    exif = Image.Exif()
    exif[0x010E] = "a description"
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "from the camera")
    data = encode(source, "PNG", exif=exif, pnginfo=info, dpi=(300, 300))
    thumbnail, decoded = _one(data, Encoding())
    assert _chunks(thumbnail.data) == [b"IHDR", b"pHYs", b"IDAT", b"IEND"]
    assert decoded.info == {"dpi": pytest.approx((72, 72), abs=0.01)}
    assert decoded.mode == {"P": "RGB"}.get(mode, mode)


@pytest.mark.parametrize(
    ("key", "setting", "source", "expected"),
    [
        ("a/b.jpg", "source", "JPEG", "100x100/a/b.jpg"),
        ("a/b.JPEG", "jpeg", "JPEG", "100x100/a/b.JPEG"),
        ("a/b.jpg", "webp", "JPEG", "100x100/a/b.jpg.webp"),
        ("a/b.png", "avif", "PNG", "100x100/a/b.png.avif"),
        ("misnamed.jpg", "source", "PNG", "100x100/misnamed.jpg.png"),
    ],
)
def test_destination_key_names_the_thumbnail_format(key, setting, source, expected):
    thumbnail, _ = _one(source_bytes("RGB", (300, 200), source), Encoding(formats=(setting,)))
    assert destination_key(key, thumbnail.box, thumbnail.extensions) == expected
