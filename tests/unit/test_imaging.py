"""Imaging grid: orientation x mode x shape, each output decoded again and checked for size,
aspect ratio, uprightness (the marker block back in the top-left), mode and metadata."""

from __future__ import annotations

import math
import struct
import zlib

import pytest
from local_run.inputs.grid import GRID_SOURCES, TRANSPARENT, decode, source_bytes, upright
from local_run.inputs.samples import encode, photo, png_chunk, store_with_orientation
from PIL import Image, ImageChops, ImageDraw, ImageOps, ImageStat

from create_thumbnail.config import Box
from create_thumbnail.errors import ImageTooLarge, NotAnImage
from create_thumbnail.imaging import make_thumbnails
from create_thumbnail.imaging.modes import resampling_mode as _resampling_mode
from create_thumbnail.imaging.readers.registry import load_source
from create_thumbnail.imaging.readers.sniff import sniff_format
from create_thumbnail.imaging.renditions import fit, resize_all
from tests.corpus import broken_exif_jpeg, png_declaring

BOX = Box(100, 100)
MAX_PIXELS = 50_000_000
SOURCES = GRID_SOURCES
SHAPES = {"wide": (300, 200), "tall": (200, 300), "square": (240, 240), "1xN": (1, 300)}
OUTPUT_MODES = {"JPEG": {"L", "RGB"}, "PNG": {"L", "LA", "RGB", "RGBA"}}


def _one(data: bytes, box: Box = BOX) -> tuple[Image.Image, bytes]:
    [thumbnail] = make_thumbnails(data, [box], MAX_PIXELS)
    image = decode(thumbnail.data)
    assert (image.width, image.height) == (thumbnail.width, thumbnail.height)
    return image, thumbnail.data


def _luma_alpha(image: Image.Image, xy: tuple[int, int]) -> tuple[float, int]:
    pixel = image.convert("RGBA").getpixel(xy)
    return 0.299 * pixel[0] + 0.587 * pixel[1] + 0.114 * pixel[2], pixel[3]


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize(("image_format", "mode"), SOURCES, ids=[f"{f}-{m}" for f, m in SOURCES])
@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_thumbnail_fits_keeps_aspect_and_stands_upright(orientation, image_format, mode, shape):
    size = SHAPES[shape]
    image, data = _one(source_bytes(mode, size, image_format, orientation))

    assert image.format == image_format
    assert image.mode in OUTPUT_MODES[image_format]
    assert image.width <= BOX.width and image.height <= BOX.height
    width, height = size  # the upright size: EXIF turned the stored pixels back
    scale = min(BOX.width / width, BOX.height / height, 1)  # the exact, unrounded fit
    assert abs(image.width - width * scale) <= 1 and abs(image.height - height * scale) <= 1
    assert max(image.size) == min(max(size), BOX.width)  # fills the box on its long side
    assert not image.getexif() and b"Exif\x00\x00" not in data
    if mode in TRANSPARENT:
        assert image.mode in ("LA", "RGBA")
    if shape != "1xN":
        _assert_marker_top_left(image, mode)
        _assert_same_picture(image, mode, size)


def _assert_same_picture(image: Image.Image, mode: str, size: tuple[int, int]) -> None:
    """Visibly the same picture: close, pixel by pixel, to the upright source scaled directly."""
    source = upright(mode.removesuffix("+icc"), size)
    if mode.startswith("I;16"):  # what a viewer shows: 16-bit values scaled to 8 bits
        source = source.convert("I").point(lambda value: value / 256).convert("L")
    reference = source.convert("RGBA")
    if mode.endswith("+tRNS"):  # the background (the bottom-right pixel) is the tRNS key
        rgb = source.convert("RGB")
        key = rgb.getpixel((size[0] - 1, size[1] - 1))
        reference.putalpha(Image.frombytes("L", size, bytes(0 if p == key else 255 for p in rgb.get_flattened_data())))
    reference = reference.resize(image.size, Image.Resampling.BOX)
    got = image.convert("RGBA")
    if mode not in TRANSPARENT:  # compare colour where it is visible
        reference, got = reference.convert("RGB"), got.convert("RGB")
    difference = ImageChops.difference(reference, got)
    mean = sum(ImageStat.Stat(difference).mean) / len(difference.getbands())
    assert mean < 12, f"mean difference {mean:.1f} from the source"


def _assert_marker_top_left(image: Image.Image, mode: str) -> None:
    """The marker covers the top-left third; the other corners are background."""
    w, h = image.size
    marker, *others = [(1, 1), (w - 2, 1), (1, h - 2), (w - 2, h - 2)]
    if mode in TRANSPARENT:
        assert _luma_alpha(image, marker)[1] > 200, "marker should be opaque"
        assert all(_luma_alpha(image, xy)[1] < 50 for xy in others), "background should stay transparent"
    else:
        marker_luma = _luma_alpha(image, marker)[0]
        assert all(_luma_alpha(image, xy)[0] - marker_luma > 80 for xy in others), (
            f"marker not top-left: {[image.convert('RGB').getpixel(xy) for xy in [marker, *others]]}"
        )


def test_factory_stores_pixels_so_exif_transpose_restores_them():
    original = upright("RGB", (30, 20))
    for orientation in range(1, 9):
        stored, exif = store_with_orientation(original, orientation)
        stored.info["exif"] = exif.tobytes()
        stored.getexif()[0x0112] = orientation
        assert ImageOps.exif_transpose(stored).tobytes() == original.tobytes()


def test_sixteen_bit_grey_is_scaled_not_clipped():
    image, _ = _one(source_bytes("I;16", (200, 100), "PNG"))
    # 60000 and 5000 of 65535 become about 234 and 19: clipping would make both 255.
    assert 225 <= image.getpixel((95, 45)) <= 240
    assert 10 <= image.getpixel((1, 1)) <= 30


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I"])
def test_every_sixteen_bit_layout_keeps_the_high_byte(mode):
    image = Image.new(mode, (4, 1), 60000)
    image.putpixel((0, 0), 5000)
    converted = _resampling_mode(image)
    assert [converted.getpixel((x, 0)) for x in range(4)] == [19, 234, 234, 234]


def test_sixteen_bit_grey_trns_is_matched_on_all_sixteen_bits():
    """tRNS names one exact 16-bit value: 0x1234 is transparent, 0x1299 (same high byte) not."""
    image = Image.new("I;16", (3, 1))
    image.putdata([0x1234, 0x1299, 0xFFFF])
    [thumbnail] = make_thumbnails(encode(image, "PNG", transparency=0x1234), [BOX], MAX_PIXELS)
    assert list(decode(thumbnail.data).get_flattened_data()) == [(0x12, 0), (0x12, 255), (0xFF, 255)]


def test_sixteen_bit_rgb_trns_is_matched_on_all_sixteen_bits():
    """The key (0x1234, 0x0056, 0xFFFF); a pixel differing only in a low byte stays opaque."""
    rows = [(0x1234, 0x0056, 0xFFFF), (0x1234, 0x0057, 0xFFFF), (0, 0, 0)]
    ihdr = struct.pack(">IIBBBBB", 3, 1, 16, 2, 0, 0, 0)
    pixels = b"\x00" + b"".join(struct.pack(">HHH", *pixel) for pixel in rows)
    data = b"\x89PNG\r\n\x1a\n" + b"".join([
        png_chunk(b"IHDR", ihdr), png_chunk(b"tRNS", struct.pack(">HHH", *rows[0])),
        png_chunk(b"IDAT", zlib.compress(pixels)), png_chunk(b"IEND", b""),
    ])  # fmt: skip
    [thumbnail] = make_thumbnails(data, [BOX], MAX_PIXELS)
    alphas = [pixel[3] for pixel in decode(thumbnail.data).get_flattened_data()]
    assert alphas == [0, 255, 255]


def test_palette_png_is_resampled_smoothly_not_nearest_neighbour():
    """A P image resized as P would keep only palette colours; RGB resampling blends the edge."""
    image, _ = _one(source_bytes("P", (300, 300), "PNG"), Box(97, 97))
    colours = {colour for _, colour in image.convert("RGB").getcolors(maxcolors=10_000)}
    assert len(colours) > 2


def test_never_upscales():
    image, _ = _one(source_bytes("RGB", (40, 30), "JPEG"), Box(256, 256))
    assert image.size == (40, 30)


def test_each_box_gets_its_own_size_from_one_decode():
    data = source_bytes("RGB", (1200, 800), "JPEG", orientation=6)
    boxes = [Box(64, 64), Box(256, 256), Box(400, 1000)]
    sizes = [(t.width, t.height) for t in make_thumbnails(data, boxes, MAX_PIXELS)]
    assert sizes == [(64, 43), (256, 171), (400, 267)]


@pytest.mark.parametrize(
    ("size", "box", "expected"),
    [
        ((4000, 3000), Box(256, 256), (256, 192)),
        ((3000, 4000), Box(256, 256), (192, 256)),
        ((1, 300), Box(256, 256), (1, 256)),
        ((5000, 1), Box(256, 256), (256, 1)),
        ((100, 50), Box(256, 256), (100, 50)),
        ((1000, 1000), Box(300, 100), (100, 100)),
    ],
)
def test_fit(size, box, expected):
    assert fit(size, box) == expected


def test_jpeg_draft_decodes_a_12mp_photo_at_reduced_scale():
    data = encode(photo((4000, 3000)), "JPEG", quality=90)
    image, *_ = load_source(data, [Box(256, 256)], MAX_PIXELS)
    # 1/8 scale (500x375) still covers 1.5 times the 256x192 target; in full it is 4000x3000.
    assert image.size == (500, 375)
    image, *_ = load_source(data, [Box(256, 256), Box(1024, 1024)], MAX_PIXELS)
    assert image.size == (2000, 1500)  # the largest box decides: 1/2 covers 1.5 x 1024x768


def test_draft_box_is_swapped_for_transposing_orientations():
    """Stored landscape, shown portrait (orientation 6), tall box: an unswapped draft would
    decode 1/4 scale (750x1000 upright), less than 1.5 times the 500x667 target."""
    stored, exif = store_with_orientation(photo((3000, 4000)), 6)
    data = encode(stored, "JPEG", quality=85, exif=exif)
    image, *_ = load_source(data, [Box(500, 2000)], MAX_PIXELS)
    assert image.size == (1500, 2000)


def test_fine_detail_keeps_its_quality_through_the_draft():
    """A draft that just covers the box leaves the last step to the DCT, which aliases fine
    detail: small text from a 2725x2225 JPEG to 1024 px measured 22 dB against a full decode +
    LANCZOS from the 1/2 draft, 34 dB from the full decode the 1.5x margin asks for."""
    source = Image.new("RGB", (2725, 2225), "white")
    draw = ImageDraw.Draw(source)
    for y in range(0, source.height, 9):
        for x in range(0, source.width, 40):
            draw.text((x, y), "Thumb", fill=(20, 20, 20))
    data = encode(source, "JPEG", quality=90)
    box = Box(1024, 1024)
    image, *_ = load_source(data, [box], MAX_PIXELS)
    made = resize_all(image, [box])[box]
    reference = decode(data).convert("RGB").resize(made.size, Image.Resampling.LANCZOS)
    rms = ImageStat.Stat(ImageChops.difference(made, reference)).rms
    assert 10 * math.log10(255**2 / (sum(v * v for v in rms) / 3)) > 30


def test_exif_xmp_comment_and_profile_are_stripped():
    source = photo((400, 300))
    exif = Image.Exif()
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS latitude
    exif[0x010F] = "CameraMaker"
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>SecretXmp</rdf:RDF></x:xmpmeta>'
    data = encode(source, "JPEG", exif=exif, xmp=xmp, comment=b"secret", quality=90, icc_profile=b"junk")
    image, raw = _one(data)
    assert not image.getexif() and "icc_profile" not in image.info
    for leaked in (b"CameraMaker", b"secret", b"SecretXmp", b"http://ns.adobe.com/xap", b"junk"):
        assert leaked not in raw


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"<html>502 Bad Gateway</html>",
        b"GIF89a" + b"\x00" * 20,
        b"\xff\xd8\xff" + b"\x00" * 20,  # JPEG magic, no image
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 20,  # PNG magic, no header
    ],
    ids=["empty", "html", "gif", "jpeg-magic-only", "png-magic-only"],
)
def test_non_images_are_not_an_image(data):
    with pytest.raises(NotAnImage):
        make_thumbnails(data, [BOX], MAX_PIXELS)


@pytest.mark.parametrize("image_format", ["JPEG", "PNG"])
def test_truncated_image_is_not_an_image(image_format):
    data = encode(photo((600, 400)), image_format)
    with pytest.raises(NotAnImage, match="could not decode"):
        make_thumbnails(data[: len(data) // 2], [BOX], MAX_PIXELS)


def test_png_named_jpg_is_sniffed_as_png():
    assert sniff_format(encode(upright("RGB", (10, 10)), "PNG")) == "PNG"


def test_pixel_limit_is_checked_from_the_header_before_decoding():
    data = encode(Image.new("L", (3000, 2000)), "PNG")
    with pytest.raises(ImageTooLarge, match="3000x2000 is 6,000,000 pixels, over the limit of 5,000,000"):
        make_thumbnails(data, [BOX], 5_000_000)


def test_decompression_bomb_header_is_too_large_not_a_crash():
    """A PNG whose header declares 50 000 x 50 000 pixels, a few hundred bytes on disk."""
    with pytest.raises(ImageTooLarge):
        make_thumbnails(png_declaring(50_000, 50_000), [BOX], 10**12)


def test_broken_exif_block_does_not_fail_the_image():
    image, _ = _one(broken_exif_jpeg())
    assert max(image.size) == 100


def test_same_input_gives_same_bytes():
    data = source_bytes("RGBA", (300, 200), "PNG", 3)
    runs = {make_thumbnails(data, [BOX], MAX_PIXELS)[0].data for _ in range(2)}
    assert len(runs) == 1

