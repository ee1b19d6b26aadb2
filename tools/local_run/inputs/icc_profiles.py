"""ICC profiles built in code, so tests need no binary fixtures: matrix/TRC RGB profiles (Adobe
RGB (1998), ProPhoto), a grey TRC profile, and a small lut-based CMYK printer profile.

Each is a minimal but valid ICC v2 profile that LittleCMS (Pillow's ImageCms) accepts. Colorant
values are the published D50-adapted ones for each space.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

D50 = (0.9642, 1.0, 0.8249)
ADOBE_RGB = {
    "r": (0.60974, 0.31111, 0.01947),
    "g": (0.20528, 0.62567, 0.06087),
    "b": (0.14919, 0.06322, 0.74457),
    "gamma": 563 / 256,
}
PROPHOTO_RGB = {
    "r": (0.7977, 0.2880, 0.0),
    "g": (0.1352, 0.7119, 0.0),
    "b": (0.0313, 0.0001, 0.8249),
    "gamma": 1.8,
}


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(values: Sequence[float]) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in values)


def _curve(gamma: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _desc(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    body = b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text
    return body + struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67


def _text(text: str) -> bytes:
    return b"text\0\0\0\0" + text.encode("ascii") + b"\0"


def _profile(device_class: bytes, space: bytes, pcs: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    table_size = 4 + 12 * len(tags)
    offset = 128 + table_size
    table, data = [struct.pack(">I", len(tags))], []
    for signature, body in tags:
        padded = body + b"\0" * (-len(body) % 4)
        table.append(signature + struct.pack(">II", offset, len(body)))
        data.append(padded)
        offset += len(padded)
    size = offset
    header = (
        struct.pack(">I", size) + b"none" + struct.pack(">I", 0x02100000)
        + device_class + space + pcs + b"\0" * 12 + b"acsp" + b"APPL"
        + b"\0" * 4 + b"none" + b"\0" * 4 + b"\0" * 8 + struct.pack(">I", 0)
        + b"".join(_s15(v) for v in D50) + b"none" + b"\0" * 16 + b"\0" * 28
    )  # fmt: skip
    assert len(header) == 128
    return header + b"".join(table) + b"".join(data)


def rgb_profile(name: str, space: dict) -> bytes:
    curve = _curve(space["gamma"])
    return _profile(b"mntr", b"RGB ", b"XYZ ", [
        (b"desc", _desc(name)), (b"cprt", _text("No copyright, test data")), (b"wtpt", _xyz(D50)),
        (b"rXYZ", _xyz(space["r"])), (b"gXYZ", _xyz(space["g"])), (b"bXYZ", _xyz(space["b"])),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
    ])  # fmt: skip


def grey_profile(gamma: float = 1.0) -> bytes:
    """gamma 1.0: linear grey, so a mid value (128) must come out much lighter in sRGB."""
    return _profile(b"mntr", b"GRAY", b"XYZ ", [
        (b"desc", _desc(f"Grey gamma {gamma}")), (b"cprt", _text("No copyright, test data")),
        (b"wtpt", _xyz(D50)), (b"kTRC", _curve(gamma)),
    ])  # fmt: skip


def cmyk_profile() -> bytes:
    """A printer profile whose AToB0 is a 2-point-per-channel lut to Lab: the naive
    r = (1 - c)(1 - k) model, so expected colours are easy to state in tests."""
    grid = []
    for c in (0, 1):
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    rgb = [(1 - ink) * (1 - k) for ink in (c, m, y)]
                    grid.extend(_lab16(_srgb_to_lab(rgb)))
    identity = b"".join(_s15(v) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    table = struct.pack(">2H", 0, 65535)
    lut = (
        b"mft2\0\0\0\0" + struct.pack(">BBBB", 4, 3, 2, 0) + identity
        + struct.pack(">HH", 2, 2) + table * 4 + struct.pack(f">{len(grid)}H", *grid) + table * 3
    )  # fmt: skip
    return _profile(b"prtr", b"CMYK", b"Lab ", [
        (b"desc", _desc("Naive CMYK")), (b"cprt", _text("No copyright, test data")),
        (b"wtpt", _xyz(D50)), (b"A2B0", lut),
    ])  # fmt: skip


def reclassified(icc: bytes, device_class: bytes) -> bytes:
    """icc with another device class in its header: b"link" (a device link) or b"abst" (an
    abstract profile) cannot be an image's input profile, whatever its tags."""
    return icc[:12] + device_class + icc[16:]


def tagless_rgb_profile() -> bytes:
    """A display RGB profile that parses but has no colorants or curves: LittleCMS cannot build
    a transform from it."""
    return _profile(b"mntr", b"RGB ", b"XYZ ", [(b"desc", _desc("No colorants")), (b"wtpt", _xyz(D50))])


def _srgb_to_lab(rgb: Sequence[float]) -> tuple[float, float, float]:
    linear = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in rgb]
    matrix = ((0.4361, 0.3851, 0.1431), (0.2225, 0.7169, 0.0606), (0.0139, 0.0971, 0.7141))
    xyz = [sum(m * v for m, v in zip(row, linear, strict=True)) for row in matrix]
    f = [t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116 for t in
         (xyz[0] / D50[0], xyz[1] / D50[1], xyz[2] / D50[2])]  # fmt: skip
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def _lab16(lab: tuple[float, float, float]) -> list[int]:
    """ICC v2 16-bit Lab: L 0..100 -> 0..0xFF00, a/b -128..127.996 -> 0..0xFFFF."""
    lightness, a, b = lab
    clamp = lambda v: max(0, min(65535, round(v)))  # noqa: E731
    return [clamp(lightness * 0xFF00 / 100), clamp((a + 128) * 256), clamp((b + 128) * 256)]
