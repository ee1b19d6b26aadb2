"""Animated GIF and WebP thumbnails that stay animated (THUMBNAIL_ANIMATED=true).

Every frame is decoded composited (Pillow applies each frame's disposal), resized to every box
and kept; the thumbnail's frames are whole, so no disposal tricks are needed when writing them.
What that costs is bounded before the first frame is decoded: no more than Encoding.max_frames
frames, and no more pixels over all of them than the still image limit (MAX_SOURCE_PIXELS).
Beyond either, the thumbnail is made from the first frame and the caller is told why.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from io import BytesIO

from PIL import Image, ImageSequence

from create_thumbnail.config import Box, Encoding
from create_thumbnail.renditions import Centre, resize_all, whole_size

_DEFAULT_DURATION_MS = 100  # browsers' own for a frame that names none


@dataclass(frozen=True, slots=True)
class Animation:
    frames: dict[Box, list[Image.Image]]
    durations: list[int]
    loop: int


def frame_count(image: Image.Image) -> int:
    return getattr(image, "n_frames", 1) if getattr(image, "is_animated", False) else 1


def within_limits(
    image: Image.Image, boxes: Sequence[Box], encoding: Encoding, max_pixels: int, budget_bytes: int | None
) -> str | None:
    """Why the animation cannot be kept, or None if it can. Every resized frame of every box is
    held until the thumbnails are written, with a copy each for the encoder: 8 bytes a pixel."""
    count = frame_count(image)
    if count > encoding.max_frames:
        return f"animation of {count} frames kept as its first frame: over MAX_FRAMES ({encoding.max_frames})"
    pixels = count * image.width * image.height
    if pixels > max_pixels:
        return f"animation of {count} frames is {pixels:,} pixels in all, over MAX_SOURCE_PIXELS ({max_pixels:,}): first frame kept"
    held = 8 * count * sum(w * h for w, h in (whole_size(image.size, box) for box in boxes))
    if budget_bytes is not None and held > budget_bytes // 2:
        return f"animation of {count} frames would hold {held / 2**20:,.0f} MB of frames, over half the memory budget: first frame kept"
    return None


def animate(data: bytes, boxes: Sequence[Box], centre: Centre, transpose: Callable[[Image.Image], Image.Image]) -> Animation:
    """Every frame of data, composited, turned upright by transpose, resized to every box."""
    image = Image.open(BytesIO(data))
    frames: dict[Box, list[Image.Image]] = {box: [] for box in boxes}
    durations = []
    crop_centres: dict[tuple[int, int], tuple[float, float]] = {}

    def same_crop_for_every_frame(frame: Image.Image, aspect: tuple[int, int]) -> tuple[float, float]:
        if aspect not in crop_centres:
            crop_centres[aspect] = centre(frame, aspect)
        return crop_centres[aspect]

    for frame in ImageSequence.Iterator(image):
        upright = transpose(frame.convert("RGBA"))
        for box, resized in resize_all(upright, boxes, same_crop_for_every_frame).items():
            frames[box].append(resized)
        durations.append(int(frame.info.get("duration") or _DEFAULT_DURATION_MS))
    return Animation(frames, durations, int(image.info.get("loop", 0)))
