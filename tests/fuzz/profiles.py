"""ICC profile variants: giant, broken, of a device class no image carries, each made from the
valid profiles in local_run.inputs.icc_profiles by editing the header and the tag table."""

from __future__ import annotations

import struct
from functools import cache
from random import Random

from local_run.inputs.icc_profiles import (
    ADOBE_RGB,
    cmyk_profile,
    grey_profile,
    reclassified,
    rgb_profile,
    tagless_rgb_profile,
)

from tests.fuzz.seeds import GREY_MODES, RGB_MODES

HEADER = 128
MB = 1024 * 1024


def for_mode(mode: str) -> bytes:
    """A valid profile describing pixels of this mode, so the conversion to sRGB really runs."""
    if mode == "CMYK":
        return cmyk_profile()
    if mode in GREY_MODES:
        return grey_profile(1.8)
    return rgb_profile("Fuzz wide gamut", ADOBE_RGB)


def tags(profile: bytes) -> list[tuple[bytes, bytes]]:
    (count,) = struct.unpack_from(">I", profile, HEADER)
    entries = [struct.unpack_from(">4sII", profile, HEADER + 4 + 12 * i) for i in range(count)]
    return [(signature, profile[offset : offset + size]) for signature, offset, size in entries]


def assemble(header: bytes, tagged: list[tuple[bytes, bytes]]) -> bytes:
    """Header plus tags, offsets and the size field recomputed: a well-formed container."""
    offset, table, bodies = HEADER + 4 + 12 * len(tagged), [struct.pack(">I", len(tagged))], []
    for signature, body in tagged:
        table.append(signature + struct.pack(">II", offset, len(body)))
        bodies.append(body + b"\0" * (-len(body) % 4))
        offset += len(bodies[-1])
    return struct.pack(">I", offset) + header[4:HEADER] + b"".join(table) + b"".join(bodies)


def with_tags(profile: bytes, replaced: dict[bytes, bytes]) -> bytes:
    kept = [(s, replaced.pop(s, body)) for s, body in tags(profile)]
    return assemble(profile[:HEADER], kept + list(replaced.items()))


def giant(mode: str, rng: Random) -> tuple[bytes, str]:
    """Several MB and still valid, as print profiles are: a padded private tag, huge tone
    curves, or a dense colour lut (CMYK 33^4, RGB 100^3 grid points)."""
    base = for_mode(mode)
    kind = rng.choice(
        [
            "padding",
            "lut" if mode == "CMYK" else "curves",
            "lut" if mode in RGB_MODES else "padding",
        ]
    )
    if kind == "padding":
        size = rng.randrange(2 * MB, 8 * MB) // 64 * 64
        padding = rng.randbytes(64) * (size // 64)  # compressible: an iCCP chunk is made in ms
        return with_tags(base, {b"fuzz": b"data\0\0\0\0" + padding}), f"{size:,}-byte private tag"
    if kind == "curves":
        points = rng.choice([250_000, 500_000, 1_000_000])
        names = [b"kTRC"] if mode in GREY_MODES else [b"rTRC", b"gTRC", b"bTRC"]
        return with_tags(
            base, dict.fromkeys(names, _curve(points))
        ), f"{points:,}-point tone curves"
    inputs, grid = (4, 33) if mode == "CMYK" else (3, 100)
    return with_tags(
        base, {b"A2B0": _lut(inputs, grid, rng)}
    ), f"A2B0 lut, {grid}^{inputs} grid points"


@cache
def _curve(points: int) -> bytes:
    """A linear tone curve sampled at that many points (ICC allows up to 2^32 - 1)."""
    ramp = [i * 65535 // (points - 1) for i in range(points)]
    return b"curv\0\0\0\0" + struct.pack(f">I{points}H", points, *ramp)


def _lut(inputs: int, grid: int, rng: Random) -> bytes:
    """An mft2 (lut16) tag to 3 Lab outputs: identity matrix, linear tables, random grid."""
    identity = b"".join(struct.pack(">i", round(v * 65536)) for v in (1, 0, 0, 0, 1, 0, 0, 0, 1))
    table = struct.pack(">2H", 0, 65535)
    size = 2 * 3 * grid**inputs
    body = (rng.randbytes(4096) * (size // 4096 + 1))[:size]
    return (
        b"mft2\0\0\0\0" + struct.pack(">BBBB", inputs, 3, grid, 0) + identity
        + struct.pack(">HH", 2, 2) + table * inputs + body + table * 3
    )  # fmt: skip


def truncated(profile: bytes, rng: Random) -> tuple[bytes, str]:
    cut = rng.randrange(0, len(profile))
    kept = profile[:cut]
    if rng.random() < 0.5 and cut >= 4:  # the size field agrees, so only the tags are missing
        agreeing = struct.pack(">I", cut) + kept[4:]
        return agreeing, f"cut to {cut} of {len(profile)} bytes, size field {cut}"
    return kept, f"cut to {cut} of {len(profile)} bytes"


_HEADER_FIELDS = {  # name: (offset, length)
    "size": (0, 4), "version": (8, 4), "class": (12, 4), "colour space": (16, 4), "pcs": (20, 4),
    "magic": (36, 4), "rendering intent": (64, 4), "illuminant": (68, 12),
}  # fmt: skip


def bad_header(profile: bytes, rng: Random) -> tuple[bytes, str]:
    name = rng.choice(list(_HEADER_FIELDS))
    offset, length = _HEADER_FIELDS[name]
    value = rng.choice([b"\0" * length, b"\xff" * length, rng.randbytes(length)])
    if name == "size":
        value = struct.pack(
            ">I", rng.choice([0, 1, 127, 128, len(profile) - 1, len(profile) * 2, 2**32 - 1])
        )
    if name in ("colour space", "pcs"):
        value = rng.choice(
            [b"Lab ", b"XYZ ", b"YCbr", b"HSV ", b"6CLR", b"FCLR", b"GRAY", b"CMYK", value]
        )
    return profile[:offset] + value + profile[offset + length :], f"header {name} = {value[:12]!r}"


def tag_outside(profile: bytes, rng: Random) -> tuple[bytes, str]:
    """A tag table entry that points past the end, overflows, or a count far above the table."""
    (count,) = struct.unpack_from(">I", profile, HEADER)
    if rng.random() < 0.2:
        bad = rng.choice([count + 1, 1000, 0x0FFFFFFF, 0xFFFFFFFF])
        return profile[:HEADER] + struct.pack(">I", bad) + profile[HEADER + 4 :], f"tag count {bad}"
    index = rng.randrange(count)
    entry = HEADER + 4 + 12 * index
    signature, offset, size = struct.unpack_from(">4sII", profile, entry)
    offset, size = rng.choice([
        (len(profile) + rng.randrange(1, 4096), size), (len(profile) - 2, size),
        (offset, 0xFFFFFFFF), (0xFFFFFFF0, size), (offset, len(profile)), (0, size), (offset, 0),
    ])  # fmt: skip
    edited = profile[:entry] + signature + struct.pack(">II", offset, size) + profile[entry + 12 :]
    return (
        edited,
        f"tag {signature!r} at offset {offset}, size {size} in a {len(profile)}-byte profile",
    )


def corrupt_tags(profile: bytes, rng: Random) -> tuple[bytes, str]:
    """Header and table intact, tag contents overwritten: a bad 'desc' string, curve or colorant
    only shows when that tag is read, after the profile has parsed."""
    found = tags(profile)
    signature, body = (
        rng.choice([t for t in found if t[0] == b"desc"] or found)
        if rng.random() < 0.5
        else rng.choice(found)
    )
    start = profile.index(body) if body else HEADER
    edited = bytearray(profile)
    count = rng.randrange(1, 9)
    for _ in range(count):
        edited[start + rng.randrange(max(len(body), 1))] = rng.randrange(256)
    return bytes(edited), f"{count} byte(s) of tag {signature!r} overwritten"


def device_class(profile: bytes, rng: Random) -> tuple[bytes, str]:
    """A device link or abstract profile: valid ICC, but not one that describes an image; its
    connection space sometimes a device space too, as a device link's is."""
    kind = rng.choice([b"link", b"abst"])
    pcs = rng.choice([profile[20:24], b"RGB ", b"Lab ", b"XYZ "])
    edited = reclassified(profile, kind)
    return edited[:20] + pcs + edited[24:], f"class {kind!r}, pcs {pcs!r}"


def without_colorants() -> tuple[bytes, str]:
    """A display RGB profile that parses but has no colorants or curves."""
    return tagless_rgb_profile(), "RGB profile without colorants or curves"
