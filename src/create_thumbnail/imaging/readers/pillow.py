"""The formats Pillow decodes whole, at their full size: WebP (a still, or an animation's first
frame), GIF (its first frame), TIFF (its first page), AVIF; and the decode JPEG's reader hands
over once it has chosen its draft scale."""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from PIL import Image

from create_thumbnail.config import Box
from create_thumbnail.imaging.budget import Budget, Header, estimate_peak
from create_thumbnail.imaging.modes import resampling_mode
from create_thumbnail.imaging.readers import Loaded
from create_thumbnail.imaging.readers.checks import admit, open_checked
from create_thumbnail.imaging.readers.decoding import decoding
from create_thumbnail.imaging.readers.orientation import TRANSPOSING, orientation_of, upright, upright_size


def load(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget) -> Loaded:
    image, header = open_checked(data, max_pixels)
    return decode(image, header, data, boxes, budget, image.size, orientation_of(image))


def decode(
    image: Image.Image, header: Header, data: bytes, boxes: Sequence[Box], budget: Budget,
    full_size: tuple[int, int], orientation: int, reread: bool = True,
) -> Loaded:
    """An opened, checked image decoded at image.size (a JPEG's after draft; full_size is the
    source's own), admitted to the budget first, then turned upright and put in a resampling
    mode. reread: False where the orientation is the caller's, not the image's own."""
    estimate = partial(estimate_peak, header, image.size, boxes)
    admit(estimate(orientation in TRANSPOSING), budget, held=len(data))
    with decoding():
        image.load()
    if reread and (late := orientation_of(image)) != orientation:  # TIFF: Pillow turned it already
        orientation = late
        admit(estimate(orientation in TRANSPOSING), budget, held=len(data))
    icc_profile = image.info.get("icc_profile") or None
    image = upright(image, orientation)
    return Loaded(resampling_mode(image), icc_profile, upright_size(full_size, orientation))
