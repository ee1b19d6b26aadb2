"""Video sources: the poster frame of real clips (tests/fixtures/video/README.md) through the
imaging path, the display matrix, the blank-frame search, a rule's time, ranged reads and their
limit, the typed refusals, the settings, and PyAV kept out of the cold start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from create_thumbnail.config import (
    ALL_SOURCE_FORMATS,
    COVER,
    DEFAULT_MAX_VIDEO_READ_BYTES,
    DEFAULT_SOURCE_FORMATS,
    Box,
    Reading,
    Settings,
)
from create_thumbnail.errors import ConfigError, ImageTooLarge, NotAnImage, ReadLimitExceeded, WriteConflict
from create_thumbnail.imaging import make_renditions, read_in_ranges
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.formats import HEIF, VIDEO
from create_thumbnail.imaging.readers import video
from create_thumbnail.imaging.readers.registry import load_source
from create_thumbnail.imaging.readers.sniff import sniff_format
from create_thumbnail.naming import skip_reason
from create_thumbnail.ranged import BLOCK, RangedFile
from tests.large_video import grown

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "video"
WITH_VIDEO = (*DEFAULT_SOURCE_FORMATS, "video")
BOXES = [Box(256, 256), Box(96, 96, COVER)]
MAX_PIXELS = 50_000_000


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def ranged(data: bytes, max_bytes: int = 1 << 30, head: int = 1 << 16) -> RangedFile:
    return RangedFile(len(data), lambda start, end: data[start:end], head=data[:head], max_bytes=max_bytes)


def render(data: bytes | RangedFile, reading: Reading = Reading(), warnings: list[str] | None = None):
    return make_renditions(data, BOXES, MAX_PIXELS, warn=(warnings if warnings is not None else []).append,
                           source_formats=WITH_VIDEO, reading=reading)  # fmt: skip


# --- real clips --------------------------------------------------------------------------------

# file -> (the displayed size, upright; the 256 px fit box's thumbnail)
REAL = {
    "h264-landscape.mp4": ((1080, 720), (256, 170)),
    "h264-transposed-by-matrix.mp4": ((720, 1080), (170, 256)),
    "h264-4k-phone-portrait.mp4": ((2160, 3840), (144, 256)),
    "h264-anamorphic-late-start.mp4": ((1137, 640), (256, 144)),
    "h264-bt601.mov": ((640, 428), (256, 171)),
    "hevc-black-first-frame.mp4": ((854, 480), (256, 144)),
    "av1-10-bit-hdr10.mp4": ((720, 1280), (144, 256)),
    "vp9-square.webm": ((642, 642), (256, 256)),
    "vp8-1080p-first-400k.webm": ((1920, 1080), (256, 144)),
    "mpeg4-part2.avi": ((960, 400), (256, 107)),
    "h264-transport-stream.ts": ((854, 480), (256, 144)),
    "mpeg2-transport-stream.ts": ((640, 426), (256, 171)),
    "h263-phone.3gp": ((192, 144), (192, 144)),  # QCIF, pixels 12:11 wide; never enlarged
}


@pytest.mark.parametrize("name", sorted(REAL))
def test_a_real_clip_becomes_thumbnails_of_its_displayed_picture(name: str) -> None:
    warnings: list[str] = []
    rendered = render(fixture(name), warnings=warnings)
    displayed, fit = REAL[name]
    assert rendered.source_size == displayed
    sizes = {(t.width, t.height) for t in rendered.thumbnails}
    assert sizes == {fit, (min(96, fit[1]), min(96, fit[1]))}
    assert {t.format for t in rendered.thumbnails} == {"JPEG"}  # THUMBNAIL_FORMAT=source: a frame is opaque
    assert warnings == []
    thumbnail = Image.open(__import__("io").BytesIO(rendered.thumbnails[0].data))
    assert ImageStat.Stat(thumbnail.convert("L")).stddev[0] >= video.BLANK_SPREAD  # a picture, not a blank


def test_the_display_matrix_turns_the_picture_as_players_show_it() -> None:
    """The same frames stored once plainly and once with a matrix that swaps the axes: the
    second comes out as the first, transposed."""
    plain = video.load(fixture("h264-landscape.mp4"), [Box(512, 512)], MAX_PIXELS, Budget(None)).image
    turned = video.load(fixture("h264-transposed-by-matrix.mp4"), [Box(512, 512)], MAX_PIXELS, Budget(None)).image
    assert turned.size == (plain.height, plain.width)
    difference = ImageChops.difference(plain.transpose(Image.Transpose.TRANSPOSE), turned)
    assert max(ImageStat.Stat(difference).mean) < 2


@pytest.mark.parametrize(
    "matrix, transpose",
    [
        ((1, 0, 0, 1), None),
        ((0, 1, -1, 0), Image.Transpose.ROTATE_270),  # a phone held upright: 90 degrees clockwise
        ((0, -1, 1, 0), Image.Transpose.ROTATE_90),
        ((-1, 0, 0, -1), Image.Transpose.ROTATE_180),
        ((-1, 0, 0, 1), Image.Transpose.FLIP_LEFT_RIGHT),
        ((1, 0, 0, -1), Image.Transpose.FLIP_TOP_BOTTOM),
        ((0, 1, 1, 0), Image.Transpose.TRANSPOSE),
        ((0, -1, -1, 0), Image.Transpose.TRANSVERSE),
        ((0, 2, -2, 0), Image.Transpose.ROTATE_270),  # scaled: the turn is what counts
    ],
)
def test_each_right_angle_matrix_is_one_transpose(matrix, transpose) -> None:
    notes: list[str] = []
    assert video.display_transpose(matrix, notes.append) == transpose
    assert notes == []


def test_a_matrix_at_another_angle_is_left_unapplied_and_said() -> None:
    notes: list[str] = []
    assert video.display_transpose((0.7071, 0.7071, -0.7071, 0.7071), notes.append) is None
    assert "multiple of 90 degrees" in notes[0]


def test_pixels_wider_than_tall_widen_the_picture() -> None:
    assert video.display_size((800, 640), 1137 / 800) == (1137, 640)
    assert video.display_size((720, 576), 0.0) == (720, 576)  # unknown: square


# --- which frame -------------------------------------------------------------------------------


def test_a_black_first_frame_is_passed_over_for_the_first_with_a_picture() -> None:
    loaded = video.load(fixture("hevc-black-first-frame.mp4"), BOXES, MAX_PIXELS, Budget(None))
    assert video.frame_detail(loaded.image) >= video.BLANK_SPREAD
    assert loaded.notes == ()


def test_a_clip_that_is_all_black_still_gets_its_thumbnails_and_says_why_they_are_black() -> None:
    warnings: list[str] = []
    rendered = render(fixture("h264-all-black.mp4"), warnings=warnings)
    assert len(rendered.thumbnails) == 2
    assert warnings == ["every frame looked at in the first 10 s is blank (black, white or one colour): "
                        "the one with the most detail is the poster"]  # fmt: skip


def test_a_rules_time_chooses_the_frame_shown_then() -> None:
    data = fixture("vp9-square.webm")  # Big Buck Bunny: the picture changes within a second
    first = video.load(data, [Box(128, 128)], MAX_PIXELS, Budget(None), reading=Reading(poster=0)).image
    later = video.load(data, [Box(128, 128)], MAX_PIXELS, Budget(None), reading=Reading(poster=2.5)).image
    again = video.load(data, [Box(128, 128)], MAX_PIXELS, Budget(None), reading=Reading(poster=2.5)).image
    assert max(ImageStat.Stat(ImageChops.difference(first, later)).mean) > 5
    assert ImageChops.difference(later, again).getbbox() is None  # the same time, the same frame


def test_a_time_past_the_end_gives_the_last_frame_and_says_so() -> None:
    loaded = video.load(fixture("h264-landscape.mp4"), BOXES, MAX_PIXELS, Budget(None), reading=Reading(poster=60))
    assert loaded.notes and "past the video's end" in loaded.notes[0]


# --- ranged reads -------------------------------------------------------------------------------


def test_a_phone_clip_of_four_gigabytes_is_read_for_a_few_megabytes() -> None:
    """The 4K phone clip with 4 GB of media before its index: the head, the index at the end,
    the first frames' bytes, and never the media between."""
    size, fetch = grown(fixture("h264-4k-phone-portrait.mp4"), 4 << 30)
    source = RangedFile(size, fetch, head=fetch(0, BLOCK), max_bytes=DEFAULT_MAX_VIDEO_READ_BYTES)
    rendered = render(source)
    assert rendered.source_size == (2160, 3840)
    assert source.requests <= 4
    assert source.fetched < 5 << 20


def test_past_the_read_limit_the_clip_is_too_large_to_read() -> None:
    source = ranged(fixture("h264-4k-phone-portrait.mp4"), max_bytes=200_000)
    with pytest.raises(ReadLimitExceeded, match="MAX_VIDEO_READ_BYTES"):
        render(source)


def test_a_source_that_changes_while_read_is_a_conflict_not_bad_input() -> None:
    data = fixture("h264-4k-phone-portrait.mp4")

    def changed(start: int, end: int) -> bytes:
        raise WriteConflict("s3://b/k changed or went away while it was read")

    source = RangedFile(len(data), changed, head=data[:1 << 16], max_bytes=1 << 30)
    with pytest.raises(WriteConflict):
        render(source)


def test_only_a_video_is_handed_a_ranged_source() -> None:
    jpeg = fixture("h264-landscape.mp4")  # a stand-in: any RandomAccess whose head is not a video
    from tests.unit.test_readers import encode, photo  # noqa: PLC0415

    still = encode(photo((64, 64)), "JPEG")
    with pytest.raises(TypeError, match="read whole"):
        load_source(ranged(still), BOXES, MAX_PIXELS)
    assert load_source(ranged(jpeg), BOXES, MAX_PIXELS).size == (1080, 720)


# --- typed refusals ----------------------------------------------------------------------------


def test_an_audio_only_file_is_not_an_image() -> None:
    with pytest.raises(NotAnImage, match="without a video stream"):
        render(fixture("audio-only.mp4"))


def test_a_broken_bitstream_is_not_an_image() -> None:
    with pytest.raises(NotAnImage, match="could not decode the video"):
        render(fixture("vp9-invalid-bitstream.webm"))


@pytest.mark.parametrize("cut", [16, 100, 2000])
def test_a_clip_cut_short_is_not_an_image(cut: int) -> None:
    with pytest.raises(NotAnImage):
        render(fixture("h264-landscape.mp4")[:cut])


def test_a_stream_too_large_for_the_budget_is_refused_before_decoding() -> None:
    data = fixture("h264-4k-phone-portrait.mp4")
    with pytest.raises(ImageTooLarge, match="over the budget"):
        make_renditions(data, BOXES, MAX_PIXELS, budget=Budget(150 << 20), source_formats=WITH_VIDEO)
    with pytest.raises(ImageTooLarge, match="pixels, over the limit"):
        make_renditions(data, BOXES, 8_000_000, source_formats=WITH_VIDEO)


def test_the_estimate_counts_reference_frames_at_the_streams_depth_and_chroma() -> None:
    mb = 1 << 20
    four_k = [video.estimate_decode((3840, 2160), fmt) // mb for fmt in ("yuv420p", "yuv420p10le", "yuv444p10le")]
    assert four_k == sorted(four_k) and four_k[0] < 250 < four_k[1] < four_k[2]
    eight_k_hdr = video.estimate_decode((7680, 4320), "yuv420p10le") // mb
    assert eight_k_hdr < 924  # a phone's 8K HDR clip is admitted at 1024 MB (budget 924 MB)
    small = video.estimate_decode((640, 360), "yuv420p") - video.estimate_decode((16, 16), "yuv420p")
    assert small == 640 * 360 * 1.5 * 18 - 16 * 16 * 1.5 * 18  # 16 references below a level's bound


# --- sniffing, settings, names -----------------------------------------------------------------


@pytest.mark.parametrize(
    "head",
    [
        b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2",
        b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ",  # an iPhone's MOV
        b"\x00\x00\x00\x1cftypmp42\x00\x00\x00\x00mp42isomavc1",
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01",  # EBML: WebM, Matroska
        b"\x00\x00\x00\x08wide\x00\x00\x10\x00mdat",  # QuickTime before ftyp
        b"\x00\x00\x00\x01mdat\x00\x00\x00\x00\x00\x00\x10\x00",  # a 64-bit mdat first
        b"RIFF\xbe\x1a\x05\x00AVI LIST",  # AVI
        (b"\x47" + bytes(187)) * 3,  # an MPEG transport stream
        (bytes(4) + b"\x47" + bytes(187)) * 3,  # AVCHD's, a timestamp before each packet (.mts)
    ],
)
def test_movie_containers_are_sniffed_as_video(head: bytes) -> None:
    assert sniff_format(head) == VIDEO
    assert read_in_ranges(head, WITH_VIDEO)
    assert not read_in_ranges(head, DEFAULT_SOURCE_FORMATS)


def test_an_iso_file_of_a_heif_brand_is_still_heif_and_a_box_too_short_is_not_a_movie() -> None:
    assert sniff_format(b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic") == HEIF
    for head in (b"\x00\x00\x00\x05moov", b"\x47" + bytes(400), b"G" * 100, b"RIFF\x00\x00\x00\x00WAVEfmt "):
        with pytest.raises(NotAnImage):
            sniff_format(head)


def test_an_avchd_clip_and_an_avi_with_its_index_at_the_end_are_read_in_ranges() -> None:
    """AVCHD (.mts) is the transport stream with a 4-byte timestamp before each 188-byte packet;
    an AVI keeps its index (idx1) after its frames, as an MP4 from a camera keeps its moov."""
    stream = fixture("h264-transport-stream.ts")
    avchd = b"".join(bytes(4) + stream[i : i + 188] for i in range(0, len(stream), 188))
    assert render(avchd).source_size == (854, 480)
    source = ranged(fixture("mpeg4-part2.avi"), head=1 << 16)
    assert render(source).source_size == (960, 400)
    assert source.requests >= 1


def test_a_video_is_skipped_unless_source_formats_takes_video() -> None:
    assert skip_reason("clips/a.mp4", WITH_VIDEO) is None
    assert skip_reason("clips/a.MOV", WITH_VIDEO) is None
    assert skip_reason("camcorder/00001.MTS", WITH_VIDEO) is None
    assert skip_reason("src/app.ts", WITH_VIDEO) is not None  # TypeScript, not fetched
    assert skip_reason("clips/a.webm", DEFAULT_SOURCE_FORMATS) is not None
    with pytest.raises(NotAnImage, match="a VIDEO image, which SOURCE_FORMATS does not include"):
        make_renditions(fixture("h264-landscape.mp4"), BOXES, MAX_PIXELS, source_formats=DEFAULT_SOURCE_FORMATS)


@pytest.mark.parametrize("value, seconds", [("2", 2.0), ("2.5", 2.5), (" 0 ", 0.0), ("auto", None), ("", None)])
def test_video_poster_takes_seconds_or_auto(value: str, seconds: float | None) -> None:
    settings = Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "VIDEO_POSTER": value})
    assert settings.reading.poster == seconds


@pytest.mark.parametrize("value", ["-1", "two", "1e3", "2,5", "٢", "100000", "nan", "inf"])
def test_a_bad_video_poster_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match="VIDEO_POSTER"):
        Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "VIDEO_POSTER": value})


def test_a_rule_may_choose_its_poster_time_and_it_changes_the_digest_only_then() -> None:
    settings = Settings.from_env({
        "DESTINATION_BUCKET": "ok-bucket", "SOURCE_FORMATS": "jpeg,video",
        "THUMBNAIL_RULES": '{"trailers/": {"poster": "12.5"}, "clips/": {"poster": "auto"}}',
    })  # fmt: skip
    assert settings.rule_for("trailers/a.mp4").reading.poster == 12.5
    assert settings.rule_for("clips/a.mp4").reading == settings.default_rule.reading
    assert settings.rule_for("clips/a.mp4").digest == settings.default_rule.digest
    assert settings.rule_for("trailers/a.mp4").digest != settings.default_rule.digest


def test_read_limit_and_search_are_settings_with_bounds() -> None:
    settings = Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", "MAX_VIDEO_READ_BYTES": "16_777_216",
                                  "VIDEO_SEARCH_SECONDS": "30"})  # fmt: skip
    assert (settings.max_video_read_bytes, settings.reading.search_seconds) == (16 << 20, 30)
    for name, value in [("MAX_VIDEO_READ_BYTES", "1000"), ("VIDEO_SEARCH_SECONDS", "601")]:
        with pytest.raises(ConfigError, match=name):
            Settings.from_env({"DESTINATION_BUCKET": "ok-bucket", name: value})


# --- cold start --------------------------------------------------------------------------------

_PROBE = """
import sys
import create_thumbnail.app
from create_thumbnail.config import ALL_SOURCE_FORMATS, Box
from create_thumbnail.imaging import make_thumbnails
loaded = [("av" in sys.modules, "create_thumbnail.imaging.readers.video" in sys.modules)]
for path in sys.argv[1:]:
    make_thumbnails(open(path, "rb").read(), [Box(64, 64)], 50_000_000, source_formats=ALL_SOURCE_FORMATS)
    loaded.append(("av" in sys.modules, "create_thumbnail.imaging.readers.video" in sys.modules))
print(loaded)
"""


def test_pyav_is_imported_with_the_first_video_never_at_cold_start(tmp_path: Path) -> None:
    from tests.unit.test_readers import encode, photo  # noqa: PLC0415

    (tmp_path / "a.jpg").write_bytes(encode(photo((400, 300)), "JPEG"))
    files = [str(tmp_path / "a.jpg"), str(FIXTURES / "h264-landscape.mp4")]
    done = subprocess.run([sys.executable, "-c", _PROBE, *files], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})  # fmt: skip
    assert done.stdout.strip() == "[(False, False), (False, False), (True, True)]"


def test_every_setting_names_video() -> None:
    assert "video" in ALL_SOURCE_FORMATS
