"""One decoded, upright image -> one resized image per box, each resampled from as little as will do.

Fit boxes ("inside") are made largest first, and each smaller one resamples the smallest
rendition made so far that still has _GAP times its size: three boxes cost little more than the
largest alone. A cover box is a region of the image (crop.py says where) resized to the box;
Pillow reads the region straight from the source it is given (resize's box), so nothing is
copied to crop, and a fit rendition serves as that source when it is large enough. A large RGB
image shrunk by up to 3x goes to libvips' resampler instead (libvips.py): twice Pillow's speed.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from PIL import Image

from create_thumbnail.config import COVER, Box
from create_thumbnail.imaging.crop import CENTRE, Point, Region, attention_centre, cover_region, cover_size
from create_thumbnail.imaging.libvips import resample_rgb

# A smaller box is cut from a rendition only if that rendition has GAP times its pixels per side
# (else from the decoded image): the smallest such rendition, so three boxes cost little more than
# the largest alone.
GAP = 1.5
# A JPEG draft (1/2, 1/4, 1/8, in the DCT) or a PNG's shrink-on-load (readers/png.py: whole blocks
# of pixels averaged, any factor) stops at no less than SHRINK_MARGIN times the largest box, so a
# real resampler does the last part. A DCT-scaled decode is sharp and aliased where a photo has
# fine detail, and generated photos have none: on them a draft to just cover the box lost nothing
# (12 and 24 MP, 49.8-53.2 dB against a full decode + LANCZOS). On a 2725x2225 Flickr photo
# (sharp's test fixture) it lost 5-13 dB: the 1024 px box from the 1/2 draft 37.6 dB, from a full
# decode 50.5; the 256 px box from 1/8 31.2 dB, from 1/4 36.2 (sharp's own files: 38.3 and 33.0).
# The cost: a 24 MP source decodes at 1/2, not 1/4, for a 1024 px box. A 12 MP PNG shrunk to just
# cover the box measured 45.4 dB at 256 px and 47.5 at 1024; with 1.5x, 48.1-50.0 dB. 2x (libvips'
# own margin) would leave a 12 MP source whole for a 1024 px box.
SHRINK_MARGIN = 1.5
_ATTENTION_SIDE = 96  # the smallest rendition attention may look at (crop.py's map side)
# libvips' resampler (SIMD, cubic: libvips.py) against Pillow's HAMMING, RGB photo, ms, copies
# included: 1000x750 -> 512, 3.1 vs 4.9; 1500x1000 -> 1024, 7.0 vs 11.3; 2000x1500 -> 1024, 9.7 vs
# 17.9; 3000x2000 -> 1024, 14.3 vs 29.5; 750x500 -> 256, 1.4 vs 1.8, within the noise of the copies;
# 4000x3000 -> 1024 (3.9x), 77.0 vs 67.1, the kernel's taps growing with the factor. Grey stays with
# Pillow, whose one-byte path was faster at every size (2000x1500 -> 1024: 10.0 ms against 11.8),
# and so do alpha (premultiplied), cover crops and what is smaller than 0.7 MP. Against a full
# decode + LANCZOS, the 1024 px box: 53.8 dB from a 12 MP photo's 1/2 draft (HAMMING 52.3), 49.5
# from a 3840x2160 phone photo's (HAMMING 45.8).
VIPS_FROM_PIXELS = 700_000
VIPS_UP_TO_FACTOR = 3.0

Centre = Callable[[Image.Image, tuple[int, int]], Point]


def box_scale(size: tuple[float, float], box: Box) -> float:
    """The factor that makes a picture of size just serve box: fit inside a fit box, cover a
    cover box. Not capped at 1: a page or a drawing renders at any scale, and a reader asking
    whether a preview is large enough compares it with 1."""
    across, down = box.width / size[0], box.height / size[1]
    return max(across, down) if box.fit == COVER else min(across, down)


def fit(size: tuple[int, int], box: Box) -> tuple[int, int]:
    """The largest size inside box with size's aspect ratio; never larger than size itself."""
    width, height = size
    if width <= box.width and height <= box.height:
        return size
    scale = min(box.width / width, box.height / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def whole_size(size: tuple[int, int], box: Box) -> tuple[int, int]:
    """The size the whole image must be scaled to for this box: for a cover box, large enough
    that the crop fills the box; never larger than the image."""
    if box.fit != COVER:
        return fit(size, box)
    width, height = size
    scale = min(1.0, max(box.width / width, box.height / height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def draft_size(size: tuple[int, int], boxes: Sequence[Box]) -> tuple[int, int]:
    """What a JPEG draft or a PNG's shrink-on-load may decode down to: the largest box, times
    SHRINK_MARGIN."""
    largest = max((whole_size(size, box) for box in boxes), key=lambda wh: wh[0] * wh[1])
    return math.ceil(largest[0] * SHRINK_MARGIN), math.ceil(largest[1] * SHRINK_MARGIN)


def resampled_by_libvips(size: tuple[int, int], target: tuple[int, int]) -> bool:
    """Whether an RGB image of size goes to libvips for target: a large image, shrunk by a factor
    small enough that the kernel stays short (budget.py asks the same of the decode)."""
    factor = min(size[0] / target[0], size[1] / target[1])
    return size[0] * size[1] >= VIPS_FROM_PIXELS and 1 < factor <= VIPS_UP_TO_FACTOR


def centre_by(gravity: str, focal_point: Point | None) -> Centre:
    """Where a cover crop centres: the object's focal point, else attention, else the middle."""
    if focal_point is not None:
        return lambda image, aspect: focal_point
    if gravity == "attention":
        return attention_centre
    return lambda image, aspect: CENTRE


def resize_all(image: Image.Image, boxes: Sequence[Box], centre: Centre = centre_by("centre", None)) -> dict[Box, Image.Image]:
    done: dict[Box, Image.Image] = {}
    for box in sorted(set(b for b in boxes if b.fit != COVER), key=lambda b: fit(image.size, b), reverse=True):
        target = fit(image.size, box)
        source, _ = _smallest_source(image, done.values(), (0, 0, *image.size), target)
        done[box] = _resize(source, target, rendition=source is not image)
    centres: dict[tuple[int, int], Point] = {}
    for box in (b for b in boxes if b.fit == COVER):
        aspect = (box.width, box.height)
        if aspect not in centres:
            centres[aspect] = centre(_attention_source(image, done.values()), aspect)
        region = cover_region(image.size, aspect, centres[aspect])
        target = cover_size(region, aspect)
        source, scaled = _smallest_source(image, done.values(), region, target)
        done[box] = _resize(source, target, scaled, rendition=source is not image)
    return done


def _smallest_source(
    image: Image.Image, renditions: Sequence[Image.Image], region: Region, target: tuple[int, int]
) -> tuple[Image.Image, Region]:
    """The smallest whole-image rendition whose part covering region still has GAP times the
    target's pixels per side, and that region in its coordinates."""
    best, best_region = image, region
    for rendition in renditions:
        sx, sy = rendition.width / image.width, rendition.height / image.height
        scaled = (region[0] * sx, region[1] * sy, region[2] * sx, region[3] * sy)
        enough = min((scaled[2] - scaled[0]) / target[0], (scaled[3] - scaled[1]) / target[1]) >= GAP
        if enough and rendition.width < best.width:
            best, best_region = rendition, scaled
    return best, best_region


def _attention_source(image: Image.Image, renditions: Sequence[Image.Image]) -> Image.Image:
    """Attention works on a small copy: the smallest rendition still larger than its map."""
    large_enough = [r for r in renditions if max(r.size) >= _ATTENTION_SIDE]
    return min(large_enough, key=lambda r: r.width, default=image)


def _resize(image: Image.Image, size: tuple[int, int], region: Region | None = None, *, rendition: bool = False) -> Image.Image:
    whole = region is None or tuple(region) == (0, 0, *image.size)
    if size == image.size and whole:
        return image.copy()
    if whole and image.mode == "RGB" and resampled_by_libvips(image.size, size):
        return resample_rgb(image, size)
    box = None if whole else region
    if rendition:
        # From a rendition (a smaller box, or a cover crop): BICUBIC, after a whole-factor reduce()
        # only past 4x. With detail at every scale (samples.textured), the 512 and 256 px boxes cut
        # from the 1024 px one measured 45.7 and 46.3 dB against a full decode + LANCZOS, where
        # reduce() to the last factor with HAMMING after it gave 41.6 and 41.2; on photo() 54.4 and
        # 53.5 against 53.4 and 50.9. The time, interleaved: three boxes of the 12 MP JPEG +2 ms of
        # 50, of the 24 MP one +6 of 83, of the 4 MP RGBA PNG +10 of 170.
        return image.resize(size, Image.Resampling.BICUBIC, box=box, reducing_gap=2.0)
    # From the decode, HAMMING after an integer-factor reduce() only past 3x. Against a full
    # decode + LANCZOS (12 MP photo): 50.6 dB for the resize alone and 40.0 dB after the q85
    # encode, where LANCZOS gives 54.0 and 40.3 at 2.5x the resample time, BOX 46.6 and 39.5 at
    # 0.6x: the encoder loses more than the filter. BICUBIC would give 53.2 (a phone photo's
    # 256 px box: 45.8 against 42.5) for ~0.8 ms more on the one-box path, ~4% of it.
    return image.resize(size, Image.Resampling.HAMMING, box=box, reducing_gap=3.0)
