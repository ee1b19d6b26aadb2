"""Byte-level mutations that know nothing of the format: flips, truncation, appended junk."""

from __future__ import annotations

from random import Random

from tests.fuzz.seeds import AVIF, GIF, HEIF, JPEG, JXL, PDF, PNG, RAW, SVG, TIFF, VIDEO, WEBP, Seed

Mutated = tuple[bytes, str]


def unchanged(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """The seed itself: proves each seed makes thumbnails before its mutants are judged."""
    return data, "the seed as built"


def flip_bytes(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """1 to 16 random bytes overwritten, more often in the first KB, where the headers are."""
    edited = bytearray(data)
    positions = sorted(
        rng.randrange(min(len(data), 1024)) if rng.random() < 0.4 else rng.randrange(len(data))
        for _ in range(rng.randrange(1, 17))
    )
    for position in positions:
        edited[position] = rng.randrange(256)
    shown = ", ".join(map(str, positions[:6])) + (" ..." if len(positions) > 6 else "")
    return bytes(edited), f"{len(positions)} byte(s) overwritten at {shown}"


def truncate(data: bytes, seed: Seed, rng: Random) -> Mutated:
    cut = rng.randrange(min(len(data), 600)) if rng.random() < 0.3 else rng.randrange(len(data))
    return data[:cut], f"cut to {cut} of {len(data)} bytes"


# What a file of each format might carry after its end: a stray marker, chunk or box header.
_MARKERS = {
    JPEG: [b"\xff\xd8\xff\xe1\xff\xff", b"\xff\xd9", b"\xff\xda\x00\x02"],
    PNG: [b"\0\0\0\0IEND\xaeB`\x82", b"\xff\xff\xff\xffIDAT", b"\0\0\0\x0dIHDR"],
    GIF: [b"\x2c\0\0\0\0\xff\xff\xff\xff\0\x08\xff", b"\x21\xf9\x04", b"\x3b"],
    WEBP: [b"VP8X\xff\xff\xff\xff", b"ANMF\x10\0\0\0", b"RIFF"],
    TIFF: [b"II*\0\x08\0\0\0", b"\xff\xff"],
    AVIF: [b"\0\0\0\x01mdat\xff\xff\xff\xff\xff\xff\xff\xff", b"\0\0\0\x08meta"],
    HEIF: [b"\0\0\0\x01mdat\xff\xff\xff\xff\xff\xff\xff\xff", b"\0\0\0\x08meta"],
    PDF: [b"%%EOF\n", b"xref\n0 1\n0000000000 65535 f \n", b"trailer\n<< /Root 1 0 R >>\nstartxref\n0\n%%EOF\n"],
    SVG: [b"<svg>", b"<!-- ", b"<![CDATA[", b"&lol;"],
    RAW: [b"II*\0\x08\0\0\0", b"\xff\xd8\xff\xd9", b"\xff\xd8\xff\xc0\x00\x11\x08\xff\xff\xff\xff"],
    JXL: [b"\xff\x0a", b"\0\0\0\x08jxlp", b"\0\0\0\x01jxlc\xff\xff\xff\xff\xff\xff\xff\xff"],
    VIDEO: [b"\0\0\0\x01mdat\xff\xff\xff\xff\xff\xff\xff\xff", b"\0\0\0\x08moov",
            b"\x1f\x43\xb6\x75\x01\xff\xff\xff\xff\xff\xff\xff"],  # an MP4 box, a WebM cluster of unknown size
}


def append_junk(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """After the end marker: random bytes, a second copy of the file, or a bare marker."""
    kind = rng.choice(["random", "copy", "marker"])
    if kind == "random":
        junk = rng.randbytes(rng.randrange(1, 65536))
    elif kind == "copy":
        junk = data * rng.randrange(1, 4)
    else:
        junk = rng.choice(_MARKERS[seed.format])
    return data + junk, f"{len(junk):,} bytes of {kind} junk appended"
