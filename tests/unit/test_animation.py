"""Animations kept (THUMBNAIL_ANIMATED=true) within their budgets for every frame, not only the
first: a GIF frame outside the logical screen (Pillow grows the canvas when it reaches it, after
the header was checked), many frames composited on a far-grown canvas, the memory of
compositing one frame at the canvas, and GIF delays that add up past their 16-bit field."""

from __future__ import annotations

import struct
import time
from io import BytesIO

import pytest
from local_run.inputs.samples import encode
from PIL import Image

from create_thumbnail.config import ALL_SOURCE_FORMATS, Box, Encoding
from create_thumbnail.errors import ImageTooLarge, NotAnImage
from create_thumbnail.imaging import make_thumbnails
from create_thumbnail.imaging.budget import Budget, estimate_animation_peak
from create_thumbnail.imaging.formats import FORMATS, encode_animation
from create_thumbnail.imaging.readers.animated import animate, frames_held
from create_thumbnail.imaging.renditions import centre_by

BOXES = [Box(256, 256)]
MAX_PIXELS = 50_000_000
ANIMATED = Encoding(formats=("source",), animated=True)
MB = 1024 * 1024


def _frames(count: int, size: tuple[int, int] = (120, 90)) -> list[Image.Image]:
    frames = [Image.new("P", size, n % 200) for n in range(count)]
    for frame in frames:
        frame.putpalette([v for i in range(256) for v in (i, 255 - i, i // 2)])
    return frames


def _gif(frames: list[Image.Image], duration: int | list[int] = 100) -> bytes:
    return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=duration, loop=0)


def _descriptors(data: bytes) -> list[int]:
    """Where each image descriptor (0x2C) is, walking the blocks."""
    found, position = [], 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
    while position < len(data) and data[position] != 0x3B:
        if data[position] == 0x2C:
            found.append(position)
            flags = data[position + 9]
            position += 11 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0)
        else:
            position += 2
        while data[position]:
            position += 1 + data[position]
        position += 1
    return found


def _moved(data: bytes, frame: int, left: int, top: int) -> bytes:
    at = _descriptors(data)[frame]
    return data[: at + 1] + struct.pack("<2H", left, top) + data[at + 5 :]


def _thumbnails(data: bytes, warnings: list[str], memory_mb: int = 1024) -> list:
    return make_thumbnails(data, BOXES, MAX_PIXELS, ANIMATED, warnings.append, Budget.for_memory(memory_mb),
                           source_formats=ALL_SOURCE_FORMATS)  # fmt: skip


def test_a_later_frame_that_grows_the_canvas_past_a_still_images_limits_is_too_large():
    """Frame 2 at (30000, 30000) would grow the 120x90 canvas to 906 MP: Pillow's own bomb error,
    untyped, came from readers/animated.py when it reached that frame."""
    data = _moved(_gif(_frames(3)), 2, 30_000, 30_000)
    with pytest.raises(ImageTooLarge, match=r"frame 2 at \(30000,30000\), 120x90 would grow the 120x90 canvas to 30120x30090"):
        _thumbnails(data, [])


def test_a_later_frame_outside_the_screen_keeps_the_first_frame_and_says_which():
    """Browsers clip such a frame; Pillow would grow the canvas mid-animation, giving frames of
    two sizes. Within the limits it is not a bomb: the first frame is kept, with the reason."""
    data = _moved(_gif(_frames(3)), 1, 100, 0)
    warnings: list[str] = []
    thumbnails = _thumbnails(data, warnings)
    assert [t.frames for t in thumbnails] == [1]
    assert warnings == ["frame 1 at (100,0), 120x90 lies outside the 120x90 canvas (browsers clip it, "
                        "Pillow would grow the canvas): first frame kept"]  # fmt: skip


def test_one_far_frame_among_many_does_not_composite_every_later_frame_at_the_grown_size():
    """99 frames, the tenth at (6000, 6000): every frame after it was composited at 36 MP, a
    minute of work. Refused from the descriptors before any frame is decoded."""
    data = _moved(_gif(_frames(99)), 9, 6000, 6000)
    warnings: list[str] = []
    started = time.process_time()
    [thumbnail] = _thumbnails(data, warnings)
    assert thumbnail.frames == 1 and "frame 9 at (6000,6000)" in warnings[0]
    assert time.process_time() - started < 5  # seconds, where compositing took 14-60


def test_compositing_one_frame_must_fit_the_budget_beside_the_frames_kept():
    """Two 4000x4000 frames at 512 MB: the still first frame fits (16 MP of palette), but
    compositing a frame holds Pillow's canvas, the frame decoded at the canvas' size and its
    copies, about 25 bytes a canvas pixel (tests/fuzz/decoder_peaks.py measured 414 MB for two
    such frames), over the 412 MB budget."""
    data = _gif(_frames(2, (4000, 4000)))
    warnings: list[str] = []
    [thumbnail] = _thumbnails(data, warnings, memory_mb=512)
    assert thumbnail.frames == 1
    assert warnings[0].startswith("animation of 2 frames would take about ") and "to composite at 4000x4000" in warnings[0]
    assert "over the memory budget of 412 MB: first frame kept" in warnings[0]


@pytest.mark.parametrize(
    ("image_format", "side", "input_mb", "peak_mb"),
    [("GIF", 4000, 10, 415), ("GIF", 5000, 16, 649), ("WEBP", 3000, 40, 459), ("WEBP", 4000, 69, 791),
     ("WEBP", 4000, 73, 805)],
)  # fmt: skip
def test_the_compositing_estimate_is_not_below_the_measured_peak(image_format, side, input_mb, peak_mb):
    """tests/fuzz/decoder_peaks.py: two photo-like frames filling the canvas, opaque or not, the
    whole call's peak at the fuzz test's three boxes; a lossless WebP's file (input_mb) is held
    once by each of the three images opened."""
    boxes = [Box(256, 256), Box(1024, 1024), Box(150, 150, "cover")]
    canvas = (side, side)
    estimate = frames_held(2, canvas, boxes) + estimate_animation_peak(image_format, canvas, boxes, input_mb * MB)
    assert estimate >= peak_mb * MB


def test_a_frame_that_grows_the_canvas_while_decoding_is_refused_before_it_is_composited():
    """animate's own check, should the descriptors ever be read otherwise than Pillow reads
    them: the frame's canvas is compared with the one checked before its pixels are taken."""
    data = _moved(_gif(_frames(3)), 1, 2000, 2000)
    with pytest.raises(ImageTooLarge, match=r"frame 1 grows the 120x90 canvas to 2120x2090 after the checks"):
        animate(data, BOXES, centre_by("attention", None), lambda frame: frame)


def test_a_decoders_complaint_about_a_later_frame_is_not_an_image():
    """The second frame's graphic control block says it has transparency in one byte: Pillow's
    GIF reader indexes the fourth (IndexError) as it counts or reaches the frames."""
    data = _gif(_frames(3))
    second = data.index(b"\x21\xf9\x04", data.index(b"\x21\xf9\x04") + 1)
    data = data[:second] + b"\x21\xf9\x01\x01\x00" + data[second + 8 :]
    with pytest.raises(NotAnImage, match="IndexError"):
        animate(data, BOXES, centre_by("attention", None), lambda frame: frame)


def test_our_own_error_while_animating_is_not_taken_for_bad_bytes():
    def broken(frame: Image.Image) -> Image.Image:
        raise TypeError("a bug of ours")

    with pytest.raises(TypeError, match="a bug of ours"):
        animate(_gif(_frames(3)), BOXES, centre_by("attention", None), broken)


def test_identical_frames_whose_delays_add_up_past_sixteen_bits_are_written_clamped():
    """Three identical frames of 655.35 s: Pillow's writer merges them into one of 1,966 s and
    cannot write it (OverflowError). GIF holds 655.35 s at most: that is what is written."""
    data = _repeated_frame(3, 65_535)
    [thumbnail] = _thumbnails(data, [])
    written = Image.open(BytesIO(thumbnail.data))
    assert thumbnail.format == "GIF" and written.info["duration"] == 655_350


def _repeated_frame(count: int, delay_cs: int) -> bytes:
    """One frame's blocks written count times, each with its own delay: Pillow's writer would
    merge them while the test makes them."""
    data = _gif(_frames(2))
    first, second = _descriptors(data)[:2]
    control = data.rindex(b"\x21\xf9\x04", 0, first)
    frame = data[first : data.rindex(b"\x21\xf9\x04", 0, second)]
    block = b"\x21\xf9\x04" + bytes([data[control + 3]]) + struct.pack("<H", delay_cs) + b"\0\0"
    return data[:control] + (block + frame) * count + b"\x3b"


@pytest.mark.parametrize(
    ("colours", "durations", "written"),
    [("RRRRR", [600_000] * 5, [655_350]), ("RRGGR", [400_000, 400_000, 100, 300_000, 655_350], [655_350, 300_100, 655_350]),
     ("RG", [16_777_215, 100], [655_350, 100]), ("RR", [100, 100], [200])],
    ids=["merged-past-the-field", "merged-runs", "one-frame-past-the-field", "short-merged"],
)  # fmt: skip
def test_gif_delays_never_pass_the_field_merged_or_not(colours, durations, written):
    """Delays in ms, GIF's field in centiseconds: 655,350 ms at most, whatever a WebP source
    said and however many identical frames the writer merges into one."""
    paint = {"R": (200, 10, 10, 255), "G": (10, 200, 10, 255)}
    frames = [Image.new("RGBA", (32, 24), paint[colour]) for colour in colours]
    data = encode_animation(frames, durations, 0, FORMATS["GIF"], Encoding())
    image = Image.open(BytesIO(data))
    delays = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        delays.append(image.info["duration"])
    assert delays == written
