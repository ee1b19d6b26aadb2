"""The bytes a storm uploads: small (about 200 x 150), so that imaging costs little next to the
S3 traffic and the races, and distinct per variant, so that every overwrite changes the ETag."""

from __future__ import annotations

from functools import cache

from local_run.inputs.grid import source_bytes

FORMATS = ("JPEG", "PNG")
# Several modes per format, so the function meets more than one decode path in a storm.
_MODES = {"JPEG": ("RGB", "L", "CMYK"), "PNG": ("RGB", "RGBA", "P+alpha", "L")}


@cache
def source_image(image_format: str, variant: int) -> bytes:
    """Deterministic bytes: the same (format, variant) always makes the same object. The size
    encodes the variant, so 3,200 variants of a format are all different images."""
    mode = _MODES[image_format][variant % len(_MODES[image_format])]
    size = (200 + variant % 64, 150 + (variant // 64) % 50)
    return source_bytes(mode, size, image_format)


def content_type(image_format: str) -> str:
    return {"JPEG": "image/jpeg", "PNG": "image/png"}[image_format]
