"""Animated GIF and WebP thumbnails that stay animated (THUMBNAIL_ANIMATED=true).

Every frame is decoded composited (Pillow applies each frame's disposal), resized to every box
and kept; the thumbnail's frames are whole, so no disposal tricks are needed when writing them.
What that costs is bounded before the first frame is decoded, from the headers and the frame
descriptors alone: no more than Encoding.max_frames frames; no more pixels composited over all
of them than the still image limit (MAX_SOURCE_PIXELS), each frame counted at the whole canvas,
since that is what Pillow composites for it however small the frame; and the frames kept plus
one frame's compositing within the memory budget (budget.estimate_animation_peak). Beyond any
of these, the thumbnail is made from the first frame and the caller is told why.

A GIF frame may lie outside the logical screen its header declares. Browsers clip it; Pillow
grows the canvas when it reaches that frame, long after the header was checked, and composites
every later frame at the grown size: two bytes of offset made 36 MP of every frame after it. Such
a frame keeps the animation to its first frame; one that would grow the canvas beyond what a
still image may be (budget.check_shape, MAX_SOURCE_PIXELS) is a decompression bomb, refused as
ImageTooLarge like that still image. While the frames are decoded, each is checked again before
it is composited: a canvas other than the one checked (Pillow reading a descriptor that the walk
here did not) stops the animation as ImageTooLarge before its pixels are taken.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO

from PIL import Image

from create_thumbnail.config import Box, Encoding
from create_thumbnail.errors import ImageTooLarge
from create_thumbnail.imaging.budget import Budget, check_shape, estimate_animation_peak
from create_thumbnail.imaging.readers.decoding import decoding
from create_thumbnail.imaging.readers.orientation import TRANSPOSE, orientation_of
from create_thumbnail.imaging.renditions import Centre, resize_all, whole_size

_DEFAULT_DURATION_MS = 100  # browsers' own for a frame that names none
_MB = 1024 * 1024
# What Pillow's GIF and WebP plugins raise about bytes they cannot read, from open, seek and
# load: truncated or corrupt data (OSError, EOFError, SyntaxError, ValueError), and a graphic
# control block shorter than its fields, which the GIF plugin indexes and unpacks unchecked
# (IndexError, struct.error). Only those three calls are wrapped: the same types from our own
# code are bugs and stay untyped.
_TRAILER, _EXTENSION, _DESCRIPTOR = 0x3B, 0x21, 0x2C


@dataclass(frozen=True, slots=True)
class Animation:
    frames: dict[Box, list[Image.Image]]
    durations: list[int]
    loop: int


@dataclass(frozen=True, slots=True)
class Outside:
    """The first frame after the first that does not fit the canvas, and the canvas Pillow would
    grow to by the last frame."""

    index: int
    region: tuple[int, int, int, int]  # left, top, right, bottom
    grown: tuple[int, int]

    def __str__(self) -> str:
        left, top, right, bottom = self.region
        return f"frame {self.index} at ({left},{top}), {right - left}x{bottom - top}"


def read_animation(
    data: bytes, boxes: Sequence[Box], max_pixels: int, encoding: Encoding, centre: Centre,
    warn: Callable[[str], None], budget: Budget,
) -> Animation | None:
    """Every frame resized to every box, when THUMBNAIL_ANIMATED keeps animations and data is an
    animated GIF or WebP within the limits; None otherwise (warn hears why, when it is the
    limits), and the thumbnail is made from the still image alone."""
    if not encoding.animated:
        return None
    with decoding():
        image = Image.open(BytesIO(data))
    if image.format not in ("GIF", "WEBP"):
        return None
    with decoding():  # a GIF's decoder seeks through every frame to count them
        frames = getattr(image, "n_frames", 1)  # Pillow keeps the count: within_limits reads it again
    if frames < 2:
        return None
    problem = within_limits(image, boxes, encoding, max_pixels, budget.bytes)
    if problem:
        warn(problem)
        return None
    method = TRANSPOSE.get(orientation_of(image))
    return animate(data, boxes, centre, lambda frame: frame if method is None else frame.transpose(method))


def frame_count(image: Image.Image) -> int:
    """Pillow's count, read from the frame descriptors (GIF) or the demuxer (WebP)."""
    with decoding():
        return getattr(image, "n_frames", 1) if getattr(image, "is_animated", False) else 1


def within_limits(
    image: Image.Image, boxes: Sequence[Box], encoding: Encoding, max_pixels: int, budget_bytes: int | None
) -> str | None:
    """Why the animation cannot be kept, or None if it can. Every resized frame of every box is
    held until the thumbnails are written (frames_held), beside one frame being composited.
    Raises ImageTooLarge for a frame that would grow the canvas beyond a still image's limits."""
    count = frame_count(image)
    if count > encoding.max_frames:
        return f"animation of {count} frames kept as its first frame: over MAX_FRAMES ({encoding.max_frames})"
    canvas = image.size
    if (outside := _outside(image, count)) is not None:
        _check_grown(outside, canvas, max_pixels)
        width, height = canvas
        return f"{outside} lies outside the {width}x{height} canvas (browsers clip it, Pillow would grow the canvas): first frame kept"
    pixels = count * canvas[0] * canvas[1]
    if pixels > max_pixels:
        return f"animation of {count} frames is {pixels:,} pixels in all, over MAX_SOURCE_PIXELS ({max_pixels:,}): first frame kept"
    held = frames_held(count, canvas, boxes)
    if budget_bytes is not None and held > budget_bytes // 2:
        return f"animation of {count} frames would hold {held / _MB:,.0f} MB of frames, over half the memory budget: first frame kept"
    peak = held + estimate_animation_peak(image.format or "", canvas, boxes, _input_length(image))
    if budget_bytes is not None and peak > budget_bytes:
        return (
            f"animation of {count} frames would take about {peak / _MB:,.0f} MB to composite at "
            f"{canvas[0]}x{canvas[1]}, over the memory budget of {budget_bytes / _MB:,.0f} MB: first frame kept"
        )
    return None


def frames_held(count: int, canvas: tuple[int, int], boxes: Sequence[Box]) -> int:
    """Bytes of the resized frames kept for the encoders: RGBA, with a copy each as encoded."""
    return 8 * count * sum(w * h for w, h in (whole_size(canvas, box) for box in boxes))


def animate(data: bytes, boxes: Sequence[Box], centre: Centre, transpose: Callable[[Image.Image], Image.Image]) -> Animation:
    """Every frame of data, composited, turned upright by transpose, resized to every box. Each
    frame is checked before it is composited: on the canvas within_limits checked, or refused."""
    with decoding():
        image = Image.open(BytesIO(data))
    canvas, count = image.size, frame_count(image)
    frames: dict[Box, list[Image.Image]] = {box: [] for box in boxes}
    durations = []
    crop_centres: dict[tuple[int, int], tuple[float, float]] = {}

    def same_crop_for_every_frame(frame: Image.Image, aspect: tuple[int, int]) -> tuple[float, float]:
        if aspect not in crop_centres:
            crop_centres[aspect] = centre(frame, aspect)
        return crop_centres[aspect]

    for index in range(count):
        with decoding():
            image.seek(index)  # reads the frame's descriptor: a GIF's may grow the canvas
        if image.size != canvas:
            raise ImageTooLarge(
                f"frame {index} grows the {canvas[0]}x{canvas[1]} canvas to {image.width}x{image.height} "
                "after the checks: refused before it is composited"
            )
        with decoding():
            image.load()
        upright = transpose(image.convert("RGBA"))
        for box, resized in resize_all(upright, boxes, same_crop_for_every_frame).items():
            frames[box].append(resized)
        durations.append(int(image.info.get("duration") or _DEFAULT_DURATION_MS))
    return Animation(frames, durations, int(image.info.get("loop", 0)))


def _check_grown(outside: Outside, canvas: tuple[int, int], max_pixels: int) -> None:
    """A canvas grown past what a still image may be is a bomb, not a quirk to clip."""
    width, height = outside.grown
    try:
        check_shape(outside.grown)
        if width * height > max_pixels:
            raise ImageTooLarge(f"{width * height:,} pixels, over the limit of {max_pixels:,}")
    except ImageTooLarge as error:
        raise ImageTooLarge(f"{outside} would grow the {canvas[0]}x{canvas[1]} canvas to {width}x{height}: {error}") from None


def _input_length(image: Image.Image) -> int:
    source = image.fp
    return source.getbuffer().nbytes if isinstance(source, BytesIO) else 0


def _outside(image: Image.Image, count: int) -> Outside | None:
    """The first frame after the first whose region Pillow would grow the canvas for (the first
    frame's own growth is in image.size already), read from a GIF's frame descriptors. A WebP
    frame outside its canvas is refused by libwebp's demuxer when the file is opened."""
    source = image.fp
    if image.format != "GIF" or not isinstance(source, BytesIO):
        return None
    with source.getbuffer() as data:
        regions = _gif_regions(data, count)
    width, height = image.size
    found = next((i for i, (_, _, right, bottom) in enumerate(regions) if i and (right > width or bottom > height)), None)
    if found is None:
        return None
    grown = (max(width, *(r[2] for r in regions)), max(height, *(r[3] for r in regions)))
    return Outside(found, regions[found], grown)


def _gif_regions(data: memoryview, limit: int) -> list[tuple[int, int, int, int]]:
    """Each frame's region (left, top, right, bottom) as its image descriptor gives it, for at most
    limit frames. The blocks are walked as Pillow walks them: a byte that starts no block is
    skipped, a run of sub-blocks ends at a zero length or at the end of the data, the trailer or
    the end of the data ends the frames."""
    if len(data) < 13:
        return []
    regions: list[tuple[int, int, int, int]] = []
    position = 13 + _colour_table(data[10])
    while position < len(data) and len(regions) < limit:
        introducer = data[position]
        if introducer == _TRAILER:
            break
        if introducer == _EXTENSION:  # a label, then sub-blocks
            position = _after_sub_blocks(data, position + 2)
        elif introducer == _DESCRIPTOR:  # left, top, width, height, flags; colours; LZW size
            if position + 10 > len(data):
                break
            left, top, width, height = struct.unpack_from("<4H", data, position + 1)
            regions.append((left, top, left + width, top + height))
            position = _after_sub_blocks(data, position + 11 + _colour_table(data[position + 9]))
        else:
            position += 1
    return regions


def _colour_table(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _after_sub_blocks(data: memoryview, position: int) -> int:
    while position < len(data) and data[position]:
        position += 1 + data[position]
    return position + 1
