"""Embedded ICC profiles -> sRGB, so a thumbnail looks in a browser as its source did in an editor.

A thumbnail carries no profile: browsers take untagged pixels as sRGB, and a profile that no
longer matches the pixels (thumbor's CMYK bug, aws-solutions DIT #39) is worse than none. Pixels
described by a profile are converted with LittleCMS (Pillow's ImageCms). A profile that cannot
be used is ignored, as a browser ignores it, and the image is made as if untagged: one that
cannot be parsed, one that describes no device's colours (a device link, an abstract or a
named-colour profile), one for another colour space than the pixels' (a CMYK profile on RGB),
or one LittleCMS cannot build a transform from. usable_profile says which and why, so that the
caller can log it. Conversion runs on each thumbnail, after resizing: a few thousand pixels
instead of a full-size PNG.
"""

from __future__ import annotations

from functools import lru_cache
from io import BytesIO
from typing import TYPE_CHECKING, NamedTuple

from PIL import Image

if TYPE_CHECKING:  # ImageCms loads LittleCMS: imported on the first profile, not at cold start
    from PIL import ImageCms

# Modes each profile colour space can describe, and what LittleCMS turns them into.
_CONVERSIONS = {
    "RGB": {"RGB": "RGB", "RGBA": "RGBA"},
    "GRAY": {"L": "RGB", "LA": "RGB"},
    "CMYK": {"CMYK": "RGB"},
}
# ICC device classes whose profiles map a device's colours to the connection space; the others
# ('link', 'abst', 'nmcl') cannot be the input profile of an image's conversion.
_INPUT_CLASSES = frozenset({"scnr", "mntr", "prtr", "spac"})


class _Unusable(Exception):
    """Why a profile cannot convert these pixels; the caller treats the image as untagged."""


def usable_profile(icc: bytes | None, mode: str) -> tuple[bytes | None, str | None]:
    """(the profile to convert pixels of this mode with, or None; why it was ignored, or None).

    Neither a missing nor an sRGB profile is a problem: there is nothing to convert. Anything
    else that cannot convert this mode to sRGB is returned as None with its reason.
    """
    if not icc:
        return None, None
    try:
        header = _header(_parse(icc))
        if _is_srgb(header):
            return None, None
        _transform(icc, *_modes(header, mode))
    except _Unusable as reason:
        return None, f"ICC profile ignored, image made as untagged sRGB: {reason}"
    return icc, None


def to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """The image in sRGB, icc being a profile usable_profile accepted for this mode (or None).
    Grey stays grey (sRGB's neutral axis), alpha is carried over; CMYK without a profile takes
    Pillow's naive formula."""
    if icc is None:
        return image if image.mode != "CMYK" else image.convert("RGB")
    from PIL import ImageCms

    in_mode, out_mode = _modes(_header(_parse(icc)), image.mode)
    alpha = image.getchannel("A") if image.mode == "LA" else None
    source = image.convert("L") if alpha is not None else image
    converted = ImageCms.applyTransform(source, _transform(icc, in_mode, out_mode))
    if in_mode == "L":
        converted = converted.convert("L")  # sRGB greys have R = G = B
        if alpha is not None:
            converted.putalpha(alpha)
    return converted


class _Header(NamedTuple):
    device_class: str  # 'mntr', 'scnr', 'link'...
    colour_space: str  # 'RGB', 'GRAY', 'CMYK'...
    description: str


def _header(profile: ImageCms.ImageCmsProfile) -> _Header:
    """The header fields LittleCMS parsed, read into Python. Reading is where a field that is not
    text fails (a description of code points past U+10FFFF, a colour space of non-ASCII bytes:
    ValueError, found by the fuzz test's icc-* inputs): the profile is unusable, no more."""
    try:
        header = profile.profile
        return _Header(header.device_class, header.xcolor_space, header.profile_description or "")
    except ValueError as error:
        raise _Unusable(f"its header cannot be read ({error})") from None


def _modes(header: _Header, mode: str) -> tuple[str, str]:
    """(LittleCMS input mode, output mode) for pixels of this mode under this profile."""
    device_class = header.device_class.strip()
    if device_class not in _INPUT_CLASSES:
        raise _Unusable(f"a '{device_class}' profile describes no device's colours")
    space = header.colour_space.strip()
    out_mode = _CONVERSIONS.get(space, {}).get(mode)
    if out_mode is None:
        raise _Unusable(f"a {space} profile does not describe {mode} pixels")
    return ("L" if mode == "LA" else mode), out_mode


def _is_srgb(header: _Header) -> bool:
    return "srgb" in header.description.lower()


@lru_cache(maxsize=8)
def _parse(icc: bytes) -> ImageCms.ImageCmsProfile:
    from PIL import ImageCms

    try:
        return ImageCms.ImageCmsProfile(BytesIO(icc))
    except OSError as error:  # LittleCMS: "cannot open profile from string"
        raise _Unusable(f"it cannot be parsed ({error})") from None


@lru_cache(maxsize=16)
def _transform(icc: bytes, in_mode: str, out_mode: str) -> ImageCms.ImageCmsTransform:
    """Cached per profile: building a transform costs far more than applying it to a thumbnail.
    Building it is also where LittleCMS finds a profile it cannot use (missing or broken tags)."""
    from PIL import ImageCms

    try:
        return ImageCms.buildTransform(
            _parse(icc),
            _srgb(),
            in_mode,
            out_mode,
            renderingIntent=ImageCms.Intent.PERCEPTUAL,
            flags=ImageCms.Flags.BLACKPOINTCOMPENSATION,
        )
    except ImageCms.PyCMSError as error:  # buildTransform reports every failure so
        raise _Unusable(f"LittleCMS cannot build a transform from it ({error})") from None


@lru_cache(maxsize=1)
def _srgb() -> ImageCms.ImageCmsProfile:
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
