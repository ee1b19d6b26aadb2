"""Embedded ICC profiles -> sRGB, so a thumbnail looks in a browser as its source did in an editor.

A thumbnail carries no profile: browsers take untagged pixels as sRGB, and a profile that no
longer matches the pixels (thumbor's CMYK bug, aws-solutions DIT #39) is worse than none. Pixels
described by a profile are converted with LittleCMS (Pillow's ImageCms); an sRGB profile, a
missing one, one that cannot be parsed, or one that does not describe the image's mode leaves
the pixels as they are. Conversion runs on each thumbnail, after resizing: a few thousand pixels
instead of a full-size PNG.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from typing import TYPE_CHECKING

from PIL import Image

if TYPE_CHECKING:  # ImageCms loads LittleCMS: imported on the first profile, not at cold start
    from PIL import ImageCms

# Modes each profile colour space can describe, and what LittleCMS turns them into.
_CONVERSIONS = {
    "RGB": {"RGB": "RGB", "RGBA": "RGBA"},
    "GRAY": {"L": "RGB", "LA": "RGB"},
    "CMYK": {"CMYK": "RGB"},
}


def profile_space(icc: bytes | None) -> str | None:
    """'RGB', 'GRAY' or 'CMYK' for a profile worth converting from; None for sRGB or junk."""
    profile = _parse(icc) if icc else None
    if profile is None:
        return None
    return profile.profile.xcolor_space.strip()


def to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """The image in sRGB. Grey stays grey (sRGB's neutral axis), alpha is carried over."""
    space = profile_space(icc)
    out_mode = _CONVERSIONS.get(space or "", {}).get(image.mode)
    if out_mode is None:
        return image if image.mode != "CMYK" else image.convert("RGB")
    alpha = image.getchannel("A") if image.mode == "LA" else None
    in_mode = "L" if alpha is not None else image.mode
    source = image.convert("L") if alpha is not None else image
    from PIL import ImageCms

    converted = ImageCms.applyTransform(source, _transform(icc, in_mode, out_mode))
    if space == "GRAY":
        converted = converted.convert("L")  # sRGB greys have R = G = B
        if alpha is not None:
            converted.putalpha(alpha)
    return converted


@lru_cache(maxsize=8)
def _parse(icc: bytes) -> ImageCms.ImageCmsProfile | None:
    from PIL import ImageCms

    try:
        profile = ImageCms.ImageCmsProfile(BytesIO(icc))
    except (OSError, ImageCms.PyCMSError, TypeError, ValueError):
        return None
    if "srgb" in (profile.profile.profile_description or "").lower():
        return None  # already what browsers assume
    if profile.profile.xcolor_space.strip() not in _CONVERSIONS:
        return None
    return profile


@lru_cache(maxsize=16)
def _transform(icc: bytes, in_mode: str, out_mode: str) -> ImageCms.ImageCmsTransform:
    """Cached per profile: building a transform costs far more than applying it to a thumbnail."""
    from PIL import ImageCms

    return ImageCms.buildTransform(
        _parse(icc),
        _srgb(),
        in_mode,
        out_mode,
        renderingIntent=ImageCms.Intent.PERCEPTUAL,
        flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
    )


@lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
