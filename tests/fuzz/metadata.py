"""Mutations of what rides along with the pixels: EXIF blocks, ICC profiles and PNG text.

Each replaces the seed's own block with a hostile one, leaving the pixels valid, so it is the
metadata path that is tested: spliced into a JPEG (APP1/APP2 segments) or a PNG (eXIf/iCCP
chunks); for WebP, AVIF, HEIF and TIFF, the seed's picture is saved again with it.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Callable
from functools import cache
from random import Random

from PIL import Image

from tests.fuzz import jpeg_markers, png_chunks, profiles
from tests.fuzz.seeds import AVIF, GREY_MODES, JPEG, PNG, RGB_MODES, TIFF, WEBP, Seed

Mutated = tuple[bytes, str]
Mutator = Callable[[bytes, Seed, Random], Mutated]
_ORIENTATION = 0x0112
_SPLICED = frozenset({JPEG, PNG})
# An IFD entry, little- and big-endian: Orientation, SHORT, count 1, a value of 1 to 8.
_ORIENTATION_ENTRIES = (
    (re.compile(rb"\x12\x01\x03\x00\x01\x00\x00\x00([\x01-\x08]\x00)"), "<H"),
    (re.compile(rb"\x01\x12\x00\x03\x00\x00\x00\x01(\x00[\x01-\x08])"), ">H"),
)


def carries_metadata(seed: Seed) -> bool:
    """A profile or an orientation can be spliced in, or the picture saved again with it (not
    GIF: Pillow reads neither there)."""
    return seed.format in _SPLICED or seed.resave is not None


def carries_orientation(seed: Seed) -> bool:
    """Not AVIF: Pillow's writer turns an orientation into the container's rotation and mirror,
    which have no invalid values."""
    return carries_metadata(seed) and seed.format != AVIF


def carries_raw_exif(seed: Seed) -> bool:
    """Any bytes can stand as EXIF: spliced in, or kept as given by Pillow's WebP writer
    (its AVIF writer and pillow-heif parse the block and refuse or rewrite a broken one)."""
    return seed.format in _SPLICED or (seed.format == WEBP and seed.resave is not None)


def with_exif(data: bytes, seed: Seed, exif: bytes) -> bytes:
    """exif starts with the TIFF header (no b'Exif\\0\\0')."""
    if seed.format == JPEG:
        data = jpeg_markers.without_app(data, jpeg_markers.APP1, b"Exif\0\0")
        app1 = jpeg_markers.segment(jpeg_markers.APP1, b"Exif\0\0" + exif)
        return jpeg_markers.insert_after_soi(data, app1)
    if seed.format == PNG:
        data = png_chunks.without(data, {b"eXIf"})
        return png_chunks.insert_after_header(data, png_chunks.chunk(b"eXIf", exif))
    assert seed.resave is not None
    return seed.resave(exif=exif)


def with_icc(data: bytes, seed: Seed, profile: bytes) -> bytes:
    if seed.format == JPEG:
        data = jpeg_markers.without_app(data, jpeg_markers.APP2, jpeg_markers.ICC_PREFIX)
        return jpeg_markers.insert_after_soi(data, jpeg_markers.icc_segments(profile))
    if seed.format == PNG:
        # Stored, not deflated (level 0 is a valid zlib stream): a giant profile is built in ms.
        iccp = png_chunks.chunk(b"iCCP", b"fuzz\0\0" + zlib.compress(profile, 0))
        return png_chunks.insert_after_header(png_chunks.without(data, {b"iCCP", b"sRGB"}), iccp)
    assert seed.resave is not None
    return seed.resave(icc_profile=profile)


def exif_orientation(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """Orientations outside 1-8: 0, 9 and the largest SHORT. libtiff refuses such a value and
    pillow-heif rewrites it, so outside JPEG and PNG the picture is saved with orientation 6
    (TIFF: as its own tag) and the value patched in the saved file."""
    value = rng.choice([0, 9, 65535])
    exif = Image.Exif()
    exif[_ORIENTATION] = value
    if seed.format in _SPLICED:
        return with_exif(data, seed, exif.tobytes()[6:]), f"EXIF orientation {value}"
    assert seed.resave is not None
    exif[_ORIENTATION] = 6
    if seed.format == TIFF:
        saved = seed.resave(tiffinfo={_ORIENTATION: 6})
    else:
        saved = seed.resave(exif=exif)
    for entry, layout in _ORIENTATION_ENTRIES:
        if found := entry.search(saved):
            patched = saved[: found.start(1)] + struct.pack(layout, value) + saved[found.end(1) :]
            return patched, f"orientation {value} patched into the saved {seed.format}"
    raise ValueError(f"no orientation entry to patch in the saved {seed.format}")


def _ifd(entries: list[tuple[int, int, int, bytes]], first: int = 8, order: bytes = b"II") -> bytes:
    """A little-endian TIFF header and one IFD of (tag, type, count, 4-byte value) entries."""
    body = b"".join(
        struct.pack("<HHI", tag, kind, count) + value[:4].ljust(4, b"\0")
        for tag, kind, count, value in entries
    )
    header = order + b"\x2a\0" + struct.pack("<I", first)
    return header + struct.pack("<H", len(entries)) + body + b"\0\0\0\0"


def exif_malformed(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A transposing orientation (so exif_transpose runs and rewrites the block) among broken
    structure: offsets outside the block, a wrong type, loops, truncation, random entries."""
    orientation = (_ORIENTATION, 3, 1, struct.pack("<H", rng.choice([5, 6, 7, 8])))
    kind = rng.choice(["ifd outside", "count huge", "orientation type", "pointer loop", "truncated",
                       "random entries", "byte order"])  # fmt: skip
    entries = [orientation]
    if kind == "ifd outside":
        return with_exif(
            data, seed, _ifd(entries, first=rng.choice([0xFFFF, 2**31, 2**32 - 1]))
        ), kind
    if kind == "count huge":
        block = bytearray(_ifd(entries))
        block[8:10] = struct.pack("<H", rng.choice([2, 0x7FFF, 0xFFFF]))
        return with_exif(data, seed, bytes(block)), kind
    if kind == "orientation type":
        kind_code, count = (
            rng.choice([2, 4, 5, 7, 9, 10, 11, 12, 0, 13, 99]),
            rng.choice([1, 2, 1000, 2**31]),
        )
        entries = [
            (_ORIENTATION, kind_code, count, struct.pack("<I", rng.choice([6, 8, 0xFFFFFF])))
        ]
        return with_exif(data, seed, _ifd(entries)), f"{kind}: type {kind_code}, count {count}"
    if kind == "pointer loop":
        pointer = rng.choice([0x8769, 0x8825, 0xA005])  # Exif, GPS, interoperability IFDs
        entries.append((pointer, 4, 1, struct.pack("<I", rng.choice([8, 0, 7, 0x7FFFFFFF]))))
        return with_exif(data, seed, _ifd(entries)), f"{kind} via tag {pointer:#x}"
    if kind == "truncated":
        block = _ifd([orientation, (0x010F, 2, 40, struct.pack("<I", 38))])
        cut = rng.randrange(4, len(block))
        return with_exif(data, seed, block[:cut]), f"{kind} at {cut} of {len(block)}"
    if kind == "random entries":
        counts = [1, 4, 64, 65536, 2**32 - 1]
        entries += [
            (rng.randrange(65536), rng.randrange(20), rng.choice(counts), rng.randbytes(4))
            for _ in range(rng.randrange(1, 40))
        ]
        rng.shuffle(entries)
        return with_exif(data, seed, _ifd(entries)), f"{len(entries)} random entries"
    return with_exif(data, seed, _ifd(entries, order=rng.choice([b"XX", b"MI", b"\0\0"]))), kind


def icc_giant(data: bytes, seed: Seed, rng: Random) -> Mutated:
    profile, what = profiles.giant(seed.mode, rng)
    return with_icc(data, seed, profile), f"{len(profile):,}-byte profile: {what}"


def _own_profile_edited(edit: Callable[[bytes, Random], tuple[bytes, str]]) -> Mutator:
    """A mutation that embeds the seed's own profile after edit has broken it."""

    def mutate(data: bytes, seed: Seed, rng: Random) -> Mutated:
        profile, what = edit(profiles.for_mode(seed.mode), rng)
        return with_icc(data, seed, profile), what

    return mutate


icc_truncated = _own_profile_edited(profiles.truncated)
icc_bad_header = _own_profile_edited(profiles.bad_header)
icc_tag_outside = _own_profile_edited(profiles.tag_outside)
icc_tag_bytes = _own_profile_edited(profiles.corrupt_tags)
icc_device_class = _own_profile_edited(profiles.device_class)


def icc_without_colorants(data: bytes, seed: Seed, rng: Random) -> Mutated:
    profile, what = profiles.without_colorants()
    return with_icc(data, seed, profile), what


def icc_mismatch(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A valid profile for other pixels: CMYK on RGB, RGB on grey, grey on RGB(A), and so on."""
    others = [mode for mode in ("RGB", "L", "CMYK") if _space(mode) != _space(seed.mode)]
    mode = rng.choice(others)
    return with_icc(
        data, seed, profiles.for_mode(mode)
    ), f"{_space(mode)} profile on {seed.mode} pixels"


def _space(mode: str) -> str:
    return "GRAY" if mode in GREY_MODES else "RGB" if mode in RGB_MODES else mode


MB = 1024 * 1024


@cache
def inflating_to(size: int) -> bytes:
    """A zlib stream of size zero bytes in about size / 1000 bytes, made without compressing
    size bytes: one fully flushed 1 MB deflate block is independent of what precedes it, so
    it can be repeated (the checksum is chained block by block)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(MB)) + compressor.flush(zlib.Z_FULL_FLUSH)
    checksum, zeros = 1, bytes(MB)
    for _ in range(size // MB):
        checksum = zlib.adler32(zeros, checksum)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    return b"\x78\xda" + block * (size // MB) + final + struct.pack(">I", checksum)


@cache
def _zeros_compressed(size: int) -> bytes:
    return zlib.compress(bytes(size), 9)


def png_text_bomb(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A chunk of a few hundred KB that inflates to hundreds of MB, before or after IDAT; or
    many 1 MB ones, whose sum passes Pillow's per-file text budget."""
    kind = rng.choice(["zTXt", "iTXt", "iCCP", "zTXt after IDAT", "many zTXt"])
    size = rng.choice([128, 256, 512]) * MB
    if kind == "many zTXt":
        chunk = png_chunks.chunk(b"zTXt", b"Comment\0\0" + _zeros_compressed(MB - MB // 16))
        count = rng.randrange(65, 200)
        edited = png_chunks.insert_after_header(data, chunk * count)
        return edited, f"{count} zTXt chunks of 0.94 MB inflated"
    stream = inflating_to(size)
    body = {
        "zTXt": b"Comment\0\0" + stream,
        "iTXt": b"Comment\0\1\0en\0Comment\0" + stream,
        "iCCP": b"fuzz\0\0" + stream,
    }[kind.split()[0]]
    chunk = png_chunks.chunk(kind[:4].encode(), body)
    if kind.endswith("after IDAT"):
        iend = png_chunks.read_chunks(data)[-1]
        edited = data[: iend.offset] + chunk + data[iend.offset :]
    else:
        clean = png_chunks.without(data, {b"iCCP", b"sRGB"}) if kind == "iCCP" else data
        edited = png_chunks.insert_after_header(clean, chunk)
    return edited, f"{kind}, {size // MB} MB inflated"
