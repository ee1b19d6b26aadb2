"""HEIF (a phone's HEIC): decoded by Pillow through pi-heif (libheif and libde265, decode only),
already turned upright by it, then as every format Pillow decodes whole (pillow.py)."""

from __future__ import annotations

from collections.abc import Sequence

from create_thumbnail.config import Box
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.readers import Loaded, pillow


def load(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget) -> Loaded:
    register()
    return pillow.load(data, boxes, max_pixels, budget)


def register() -> None:
    """pi-heif is imported on the first HEIF, never at cold start: most functions never see one."""
    import pi_heif

    pi_heif.register_heif_opener()
