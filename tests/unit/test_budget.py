"""The header checks and the memory estimate: shapes, scans and bytes per pixel, decided before a
pixel is decoded. The estimate's accuracy against measured peaks is benchmarks/budget_bench.py's;
the fuzz test (tests/fuzz/) holds every input's measured peak under the budget."""

from __future__ import annotations

from io import BytesIO

import pytest
from local_run.inputs.hostile import scan_bomb_jpeg, tall_palette_png, wide_rgb16_png
from local_run.inputs.samples import encode, photo, rgb16_png
from PIL import Image

from create_thumbnail.imaging.budget import (
    MAX_SCANS,
    Budget,
    Header,
    check_memory,
    check_scans,
    check_shape,
    count_scans,
    estimate_peak,
)
from create_thumbnail.config import ALL_SOURCE_FORMATS, Box, Settings
from create_thumbnail.errors import ConfigError, ImageTooLarge, NotAnImage
from create_thumbnail.imaging import make_thumbnails

MB = 1024 * 1024


@pytest.mark.parametrize(
    ("size", "reason"),
    [((1, 49_999_999), "a side over 65,535"), ((49_999_999, 1), "a side over 65,535"),
     ((65_536, 10), "a side over 65,535"), ((60_000, 5), "aspect ratio beyond 1:10,000"),
     ((3, 30_001), "aspect ratio beyond 1:10,000")],
)  # fmt: skip
def test_shapes_no_camera_makes_are_refused_with_their_reason(size, reason):
    with pytest.raises(ImageTooLarge, match=reason):
        check_shape(size)


@pytest.mark.parametrize("size", [(65_535, 7), (10_000, 1), (1, 10_000), (4000, 3000)])
def test_extreme_but_plausible_shapes_pass(size):
    check_shape(size)


@pytest.mark.parametrize(("options", "scans"), [({}, 1), ({"progressive": True}, 10)])
def test_scans_are_counted_from_the_markers(options, scans):
    assert count_scans(encode(photo((64, 48)), "JPEG", **options)) == scans


def test_an_exif_thumbnail_with_scans_of_its_own_is_not_counted():
    thumbnail = encode(photo((32, 24)), "JPEG", progressive=True)
    exif = Image.Exif()
    exif[0x0112] = 1
    data = encode(photo((64, 48)), "JPEG", exif=exif.tobytes() + thumbnail)
    assert count_scans(data) == 1


def test_a_scan_bomb_is_refused_by_its_count():
    with pytest.raises(ImageTooLarge, match=r"a JPEG of 20,010 scans, over the limit of 100 scans"):
        check_scans(scan_bomb_jpeg(), (7000, 7000))


def test_fewer_scans_of_a_large_image_are_refused_by_the_pixels_they_walk():
    check_scans(scan_bomb_jpeg(scans=30), (7000, 7000))  # 40 scans of 49 MP: 1.96e9
    with pytest.raises(ImageTooLarge, match=r"50 scans of 7000x7000 pixels walk 2,450,000,000 pixels"):
        check_scans(scan_bomb_jpeg(scans=40), (7000, 7000))
    assert count_scans(scan_bomb_jpeg(scans=MAX_SCANS - 10)) == MAX_SCANS


@pytest.mark.parametrize("mode", ["RGB", "L"])
def test_a_sequential_jpeg_cannot_repeat_its_scans(mode):
    """Why only progressive JPEGs have their scans counted: libjpeg stops a sequential one at the
    first scan that comes round to a component again, long before its pixels cost anything."""
    data = encode(photo((640, 480)).convert(mode), "JPEG")
    first_scan = data.index(b"\xff\xda")
    repeated = data[:first_scan] + data[first_scan:-2] * 500 + b"\xff\xd9"
    with pytest.raises(NotAnImage):
        make_thumbnails(repeated, [Box(256, 256)], 50_000_000)


@pytest.mark.parametrize(
    ("data", "reason"),
    [(tall_palette_png(), "1x49999999: a side over 65,535"), (wide_rgb16_png(), "49999999x1: a side over 65,535"),
     (scan_bomb_jpeg(), "20,010 scans")],
    ids=["tall-palette-png", "wide-16-bit-png", "scan-bomb-jpeg"],
)  # fmt: skip
def test_the_hostile_inputs_are_refused_before_decoding(data, reason):
    with pytest.raises(ImageTooLarge, match=reason):
        make_thumbnails(data, [Box(256, 256)], 50_000_000, budget=Budget.for_memory(1024))


def _header(data: bytes) -> tuple[Header, tuple[int, int]]:
    image = Image.open(BytesIO(data))
    return Header.of(image), image.size


@pytest.mark.parametrize(
    ("image", "path"),
    [(Image.new("RGB", (8, 8)), "RGB"), (Image.new("RGBA", (8, 8)), "RGB+alpha"), (Image.new("L", (8, 8)), "L"),
     (Image.new("LA", (8, 8)), "L+alpha"), (Image.new("P", (8, 8)), "P"), (Image.new("1", (8, 8)), "1"),
     (Image.new("I;16", (8, 8)), "I;16")],
)  # fmt: skip
def test_each_mode_pillow_decodes_takes_its_path(image, path):
    assert _header(encode(image, "TIFF"))[0].path == path


@pytest.mark.parametrize(
    ("data", "path"),
    [(encode(Image.new("P", (8, 8)), "PNG"), "RGB"), (encode(Image.new("P", (8, 8)), "PNG", transparency=0), "RGB+alpha"),
     (encode(Image.new("1", (8, 8)), "PNG"), "L"), (encode(Image.new("I;16", (8, 8)), "PNG", transparency=0), "L+alpha"),
     (rgb16_png(Image.new("RGB", (8, 8)), key=(0, 0, 0)), "RGB+alpha"), (rgb16_png(Image.new("RGB", (8, 8))), "RGB")],
)  # fmt: skip
def test_a_png_takes_the_path_of_the_eight_bit_image_libvips_hands_back(data, path):
    assert _header(data)[0].path == path


def test_a_progressive_jpeg_pays_for_its_coefficients_at_full_size():
    baseline, _ = _header(encode(photo((800, 600)), "JPEG"))
    progressive, _ = _header(encode(photo((800, 600)), "JPEG", progressive=True))
    grey, _ = _header(encode(photo((800, 600)).convert("L"), "JPEG", progressive=True))
    assert baseline.coefficient_bytes == 0
    assert progressive.coefficient_bytes == 800 * 600 * 3  # 4:2:0: Y, and Cb, Cr at a quarter
    assert grey.coefficient_bytes == 800 * 600 * 2


def test_the_estimate_grows_with_pixels_alpha_and_transposition():
    header_rgb, _ = _header(encode(Image.new("RGB", (8, 8)), "TIFF"))
    header_rgba, _ = _header(encode(Image.new("RGBA", (8, 8)), "TIFF"))
    boxes = [Box(256, 256)]
    rgb = estimate_peak(header_rgb, (4000, 3000), boxes, transposes=False)
    assert 4.3 * 12e6 < rgb < 4.3 * 12e6 + 12 * MB  # the pixels, Pillow's fixed costs, the resize
    assert estimate_peak(header_rgba, (4000, 3000), boxes, False) > rgb + 3.9 * 12e6
    assert estimate_peak(header_rgb, (4000, 3000), boxes, True) > rgb + 3.9 * 12e6


def test_a_png_streams_so_its_width_and_sample_depth_count_beside_its_shrunk_pixels():
    """libvips holds whole rows while it shrinks a PNG: at the same pixel count, a wide one holds
    more than a square one, and 16-bit rows more than 8-bit ones. Other formats stream nothing."""
    square = _header(encode(Image.new("L", (2000, 2000)), "PNG"))[0]
    wide = _header(encode(Image.new("L", (40_000, 100)), "PNG"))[0]
    sixteen = _header(encode(Image.new("I;16", (40_000, 100)), "PNG"))[0]
    assert 0 < square.streaming_bytes < wide.streaming_bytes < sixteen.streaming_bytes
    assert _header(encode(Image.new("L", (2000, 2000)), "TIFF"))[0].streaming_bytes == 0


def test_the_budget_is_the_functions_memory_less_the_runtimes():
    assert Budget.for_memory(1024).bytes == 924 * MB
    check_memory(900 * MB, Budget.for_memory(1024), held=24 * MB)
    with pytest.raises(ImageTooLarge, match=r"about 925 MB, over the budget of 924 MB"):
        check_memory(900 * MB, Budget.for_memory(1024), held=25 * MB)
    check_memory(10**12, Budget(None), held=0)


def test_the_same_image_fits_1024_mb_but_not_512():
    """A 30 MP WebP: Pillow's full decode plus libwebp's own buffers, ~16 bytes a pixel."""
    data = encode(Image.new("RGB", (6000, 5000), (10, 20, 30)), "WEBP", lossless=True, method=0)
    header, size = _header(data)
    estimate = estimate_peak(header, size, [Box(64, 64)], transposes=False)
    check_memory(estimate, Budget.for_memory(1024), held=len(data))
    with pytest.raises(ImageTooLarge, match=r"about 4\d\d MB, over the budget of 412 MB"):
        make_thumbnails(data, [Box(64, 64)], 50_000_000, budget=Budget.for_memory(512), source_formats=ALL_SOURCE_FORMATS)


def test_the_functions_memory_comes_from_lambdas_variable():
    env = {"DESTINATION_BUCKET": "resized"}
    assert Settings.from_env(env).memory_mb == 1024  # template.yaml's, where Lambda does not say
    assert Settings.from_env({**env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "2048"}).memory_mb == 2048
    with pytest.raises(ConfigError, match="AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '64' must be from 128 to 10240"):
        Settings.from_env({**env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "64"})


def test_a_long_animation_of_large_frames_keeps_only_its_first_frame_within_the_budget():
    """60 frames of 1500 x 1000 for a 1024 box: ~2.5 GB of resized frames held, far over half
    of 412 MB; the thumbnail is the first frame and the warning says why."""
    from create_thumbnail.config import ALL_SOURCE_FORMATS, Encoding

    frames = [Image.new("RGB", (1500, 1000), (i * 4, 0, 0)) for i in range(60)]
    data = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)
    warnings: list[str] = []
    [thumbnail] = make_thumbnails(data, [Box(1024, 1024)], 100_000_000, Encoding(animated=True), warnings.append,
                                  Budget.for_memory(512), source_formats=ALL_SOURCE_FORMATS)  # fmt: skip
    assert thumbnail.frames == 1 and thumbnail.format == "PNG"
    assert warnings[0].startswith("animation of 60 frames would hold ") and "over half the memory budget" in warnings[0]


FUZZ_BOXES = [Box(256, 256), Box(1024, 1024), Box(150, 150, "cover")]


def _tiny(image_format: str, mode: str) -> bytes:
    """A small image of the format and mode: every AVIF (and every HEIF) of a mode is budgeted
    alike, whatever depth and chroma its boxes declare."""
    from local_run.inputs.samples import heif_bytes

    from create_thumbnail.imaging.readers.heif import register as register_heif

    register_heif()
    picture = Image.new(mode, (16, 16), (10, 20, 30, 40)[: len(mode)])
    return heif_bytes(picture) if image_format == "HEIF" else encode(picture, image_format)


@pytest.mark.parametrize(
    ("image_format", "mode", "size", "peak_mb"),
    [("AVIF", "RGBA", (7071, 7071), 854), ("AVIF", "RGB", (7071, 7071), 621), ("AVIF", "RGBA", (4000, 3000), 221),
     ("AVIF", "RGB", (4000, 3000), 166), ("AVIF", "RGBA", (2000, 1500), 62), ("AVIF", "RGBA", (1000, 750), 34),
     ("AVIF", "RGB", (1000, 750), 31), ("HEIF", "RGBA", (4000, 3000), 243), ("HEIF", "RGB", (4000, 3000), 186),
     ("HEIF", "RGBA", (2000, 1500), 62), ("HEIF", "RGBA", (1000, 750), 29)],
    ids=["avif-rgba-ispe-50mp", "avif-rgb-ispe-50mp", "avif-rgba-12mp", "avif-rgb-12mp", "avif-rgba-3mp", "avif-rgba-0.75mp",
         "avif-rgb-0.75mp", "heif-rgba-12mp", "heif-rgb-12mp", "heif-rgba-3mp", "heif-rgba-0.75mp"],
)  # fmt: skip
def test_the_avif_and_heif_estimate_is_not_below_the_measured_peak(image_format, mode, size, peak_mb):
    """The costliest of each: 10 bits a sample, 4:4:4 (tests/fuzz/decoder_peaks.py; 854 MB is the
    fuzz finding, a 3 KB 10-bit AVIF with alpha whose ispe says 7071x7071, estimated at 722 MB).
    The decoders keep two bytes a sample for anything over 8 bits, and chroma whole at 4:4:4,
    whatever av1C, pixi or hvcC say, so the estimate cannot go by those boxes."""
    header, _ = _header(_tiny(image_format, mode))
    assert estimate_peak(header, size, FUZZ_BOXES, transposes=False) >= peak_mb * MB


def test_a_ten_bit_avif_with_alpha_claiming_25_mp_is_refused_at_512_mb():
    """libavif scales the 128 px picture up to what ispe says, two bytes a sample: about 450 MB at
    25 MP, over the 412 MB a 512 MB function may decode in. The old estimate (13.6 B/px)
    admitted it."""
    import struct

    from tests.fuzz.seeds import avif_bytes, photo

    data = avif_bytes(photo((128, 128), 3, "RGBA"), 10)
    at = data.index(b"ispe") + 8
    data = data[:at] + struct.pack(">II", 5000, 5000) + data[at + 8 :]
    with pytest.raises(ImageTooLarge, match=r"over the budget of 412 MB"):
        make_thumbnails(data, FUZZ_BOXES, 50_000_000, budget=Budget.for_memory(512), source_formats=ALL_SOURCE_FORMATS)
