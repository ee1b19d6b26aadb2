"""JPEG XL sources: sniffing, the header read without the decoder (jxl_header.py), the reader on
real files (tests/fixtures/jxl/README.md), an animation's first frame (jxl_frames.py), the typed
refusals, and the decoder's layer asked for where SOURCE_FORMATS names jxl."""

from __future__ import annotations

from dataclasses import replace
from io import BytesIO
from pathlib import Path

import pytest
from local_run.inputs.samples import photo
from PIL import Image, ImageChops, ImageOps, ImageStat

from create_thumbnail.config import ALL_SOURCE_FORMATS, DEFAULT_SOURCE_FORMATS, Box
from create_thumbnail.errors import ImageTooLarge, NotAnImage
from create_thumbnail.imaging import make_renditions
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.formats import JXL, source_output
from create_thumbnail.imaging.readers import jxl
from create_thumbnail.imaging.readers.jxl_frames import Unwalkable, first_frame, frames
from create_thumbnail.imaging.readers.jxl_header import CONTAINER_SIGNATURE, read_header
from create_thumbnail.imaging.readers.jxl_header import codestream as whole_codestream
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
    "animated-cropped-frames.jxl": ((50, 80), 1, 8, True, False, False, True),
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
    "animated-cropped-frames.jxl": ((50, 80), "PNG", "RGBA"),
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


# --- an animation's first frame -------------------------------------------------------------


def decoded_whole(data: bytes) -> Image.Image:
    import pillow_jxl

    _, info, pixels, _, _ = pillow_jxl.Decoder()(data)
    return Image.frombytes(info.mode, (info.width, info.height), pixels)


def difference(a: Image.Image, b: Image.Image) -> float:
    return max(ImageStat.Stat(ImageChops.difference(a.convert("RGBA"), b.convert("RGBA"))).mean)


def test_an_animation_gives_its_first_frame_where_the_plugin_alone_gives_its_last():
    """Four frames, the later ones crops blended over the first (libjxl/testdata, with a
    reference decode of each frame). Lossless: the thumbnail (no larger than the 50 x 80 image)
    is frame 0 exactly; the plugin on the whole file gives frame 3."""
    data = fixture("animated-cropped-frames.jxl")
    first = Image.open(FIXTURES / "animated-cropped-frames.frame-0.png")
    last = Image.open(FIXTURES / "animated-cropped-frames.frame-3.png")
    assert difference(decoded_whole(data), last) == 0 < difference(first, last)
    warnings: list[str] = []
    made = make_renditions(data, [Box(256, 256)], MAX_PIXELS, source_formats=WITH_JXL, warn=warnings.append)
    [only] = made.thumbnails
    assert difference(Image.open(BytesIO(only.data)), first) == 0 and warnings == []


def test_only_the_first_frame_of_sixty_is_decoded():
    """The conformance animation's first frame is its first 168 bytes of 9,581: the cut ends
    there, and decodes to something else than the last frame (checked once against the
    conformance's reference: 0.007 of 255 from its first frame, 1.6 from the last)."""
    data = fixture("animated-60-frames.jxl")
    cut = first_frame(whole_codestream(data), read_header(data))
    assert cut is not None and len(cut) == 168
    assert difference(decoded_whole(cut), decoded_whole(data)) > 1


@pytest.mark.parametrize("name", ["animated-60-frames.jxl", "animated-cropped-frames.jxl"])
def test_the_cut_is_a_codestream_of_one_frame_that_says_it_is_the_last(name: str):
    """Walked again, the rewritten header reads as the last frame, shown, and its sections end
    where the cut does: nothing of the second frame is left."""
    header = read_header(fixture(name))
    cut = first_frame(whole_codestream(fixture(name)), header)
    assert cut is not None
    [frame] = frames(cut, header)
    assert frame.header.shown and frame.header.last and frame.end == len(cut)


# Each fixture whose frames can be walked: how many frames, how many a player shows. Walking
# must end exactly where the codestream does, at a frame that says it is the last: a field read
# one bit off anywhere would not.
WALKED = {
    "animated-60-frames.jxl": (60, 60),
    "animated-cropped-frames.jxl": (4, 4),
    "lossless-alpha-10bit-oriented-7.jxl": (2, 1),  # two layers, one shown
    "lossy-premultiplied-alpha.jxl": (1, 1),
    "modular-lossy-xyb.jxl": (1, 1),
    "hdr-pq-16bit-grey.jxl": (1, 1),
}


@pytest.mark.parametrize("name", WALKED)
def test_walking_the_frames_ends_where_the_codestream_ends(name: str):
    header = read_header(fixture(name))
    stream = whole_codestream(fixture(name))
    walked = list(frames(stream, header))
    assert (len(walked), sum(frame.header.shown for frame in walked)) == WALKED[name]
    assert walked[-1].header.last and not any(frame.header.last for frame in walked[:-1])
    assert walked[-1].end == len(stream)


@pytest.mark.parametrize("name", sorted(set(HEADERS) - set(WALKED)))
def test_a_codestream_with_its_icc_profile_ahead_of_the_frames_cannot_be_walked(name: str):
    assert read_header(fixture(name)).icc
    with pytest.raises(Unwalkable, match="ICC profile"):
        list(frames(whole_codestream(fixture(name)), read_header(fixture(name))))


def test_a_still_image_is_never_cut():
    data = fixture("lossless-alpha-10bit-oriented-7.jxl")  # a hidden layer, then the shown one
    assert first_frame(whole_codestream(data), read_header(data)) is None


def test_an_animation_whose_frames_cannot_be_walked_is_its_last_frame_with_a_warning():
    """Where the walk stops (here: said to have an ICC profile ahead of its frames, as a file of
    another camera's colour space would), the file is decoded whole and the note says so."""
    data = fixture("animated-cropped-frames.jxl")
    (_, info, pixels, _), notes = jxl._decode(data, replace(read_header(data), icc=True))
    decoded = Image.frombytes(info.mode, (info.width, info.height), pixels)
    assert difference(decoded, Image.open(FIXTURES / "animated-cropped-frames.frame-3.png")) == 0
    assert notes == ("an animated JPEG XL whose first frame cannot be cut out (its ICC profile, entropy-coded, "
                     "comes before the frames): the thumbnail is its last frame",)  # fmt: skip


def test_a_cut_short_animation_is_not_an_image_from_libjxls_own_complaint():
    """The walk finds the cut short and hands the file to libjxl whole, which says so itself."""
    data = fixture("animated-cropped-frames.jxl")[:100]
    with pytest.raises(Unwalkable):
        first_frame(whole_codestream(data), read_header(data))
    with pytest.raises(NotAnImage, match="could not decode the image: RuntimeError"):
        make_renditions(data, [Box(64, 64)], MAX_PIXELS, source_formats=WITH_JXL)


# --- the decoder's layer ----------------------------------------------------------------------


def test_jxl_is_a_setting_and_off_by_default() -> None:
    """Without its decoder installed, tests/unit/test_config.py: the first invocation names the layer."""
    assert "jxl" in ALL_SOURCE_FORMATS and "jxl" not in DEFAULT_SOURCE_FORMATS
