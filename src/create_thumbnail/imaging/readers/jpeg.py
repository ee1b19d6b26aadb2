"""JPEG (and MPO, a JPEG with a second picture): libjpeg decodes at 1/2, 1/4 or 1/8 scale
(``draft``) when the largest box allows, so a 12 MP photo is never decoded whole for a small
thumbnail. The box sides are swapped for EXIF orientations 5-8, which transpose; the draft comes
before the orientation is applied, since transposing loads the pixels."""

from __future__ import annotations

from collections.abc import Sequence

from PIL import Image

from create_thumbnail.config import Box
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.readers import Loaded, pillow
from create_thumbnail.imaging.readers.checks import open_checked
from create_thumbnail.imaging.readers.decoding import decoding
from create_thumbnail.imaging.readers.orientation import orientation_of, stored_boxes
from create_thumbnail.imaging.renditions import draft_size


def load(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget) -> Loaded:
    return load_oriented(data, boxes, max_pixels, budget, None)


def load_oriented(
    data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget, orientation: int | None
) -> Loaded:
    """As load, turned by orientation instead of the JPEG's own where one is given: a camera
    RAW's preview, which the RAW orients (readers/raw.py)."""
    image, header = open_checked(data, max_pixels)
    full_size = image.size
    own = orientation is None
    orientation = orientation_of(image) if orientation is None else orientation
    _draft(image, boxes, orientation)  # image.size is the drafted one from here on
    return pillow.decode(image, header, data, boxes, budget, full_size, orientation, reread=own)


def _draft(image: Image.Image, boxes: Sequence[Box], orientation: int) -> None:
    """Ask libjpeg for a 1/2, 1/4 or 1/8 scale decode that still serves every box."""
    wanted = draft_size(image.size, stored_boxes(boxes, orientation))
    if wanted[0] < image.width and wanted[1] < image.height:
        with decoding():
            image.draft(None, wanted)
