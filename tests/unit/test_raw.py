"""Camera RAW sources: sniffed from their TIFF structure whatever the key says, the smallest
preview that serves every box chosen, the RAW's orientation applied, NoUsablePreview where no
preview serves (no demosaic is shipped), and hostile structure typed before anything is decoded.
Real files (tests/fixtures/raw/README.md) for sniffing and headers; RAWs made here
(local_run.inputs.camera_raw) for pixels, sizes and lies."""

from __future__ import annotations

import struct
from io import BytesIO
from pathlib import Path

import pytest
from local_run.inputs.camera_raw import arw_like, cr2_like, dng, nef_like
from PIL import Image

from create_thumbnail.config import ALL_SOURCE_FORMATS, COVER, DEFAULT_SOURCE_FORMATS, Box, Rule
from create_thumbnail.errors import ImageTooLarge, NotAnImage, NoUsablePreview, PermanentError
from create_thumbnail.imaging import make_renditions
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.formats import RAW, TIFF
from create_thumbnail.imaging.readers import raw
from create_thumbnail.imaging.readers.raw_layout import (
    Preview,
    RawLayout,
    is_camera_raw,
    jpeg_size,
    read_layout,
)
from create_thumbnail.imaging.readers.registry import load_source
from create_thumbnail.imaging.readers.sniff import sniff_format
from create_thumbnail.naming import expected_keys, skip_reason

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "raw"
REAL = sorted(path.name for path in FIXTURES.iterdir() if path.suffix != ".md")
WITH_RAW = (*DEFAULT_SOURCE_FORMATS, "raw")
MAX_PIXELS = 50_000_000
BOX = Box(256, 256)


def _fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _red(pixel: tuple[int, ...]) -> bool:
    return pixel[0] > 150 and pixel[1] < 90


def _assert_upright_landscape(loaded_image: Image.Image) -> None:
    """The picture is wider than tall with its red block top-left, and only there."""
    assert loaded_image.width > loaded_image.height
    assert _red(loaded_image.getpixel((3, 3)))
    assert not _red(loaded_image.getpixel((loaded_image.width - 4, loaded_image.height - 4)))


# Sniffing


@pytest.mark.parametrize("name", REAL)
def test_every_real_raw_is_sniffed_as_raw_whatever_its_make(name):
    assert sniff_format(_fixture(name)) == RAW


@pytest.mark.parametrize("make", ["NIKON CORPORATION", "SONY", "Canon"])
def test_a_plain_tiff_stays_tiff_even_from_a_camera_maker(make):
    """A camera's own TIFF output has the maker's Make and an orientation, and none of what
    only RAWs have."""
    exif = Image.Exif()
    exif[0x010F], exif[0x0112] = make, 6
    for mode in ("RGB", "L"):
        out = BytesIO()
        Image.new(mode, (40, 30)).save(out, "TIFF", exif=exif, compression="tiff_lzw")
        assert sniff_format(out.getvalue()) == TIFF


def test_made_raws_of_each_make_are_raw():
    made = [dng(), dng(preview=(300, 200)), cr2_like((320, 240)), nef_like((320, 240)), arw_like()]
    assert {sniff_format(data) for data in made} == {RAW}
    assert not is_camera_raw(b"II*\x00\x08\x00\x00\x00\x00\x00")


def test_a_raw_is_refused_by_name_where_tiff_is_on_and_raw_is_not():
    """A NEF's first IFD is a 160 x 120 RGB thumbnail a TIFF reader shows: with tiff on and raw
    off, the RAW is refused, never thumbnailed from that."""
    data = nef_like((1200, 800))
    assert Image.open(BytesIO(data), formats=["TIFF"]).size == (160, 120)  # what TIFF would give
    with pytest.raises(NotAnImage, match="a RAW image, which SOURCE_FORMATS does not include"):
        make_renditions(data, [BOX], MAX_PIXELS, source_formats=("jpeg", "tiff"))


def test_the_default_settings_skip_raw_keys_and_raw_takes_its_four_suffixes():
    assert skip_reason("photos/a.dng", DEFAULT_SOURCE_FORMATS) == "not a .jpg/.jpeg/.png key"
    for suffix in (".dng", ".CR2", ".nef", ".ARW"):
        assert skip_reason(f"photos/a{suffix}", WITH_RAW) is None
    for suffix in (".orf", ".rw2", ".raf", ".cr3"):  # no preview finder for these makes
        assert skip_reason(f"photos/a{suffix}", WITH_RAW) is not None


def test_a_raws_thumbnail_is_a_jpeg_named_after_the_key():
    rule = Rule(sizes=(BOX,))
    assert [key for _, key in expected_keys("photos/a.dng", rule, WITH_RAW)] == ["256x256/photos/a.dng.jpg"]
    made = make_renditions(dng(preview=(600, 400)), [BOX], MAX_PIXELS, source_formats=WITH_RAW)
    assert [thumbnail.format for thumbnail in made.thumbnails] == ["JPEG"]
    assert made.source_size == (600, 400)  # the preview's, upright: what the thumbnail was made from


# Real headers


@pytest.mark.parametrize(("name", "orientation"), [
    ("exiv2-IMG_1361.dng", 6), ("file-type-sony-zv-e10.arw", 6), ("file-type-Leica-M10.dng", 6),
    ("exiftool-Nikon.nef", 1), ("exiftool-CanonRaw.cr2", 1), ("exiftool-DNG.dng", 1),
])  # fmt: skip
def test_the_orientation_is_read_from_real_headers(name, orientation):
    assert read_layout(_fixture(name)).orientation == orientation


def test_real_previews_are_found_where_each_make_keeps_them():
    leica = read_layout(_fixture("file-type-Leica-M10.dng"))  # DNG: preview IFDs
    assert sorted(p.size for p in leica.previews) == [(160, 120), (5952, 3968)]
    assert leica.sensor == (5984, 3992)
    sony = read_layout(_fixture("file-type-sony-zv-e10.arw"))  # ARW: IFD1's thumbnail; IFD0's preview is cut off
    assert [p.size for p in sony.previews] == [(160, 120)] and sony.declared == 2


@pytest.mark.parametrize("name", ["exiftool-CanonRaw.cr2", "exiftool-DNG.dng", "exiftool-Nikon.nef", "exiv2-IMG_1361.dng"])
def test_real_raws_whose_previews_were_stripped_have_no_usable_preview(name):
    """Their publishers replaced the previews by stubs or cut them off: declared, no JPEG there."""
    with pytest.raises(NoUsablePreview, match=r"hold no JPEG picture .* no demosaic of the sensor data is shipped"):
        load_source(_fixture(name), [BOX], MAX_PIXELS)


def test_a_real_preview_cut_short_is_not_an_image():
    """The Leica's full-size preview is found by its header and chosen; its bytes end early."""
    with pytest.raises(NotAnImage, match="truncated"):
        load_source(_fixture("file-type-Leica-M10.dng"), [BOX], MAX_PIXELS)


def test_a_real_raw_with_only_a_thumbnail_is_refused_naming_it_and_the_box():
    with pytest.raises(NoUsablePreview, match=r"largest embedded preview, 120x160, is too small for the box 256x256"):
        load_source(_fixture("file-type-sony-zv-e10.arw"), [BOX], MAX_PIXELS)


# Which preview


def _layout(*sizes: tuple[int, int], orientation: int | None = 1, sensor: tuple[int, int] | None = None) -> RawLayout:
    return RawLayout(orientation, tuple(Preview(n, 1, size) for n, size in enumerate(sizes)), sensor, len(sizes))


def test_the_smallest_preview_that_serves_every_box_is_chosen():
    layout = _layout((160, 120), (1616, 1080), (6000, 4000))
    assert raw.serving_preview(layout, [Box(256, 256)]).size == (1616, 1080)
    assert raw.serving_preview(layout, [Box(2048, 2048), Box(256, 256)]).size == (6000, 4000)
    assert raw.serving_preview(_layout((160, 120), (1616, 1080)), [Box(2048, 2048)]) is None


def test_a_cover_box_needs_the_preview_to_cover_it_and_orientation_turns_the_box():
    assert raw.serving_preview(_layout((1600, 400)), [Box(800, 800)]) is not None  # fit: the width limits
    assert raw.serving_preview(_layout((1600, 400)), [Box(800, 800, COVER)]) is None  # cover: 400 < 800
    assert raw.serving_preview(_layout((1600, 900), orientation=6), [Box(1200, 1200)]) is not None
    assert raw.serving_preview(_layout((1600, 900), orientation=6), [Box(1000, 1600, COVER)]) is None
    assert raw.serving_preview(_layout((1600, 900), orientation=1), [Box(1600, 900, COVER)]) is not None
    assert raw.serving_preview(_layout((1600, 900), orientation=None), [Box(1600, 900, COVER)]) is None  # either way round


def test_a_full_size_preview_serves_a_box_larger_than_the_sensor():
    """A 12 MP camera's full-size JPEG for a 4096 px box: the sensor could give no larger."""
    assert raw.serving_preview(_layout((4032, 3024), sensor=(4088, 3040)), [Box(4096, 4096)]) is not None
    assert raw.serving_preview(_layout((1616, 1080), sensor=(6048, 4024)), [Box(4096, 4096)]) is None


# Pixels


@pytest.mark.parametrize("orientation", range(1, 9))
def test_the_preview_is_turned_by_the_raws_orientation(orientation):
    """Drawn upright with a red block top-left, stored turned, the preview without an
    orientation of its own: the thumbnail is upright."""
    loaded = load_source(dng((600, 400), orientation, preview=(900, 600)), [BOX], MAX_PIXELS)
    _assert_upright_landscape(loaded.image)
    assert loaded.size == (900, 600)


def test_the_raws_orientation_wins_over_the_previews_own():
    data = dng((600, 400), 6, preview=(900, 600), preview_exif_orientation=1)
    _assert_upright_landscape(load_source(data, [BOX], MAX_PIXELS).image)


@pytest.mark.parametrize(("make", "orientation"), [("cr2", 8), ("nef", 6), ("arw", 3), ("cr2", 1)])
def test_each_makes_preview_makes_an_upright_thumbnail(make, orientation):
    data = {"cr2": lambda: cr2_like((1200, 800), orientation), "nef": lambda: nef_like((1200, 800), orientation),
            "arw": lambda: arw_like(preview=(1616, 1080), orientation=orientation)}[make]()  # fmt: skip
    made = make_renditions(data, [BOX], MAX_PIXELS, source_formats=WITH_RAW)
    [thumbnail] = made.thumbnails
    assert thumbnail.format == "JPEG"
    image = Image.open(BytesIO(thumbnail.data)).convert("RGB")
    assert image.width == 256 and image.width > image.height
    _assert_upright_landscape(image)


def test_a_full_size_jpg_from_raw_is_drafted_not_decoded_whole():
    loaded = load_source(nef_like((2400, 1600), orientation=8), [BOX], MAX_PIXELS)
    assert loaded.image.size == (600, 400) and loaded.size == (2400, 1600)  # libjpeg's 1/4 scale
    assert _red(loaded.image.getpixel((3, 3)))


# Refusals


def test_a_raw_without_a_preview_is_no_usable_preview_not_bad_bytes():
    with pytest.raises(NoUsablePreview, match="without an embedded preview, and no demosaic") as raised:
        load_source(dng((600, 400)), [BOX], MAX_PIXELS)
    assert isinstance(raised.value, PermanentError) and not isinstance(raised.value, NotAnImage)


@pytest.mark.parametrize(("box", "shown"), [(Box(2048, 2048), "2048x2048"), (Box(1200, 1200, COVER), "1200x1200:cover")])
def test_a_preview_too_small_for_a_box_is_refused_naming_both(box, shown):
    """An ARW's 1616 x 1080 preview of a 6000 x 4000 sensor, stored turned (orientation 6): the
    message gives it upright."""
    data = arw_like(preview=(1616, 1080), orientation=6)
    message = f"largest embedded preview, 1616x1080, is too small for the box {shown}, and no demosaic"
    with pytest.raises(NoUsablePreview, match=message):
        make_renditions(data, [BOX, box], MAX_PIXELS, source_formats=WITH_RAW)


def test_max_source_pixels_and_the_budget_apply_to_the_preview():
    data = dng((600, 400), preview=(900, 600))
    with pytest.raises(ImageTooLarge, match="900x600"):
        load_source(data, [BOX], 500_000)
    with pytest.raises(ImageTooLarge, match="over the budget"):  # the RAW's own bytes stay held
        load_source(data, [BOX], MAX_PIXELS, Budget(len(data) + 1024))


def test_a_preview_that_is_not_a_jpeg_is_not_taken_for_one():
    """A preview IFD whose strip holds other bytes (here the sensor's): no JPEG picture there."""
    data = bytearray(dng((64, 48), preview=(96, 64)))
    start = read_layout(bytes(data)).previews[0].offset
    data[start : start + 3] = b"\x00\x00\x00"
    with pytest.raises(NoUsablePreview, match="hold no JPEG picture"):
        load_source(bytes(data), [BOX], MAX_PIXELS)


# Hostile structure: every walk bounded


def _ifd0(data: bytes) -> tuple[str, int, int]:
    order = "<" if data[:2] == b"II" else ">"
    (first,) = struct.unpack_from(order + "I", data, 4)
    (count,) = struct.unpack_from(order + "H", data, first)
    return order, first, count


def test_ifd_loops_end_typed():
    """IFD0 pointing back at itself, as its next IFD and as its SubIFD: each IFD read once."""
    data = bytearray(dng((64, 48), preview=(300, 200)))
    order, first, count = _ifd0(bytes(data))
    struct.pack_into(order + "I", data, first + 2 + 12 * count, first)  # IFD0's next: itself
    for entry in range(count):  # and its SubIFDs: IFD0 again
        (tag,) = struct.unpack_from(order + "H", data, first + 2 + 12 * entry)
        if tag == 330:
            struct.pack_into(order + "I", data, first + 2 + 12 * entry + 8, first)
    layout = read_layout(bytes(data))
    assert len(layout.previews) == 1 and layout.sensor is None  # the sensor's SubIFD is lost
    assert load_source(bytes(data), [BOX], MAX_PIXELS).size == (300, 200)


@pytest.mark.parametrize(("what", "ends"), [("count", "thumbnail"), ("pointer", "NoUsablePreview"), ("length", "thumbnail")])
def test_huge_counts_and_pointers_past_the_end_end_typed(what, ends):
    """IFD0 claiming 65,535 entries (read as far as the data goes, at most 1,024), its preview's
    offset 4 GB on, its length 4 GB: the first two read nothing past the end, the third reads
    to the end (a JPEG decoder stops at its end marker)."""
    data = bytearray(dng((64, 48), preview=(300, 200)))
    order, first, count = _ifd0(bytes(data))
    if what == "count":
        struct.pack_into(order + "H", data, first, 0xFFFF)
    for entry in range(count):
        at = first + 2 + 12 * entry
        (tag,) = struct.unpack_from(order + "H", data, at)
        if tag == 273 and what == "pointer":
            struct.pack_into(order + "I", data, at + 8, 0xFFFFFFF0)
        if tag == 279 and what == "length":
            struct.pack_into(order + "I", data, at + 8, 0xFFFFFFFF)
    try:
        outcome = load_source(bytes(data), [BOX], MAX_PIXELS) and "thumbnail"
    except PermanentError as error:
        outcome = type(error).__name__
    assert outcome == ends


def test_a_jpeg_header_of_endless_segments_is_read_no_further_than_a_cameras():
    """Empty segments for megabytes: the frame header is looked for in the first 256 segments
    (a camera's preview has under 20), not walked to at two bytes a step."""
    frame = b"\xff\xc0\x00\x11\x08\x00\x10\x00\x20" + bytes(14)  # 32 x 16

    def header(segments: int) -> bytes:
        return b"\xff\xd8" + b"\xff\xe1\x00\x02" * segments + frame

    assert jpeg_size(header(200), 0, 1 << 30) == (32, 16)
    assert jpeg_size(header(1_000_000), 0, 1 << 30) is None


def test_every_raw_setting_is_known():
    assert "raw" in ALL_SOURCE_FORMATS
