"""JPEG XL sources: sniffing, the header read without the decoder (jxl_header.py), the reader on
real files (tests/fixtures/jxl/README.md), the typed refusals, and the decoder's layer asked for
where SOURCE_FORMATS names jxl."""

from __future__ import annotations

import importlib.util
from io import BytesIO
from pathlib import Path

import pytest
from local_run.inputs.samples import encode, photo
from PIL import Image, ImageChops, ImageOps, ImageStat

from create_thumbnail.config import ALL_SOURCE_FORMATS, DEFAULT_SOURCE_FORMATS, Box, Settings
from create_thumbnail.errors import ConfigError, ImageTooLarge, NotAnImage
from create_thumbnail.imaging import make_renditions
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.formats import JXL, source_output
from create_thumbnail.imaging.readers.jxl_header import CONTAINER_SIGNATURE, read_header
from create_thumbnail.imaging.readers.registry import load_source
from create_thumbnail.imaging.readers.sniff import sniff_format

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jxl"
MAX_PIXELS = 50_000_000
WITH_JXL = (*DEFAULT_SOURCE_FORMATS, "jxl")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def bits(*fields: tuple[int, int]) -> bytes:
    """A codestream from (value, bit count) fields, least significant bit first, as JPEG XL
    writes them."""
    value, length = 0, 0
    for field, count in fields:
        value |= field << length
        length += count
    return value.to_bytes((length + 7) // 8, "little")


def size_header(width: int, height: int) -> list[tuple[int, int]]:
    """SizeHeader with explicit sides, each U32 as 1 + 30 bits (selector 3)."""
    return [(0, 1), (3, 2), (height - 1, 30), (0, 3), (3, 2), (width - 1, 30)]


def codestream(width: int, height: int, *metadata: tuple[int, int]) -> bytes:
    """FF 0A, the size, then ImageMetadata: all default unless fields are given."""
    return bits((0x0AFF, 16), *size_header(width, height), *(metadata or [(1, 1)]))


def in_container(stream: bytes, *, split: int | None = None) -> bytes:
    ftyp = b"\x00\x00\x00\x14ftypjxl \x00\x00\x00\x00jxl "
    if split is None:
        return CONTAINER_SIGNATURE + ftyp + (8 + len(stream)).to_bytes(4, "big") + b"jxlc" + stream
    parts = [stream[:split], stream[split:]]
    boxes = b"".join((12 + len(part)).to_bytes(4, "big") + b"jxlp" + index.to_bytes(4, "big") + part
                     for index, part in enumerate(parts))  # fmt: skip
    return CONTAINER_SIGNATURE + ftyp + boxes


# --- sniffing and the header ---------------------------------------------------------------


def test_a_bare_codestream_and_a_container_are_sniffed_as_jpeg_xl():
    assert sniff_format(fixture("animated-60-frames.jxl")) == JXL
    assert sniff_format(fixture("lossy-premultiplied-alpha.jxl")) == JXL
    assert sniff_format(b"\xff\xd8\xff\xe0") != JXL  # a JPEG's FF D8 is not FF 0A


# (stored size, orientation, bits, alpha, premultiplied, grey, animated), read by hand from
# each file's description (README.md) and equal to what libjxl reports.
HEADERS = {
    "recompressed-jpeg-oriented-5.jxl": ((500, 606), 5, 8, False, False, False, False),
    "lossless-alpha-10bit-oriented-7.jxl": ((1386, 924), 7, 10, True, False, False, False),
    "lossy-premultiplied-alpha.jxl": ((1024, 1024), 1, 12, True, True, False, False),
    "animated-60-frames.jxl": ((320, 320), 1, 8, False, False, False, True),
    "recompressed-jpeg-grey.jxl": ((200, 200), 1, 8, False, False, True, False),
    "modular-lossy-xyb.jxl": ((1024, 631), 1, 8, False, False, False, False),
    "lossless-alpha-exif-box.jxl": ((1600, 1096), 1, 8, True, False, False, False),
    "lossy-grey-icc.jxl": ((200, 200), 1, 8, False, False, True, False),
    "hdr-pq-16bit-grey.jxl": ((1088, 64), 1, 16, False, False, True, False),
}


@pytest.mark.parametrize("name", HEADERS)
def test_the_header_is_read_without_the_decoder(name: str):
    header = read_header(fixture(name))
    got = (header.size, header.orientation, header.bits_per_sample, header.alpha, header.premultiplied,
           header.grey, header.animated)  # fmt: skip
    assert got == HEADERS[name]


def test_the_header_is_read_across_jxlp_boxes_and_from_a_size_ratio():
    stream = codestream(3000, 2000)
    assert read_header(in_container(stream, split=3)).size == (3000, 2000)
    # div8 height (5 bits: 30 -> 248), ratio 5 (16:9): 248 * 16 // 9 = 440
    assert read_header(bits((0x0AFF, 16), (1, 1), (30, 5), (5, 3), (1, 1))).size == (440, 248)


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\x0a",  # the signature alone
        fixture("lossless-alpha-10bit-oriented-7.jxl")[:5],  # cut inside the SizeHeader
        CONTAINER_SIGNATURE + b"\x00\x00\x00\x14ftypjxl \x00\x00\x00\x00jxl ",  # no codestream box
        CONTAINER_SIGNATURE + b"\x00\x00\x00\x04jxlc",  # a box shorter than its own header
        in_container(b"\x89PNG\r\n\x1a\n"),  # a codestream box that holds something else
    ],
    ids=["signature-only", "cut-size-header", "no-codestream-box", "short-box", "foreign-codestream"],
)
def test_a_header_that_cannot_be_read_is_not_an_image(data: bytes):
    with pytest.raises(NotAnImage):
        read_header(data)
    with pytest.raises(NotAnImage):
        make_renditions(data, [Box(64, 64)], MAX_PIXELS, source_formats=WITH_JXL)


# --- the reader on real files ----------------------------------------------------------------


# (thumbnail size in a 256 px box, output format under THUMBNAIL_FORMAT=source, output mode)
THUMBNAILS = {
    "recompressed-jpeg-oriented-5.jxl": ((256, 211), "JPEG", "RGB"),
    "lossless-alpha-10bit-oriented-7.jxl": ((171, 256), "PNG", "RGBA"),
    "lossy-premultiplied-alpha.jxl": ((256, 256), "PNG", "RGBA"),
    "animated-60-frames.jxl": ((256, 256), "JPEG", "RGB"),
    "recompressed-jpeg-grey.jxl": ((200, 200), "JPEG", "L"),
    "modular-lossy-xyb.jxl": ((256, 158), "JPEG", "RGB"),
    "lossless-alpha-exif-box.jxl": ((256, 175), "PNG", "RGBA"),
    "lossy-grey-icc.jxl": ((200, 200), "JPEG", "L"),
    "hdr-pq-16bit-grey.jxl": ((256, 15), "JPEG", "L"),
}


def thumbnail(name: str) -> Image.Image:
    made = make_renditions(fixture(name), [Box(256, 256)], MAX_PIXELS, budget=Budget.for_memory(1024),
                           source_formats=WITH_JXL)  # fmt: skip
    [only] = made.thumbnails
    image = Image.open(BytesIO(only.data))
    assert (only.width, only.height) == image.size
    return image


@pytest.mark.parametrize("name", THUMBNAILS)
def test_every_fixture_makes_a_thumbnail_of_its_upright_shape_with_its_alpha(name: str):
    image = thumbnail(name)
    assert (image.size, image.format, image.mode) == THUMBNAILS[name]  # RGBA: the alpha kept


def _mean(image: Image.Image, box: tuple[float, float, float, float]) -> list[float]:
    w, h = image.size
    return ImageStat.Stat(image.crop((int(box[0] * w), int(box[1] * h), int(box[2] * w), int(box[3] * h)))).mean


def test_orientation_7_in_the_codestream_comes_out_upright():
    """libjxl turns the pixels; nothing turns them again. The conformance reference decode shows
    sky at the top and the sun's glow on the right (checked once against its ref.png: mean
    difference 0.3 of 255); any other of the four side-swapping orientations moves them."""
    image = thumbnail("lossless-alpha-10bit-oriented-7.jxl").convert("RGB")
    top, bottom = _mean(image, (0, 0, 1, 0.25)), _mean(image, (0, 0.75, 1, 1))
    left, right = _mean(image, (0, 0, 0.25, 1)), _mean(image, (0.75, 0, 1, 1))
    assert top[2] > bottom[2] + 50 and right[2] > left[2] + 80


def test_a_recompressed_jpeg_is_turned_once_by_its_orientation_5():
    """The JPEG comes back byte for byte and is read as a JPEG: turned by its EXIF orientation,
    which is the codestream's (5). Compared with Pillow's own exif_transpose of the JPEG."""
    import pillow_jxl

    recompressed, _, jpeg_bytes, _, _ = pillow_jxl.Decoder()(fixture("recompressed-jpeg-oriented-5.jxl"))
    assert recompressed
    source = Image.open(BytesIO(jpeg_bytes))
    assert source.getexif()[0x0112] == read_header(fixture("recompressed-jpeg-oriented-5.jxl")).orientation == 5
    expected = ImageOps.exif_transpose(source).convert("RGB")
    image = thumbnail("recompressed-jpeg-oriented-5.jxl").convert("RGB")
    raw = expected.resize(image.size, Image.Resampling.LANCZOS)
    # Our thumbnail has the BRG profile applied (sRGB); compare the luma of each, which the
    # channel swap keeps apart only slightly, against a flipped one.
    near = ImageStat.Stat(ImageChops.difference(image.convert("L"), raw.convert("L"))).mean[0]
    flipped = raw.transpose(Image.Transpose.FLIP_LEFT_RIGHT).convert("L")
    far = ImageStat.Stat(ImageChops.difference(image.convert("L"), flipped)).mean[0]
    assert near < 20 < far


def test_premultiplied_alpha_is_divided_out():
    """Straight RGBA out: a half-transparent red is red, not dark red. The conformance reference
    (unpremultiplied) differs from ours by 0.4 of 255 where it was 95 before."""
    image = thumbnail("lossy-premultiplied-alpha.jxl")
    half_transparent = image.getchannel("A").point(lambda value: 255 if 60 < value < 200 else 0)
    assert half_transparent.getbbox() is not None
    assert ImageStat.Stat(image.getchannel("R"), half_transparent).mean[0] > 150


def test_the_source_output_of_jpeg_xl_is_jpeg_or_png_with_alpha():
    assert (source_output(JXL, alpha=False, animated=False), source_output(JXL, alpha=True, animated=True)) == (
        "JPEG", "PNG")  # fmt: skip


def test_16_bit_grey_is_read_by_its_high_bytes():
    loaded = load_source(fixture("hdr-pq-16bit-grey.jxl"), [Box(256, 256)], MAX_PIXELS)
    assert loaded.image.mode == "L" and loaded.size == (1088, 64)
    low, high = loaded.image.getextrema()
    assert high - low > 100  # a gradient, not clipped to white


# --- hostile inputs -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["modular-lossy-xyb.jxl", "lossy-premultiplied-alpha.jxl", "animated-60-frames.jxl"])
def test_a_truncated_file_is_not_an_image_from_libjxls_own_complaint(name: str):
    data = fixture(name)
    with pytest.raises(NotAnImage, match="could not decode the image: RuntimeError") as caught:
        make_renditions(data[: len(data) // 2], [Box(64, 64)], MAX_PIXELS, source_formats=WITH_JXL)
    assert type(caught.value.__cause__) is RuntimeError  # readers/decoding.py's BAD_BYTES


def test_a_header_claiming_a_million_pixels_a_side_is_too_large_before_decoding():
    """Nothing follows the header: a decoder would refuse it as truncated. ImageTooLarge says the
    header check ran first."""
    with pytest.raises(ImageTooLarge, match="a side over 65,535"):
        make_renditions(codestream(1_000_000, 1_000_000), [Box(64, 64)], MAX_PIXELS, source_formats=WITH_JXL)
    with pytest.raises(ImageTooLarge, match="over the limit of 50,000,000"):
        make_renditions(codestream(10_000, 10_000), [Box(64, 64)], MAX_PIXELS, source_formats=WITH_JXL)


def test_a_header_over_the_memory_budget_is_too_large_before_decoding():
    with pytest.raises(ImageTooLarge, match="over the budget of 412 MB"):
        make_renditions(codestream(7000, 7000), [Box(64, 64)], MAX_PIXELS, budget=Budget.for_memory(512),
                        source_formats=WITH_JXL)  # fmt: skip


def test_a_default_function_refuses_jpeg_xl_bytes():
    with pytest.raises(NotAnImage, match="a JXL image, which SOURCE_FORMATS does not include"):
        make_renditions(fixture("lossy-grey-icc.jxl"), [Box(64, 64)], MAX_PIXELS)


def test_an_exif_box_does_not_turn_what_the_codestream_says_is_upright():
    """The codestream's orientation is JPEG XL's own; libjxl applies it, and an Exif box saying
    6 beside a codestream saying 1 (the plugin's encoder writes just that) turns nothing."""
    import pillow_jxl  # noqa: F401  (registers its encoder with Pillow)

    exif = Image.Exif()
    exif[0x0112] = 6
    buffer = BytesIO()
    photo((96, 72)).save(buffer, "JXL", lossless=True, effort=1, use_container=True, exif=exif.tobytes())
    data = buffer.getvalue()
    assert read_header(data).orientation == 1
    assert load_source(data, [Box(256, 256)], MAX_PIXELS).image.size == (96, 72)


# --- the decoder's layer ----------------------------------------------------------------------


def test_jxl_without_its_decoder_fails_the_first_invocation_naming_the_layer(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pillow_jxl" else real(name, *a))
    with pytest.raises(ConfigError, match="SOURCE_FORMATS: jxl needs pillow-jxl-plugin.*JxlDecoderLayer"):
        Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "SOURCE_FORMATS": "jpeg,jxl"})
    Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "SOURCE_FORMATS": "jpeg,png"})  # no jxl: no layer needed
    assert "jxl" in ALL_SOURCE_FORMATS and "jxl" not in DEFAULT_SOURCE_FORMATS
