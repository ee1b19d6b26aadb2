"""What a page shows while a thumbnail loads: a BlurHash, a ThumbHash and the dominant colour.

All three come from the smallest rendition, scaled down further to a few hundred pixels, so they
cost about a millisecond, not a pass over the source. The encoders are written here from the
published algorithms (BlurHash: Wolt's reference; ThumbHash: Evan Wallace's), in plain Python
with each DCT made separable (rows first, then columns), rather than shipping two pure-Python
packages for forty lines each; tests/unit/test_placeholders.py holds them to the reference
libraries' own output and decoders byte for byte.
"""

from __future__ import annotations

import base64
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from PIL import Image

_BASE83 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz#$%*+,-.:;=?@[]^_{|}~"
BLURHASH_SIDE = 16  # BlurHash's 4 x 3 components need no more pixels than this
THUMBHASH_SIDE = 24  # ThumbHash's reference takes up to 100 x 100 for at most 7 x 7 components


@dataclass(frozen=True, slots=True)
class Placeholder:
    blurhash: str
    thumbhash: str  # base64
    dominant_color: str  # #rrggbb

    def as_metadata(self) -> dict[str, str]:
        """x-amz-meta-* on every thumbnail: ~70 bytes of S3's 2 KB."""
        return {"blurhash": self.blurhash, "thumbhash": self.thumbhash, "dominant-color": self.dominant_color}


def placeholder(image: Image.Image) -> Placeholder:
    """From a thumbnail: ~1.1 ms for a 256 px one here, most of it the two DCTs. An opaque one
    is shrunk before it gains an alpha band, not after: the same pixels, without copying the
    whole thumbnail to RGBA first (0.3 ms of 1.4 at 256 px)."""
    opaque = image.mode in ("RGB", "L")
    larger = _shrunk(image if opaque else image.convert("RGBA"), THUMBHASH_SIDE).convert("RGBA")
    smaller = _shrunk(larger, BLURHASH_SIDE)
    return Placeholder(blurhash(smaller), thumbhash(larger), dominant_color(smaller))


def _shrunk(image: Image.Image, side: int) -> Image.Image:
    scale = side / max(image.size)
    if scale >= 1:
        return image
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.BOX)


# ---- BlurHash ----------------------------------------------------------------------------------


def blurhash(image: Image.Image, components: tuple[int, int] = (4, 3)) -> str:
    """Wolt's BlurHash of an RGB(A) image (alpha ignored, as the reference does)."""
    width, height = image.size
    cx, cy = components
    linear = _srgb_to_linear_table()
    pixels = image.convert("RGB").tobytes()
    transforms = [_Separable([linear[value] for value in pixels[offset::3]], width, height, _blur_basis) for offset in range(3)]
    factors = []
    for j in range(cy):
        for i in range(cx):
            norm = (1 if i == 0 and j == 0 else 2) / (width * height)
            factors.append(tuple(norm * transform.coefficient(i, j) for transform in transforms))
    dc, ac = factors[0], factors[1:]
    result = _base83((cx - 1) + (cy - 1) * 9, 1)
    if ac:
        quantised = max(0, min(82, math.floor(max(abs(v) for f in ac for v in f) * 166 - 0.5)))
        maximum = (quantised + 1) / 166
        result += _base83(quantised, 1)
    else:
        maximum = 1.0
        result += _base83(0, 1)
    result += _base83((_linear_to_srgb(dc[0]) << 16) + (_linear_to_srgb(dc[1]) << 8) + _linear_to_srgb(dc[2]), 4)
    for factor in ac:
        r, g, b = (max(0, min(18, math.floor(_sign_pow(v / maximum, 0.5) * 9 + 9.5))) for v in factor)
        result += _base83(r * 19 * 19 + g * 19 + b, 2)
    return result


def _blur_basis(frequency: int, position: int, size: int) -> float:
    return math.cos(math.pi * frequency * position / size)


class _Separable:
    """Sums over the image of channel * basis(fx, x) * basis(fy, y), the row sums for each fx
    computed once and shared by every fy: a few hundred multiplications instead of thousands."""

    def __init__(self, channel: list[float], width: int, height: int, basis: Callable[[int, int, int], float]) -> None:
        self._rows = [channel[y * width : (y + 1) * width] for y in range(height)]
        self._width, self._height, self._basis = width, height, basis
        self._row_sums: dict[int, list[float]] = {}

    def coefficient(self, fx: int, fy: int) -> float:
        if fx not in self._row_sums:
            columns = _basis_vector(self._basis, fx, self._width)
            self._row_sums[fx] = [sum(map(operator.mul, row, columns)) for row in self._rows]
        return sum(map(operator.mul, self._row_sums[fx], _basis_vector(self._basis, fy, self._height)))


@cache
def _basis_vector(basis: Callable[[int, int, int], float], frequency: int, size: int) -> tuple[float, ...]:
    """The few sizes a placeholder's small copy can have recur, so each cosine is computed once."""
    return tuple(basis(frequency, position, size) for position in range(size))


@cache
def _unit_table() -> tuple[float, ...]:
    return tuple(value / 255 for value in range(256))


@cache
def _srgb_to_linear_table() -> tuple[float, ...]:
    def convert(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4

    return tuple(convert(value) for value in range(256))


def _linear_to_srgb(value: float) -> int:
    v = max(0.0, min(1.0, value))
    if v <= 0.0031308:
        return int(v * 12.92 * 255 + 0.5)
    return int((1.055 * v ** (1 / 2.4) - 0.055) * 255 + 0.5)


def _sign_pow(value: float, exponent: float) -> float:
    return math.copysign(abs(value) ** exponent, value)


def _base83(value: int, length: int) -> str:
    return "".join(_BASE83[(value // 83 ** (length - 1 - i)) % 83] for i in range(length))


# ---- ThumbHash ---------------------------------------------------------------------------------


def thumbhash(image: Image.Image) -> str:
    """Evan Wallace's ThumbHash of an RGBA image of at most 100 x 100, base64."""
    width, height = image.size
    if width > 100 or height > 100:
        raise ValueError(f"{width}x{height} does not fit in 100x100")
    pixels = image.convert("RGBA").tobytes()
    unit = _unit_table()
    r, g, b, a = ([unit[value] for value in pixels[offset::4]] for offset in range(4))
    total_alpha = sum(a)
    average = [sum(map(operator.mul, a, channel)) / total_alpha if total_alpha else 0.0 for channel in (r, g, b)]
    has_alpha = total_alpha < width * height
    limit = 5 if has_alpha else 7
    lx = max(1, _round(limit * width / max(width, height)))
    ly = max(1, _round(limit * height / max(width, height)))
    if has_alpha:  # composited atop the average colour
        r, g, b = ([avg * (1 - alpha) + alpha * c for c, alpha in zip(channel, a, strict=True)]
                   for avg, channel in zip(average, (r, g, b), strict=True))  # fmt: skip
    l = [(red + green + blue) / 3 for red, green, blue in zip(r, g, b, strict=True)]
    p = [(red + green) / 2 - blue for red, green, blue in zip(r, g, b, strict=True)]
    q = list(map(operator.sub, r, g))
    l_dc, l_ac, l_scale = _encode_channel(l, width, height, max(3, lx), max(3, ly))
    p_dc, p_ac, p_scale = _encode_channel(p, width, height, 3, 3)
    q_dc, q_ac, q_scale = _encode_channel(q, width, height, 3, 3)
    landscape = width > height
    header24 = (_round(63 * l_dc) | (_round(31.5 + 31.5 * p_dc) << 6) | (_round(31.5 + 31.5 * q_dc) << 12)
                | (_round(31 * l_scale) << 18) | (int(has_alpha) << 23))  # fmt: skip
    header16 = (ly if landscape else lx) | (_round(63 * p_scale) << 3) | (_round(63 * q_scale) << 9) | (int(landscape) << 15)
    data = [header24 & 255, (header24 >> 8) & 255, header24 >> 16, header16 & 255, header16 >> 8]
    acs = [l_ac, p_ac, q_ac]
    if has_alpha:
        a_dc, a_ac, a_scale = _encode_channel(a, width, height, 5, 5)
        data.append(_round(15 * a_dc) | (_round(15 * a_scale) << 4))
        acs.append(a_ac)
    values = [value for ac in acs for value in ac]
    packed = bytearray(len(data) + (len(values) + 1) // 2)
    packed[: len(data)] = bytes(data)
    for index, value in enumerate(values):
        packed[len(data) + (index >> 1)] |= _round(15 * value) << ((index & 1) << 2)
    return base64.b64encode(bytes(packed)).decode("ascii")


def _encode_channel(channel: list[float], width: int, height: int, nx: int, ny: int) -> tuple[float, list[float], float]:
    dc, ac, scale = 0.0, [], 0.0
    transform = _Separable(channel, width, height, _thumb_basis)
    for cy in range(ny):
        cx = 0
        while cx * ny < nx * (ny - cy):
            value = transform.coefficient(cx, cy) / (width * height)
            if cx or cy:
                ac.append(value)
                scale = max(scale, abs(value))
            else:
                dc = value
            cx += 1
    if scale:
        ac = [0.5 + 0.5 / scale * value for value in ac]
    return dc, ac, scale


def _thumb_basis(frequency: int, position: int, size: int) -> float:
    return math.cos(math.pi / size * frequency * (position + 0.5))


def _round(value: float) -> int:
    """JavaScript's Math.round, which the reference uses: halves go up, not to even."""
    return math.floor(value + 0.5)


# ---- dominant colour ---------------------------------------------------------------------------


def dominant_color(image: Image.Image) -> str:
    """The most common of the image's few main colours (8, on a 16-pixel copy), counting only
    its visible pixels: what a page paints before anything else arrives."""
    small = _shrunk(image.convert("RGBA"), 16)
    palette = small.convert("RGB").quantize(8, method=Image.Quantize.FASTOCTREE)
    visible = [index for index, alpha in zip(palette.tobytes(), small.getchannel("A").tobytes(), strict=True) if alpha >= 128]
    if not visible:
        return "#ffffff"
    index = max(set(visible), key=visible.count)
    red, green, blue = palette.getpalette()[3 * index : 3 * index + 3]
    return f"#{red:02x}{green:02x}{blue:02x}"
