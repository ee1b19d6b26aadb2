"""The bad-input corpus: uploads a thumbnailer meets in the wild, each with the outcome it must
end in. Generated here, not committed: every case is a few lines of code from a good image.

The imaging-level checks of several of these live in tests/unit/test_imaging.py; this corpus
drives the whole handler over S3, where what matters is the outcome per record, that nothing
half-made is left behind, and that the source is never touched.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from io import BytesIO

from local_run.inputs.grid import source_bytes
from local_run.inputs.samples import encode, photo
from PIL import Image


@dataclass(frozen=True)
class Case:
    key: str
    data: bytes
    status: str  # created | skipped | failed
    why: str | None = None  # failed: the error's class; skipped: the reason
    content_type: str | None = None  # created: the thumbnails'
    mode: str | None = None  # created: the decoded thumbnail's mode
    thumbnail_suffix: str = ""  # created: appended to the key when the bytes' format differs

    @property
    def id(self) -> str:
        return self.key


def png_declaring(width: int, height: int) -> bytes:
    """A valid PNG header claiming width x height over a few bytes of pixels: a decompression
    bomb in 57 bytes, caught from the header before anything is decoded."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey, no interlace
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 100))


def broken_exif_jpeg() -> bytes:
    """EXIF block present but unreadable (bad byte order mark and IFD offset): the image is fine,
    its orientation unknown, so it is taken as upright."""
    data = bytearray(source_bytes("RGB", (300, 200), "JPEG", orientation=6))
    start = data.index(b"Exif\x00\x00") + 6
    data[start : start + 8] = b"XX\x00\x2a\xff\xff\xff\xff"
    return bytes(data)


def truncated(image_format: str) -> bytes:
    data = encode(photo((600, 400), seed=7), image_format)
    return data[: len(data) // 2]


def other_format(image_format: str) -> bytes:
    buffer = BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format=image_format)
    return buffer.getvalue()


def corpus() -> list[Case]:
    return [
        Case("zero-byte.jpg", b"", "skipped", "empty object (0 bytes)"),
        Case("truncated.jpg", truncated("JPEG"), "failed", "NotAnImage"),
        Case("truncated.png", truncated("PNG"), "failed", "NotAnImage"),
        Case("text.jpg", b"just some notes, saved as .jpg\n", "failed", "NotAnImage"),
        Case("error-page.png", b"<!DOCTYPE html><title>502 Bad Gateway</title>", "failed", "NotAnImage"),
        Case("gif.png", other_format("GIF"), "failed", "NotAnImage"),
        Case("webp.jpg", other_format("WEBP"), "failed", "NotAnImage"),
        Case("png-magic-then-noise.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "failed", "NotAnImage"),
        Case("bomb-50000x50000.png", png_declaring(50_000, 50_000), "failed", "ImageTooLarge"),
        Case("broken-exif.jpg", broken_exif_jpeg(), "created", content_type="image/jpeg", mode="RGB"),
        Case("png-named.jpg", source_bytes("RGB", (300, 200), "PNG"), "created", content_type="image/png",
             mode="RGB", thumbnail_suffix=".png"),
        Case("jpeg-named.png", source_bytes("RGB", (300, 200), "JPEG"), "created", content_type="image/jpeg",
             mode="RGB", thumbnail_suffix=".jpg"),
        Case("cmyk.jpg", source_bytes("CMYK", (300, 200), "JPEG"), "created", content_type="image/jpeg", mode="RGB"),
        Case("grey-16-bit.png", source_bytes("I;16", (300, 200), "PNG"), "created", content_type="image/png",
             mode="L"),
        Case("palette-transparent.png", source_bytes("P+alpha", (300, 200), "PNG"), "created",
             content_type="image/png", mode="RGBA"),
        Case("bilevel.png", source_bytes("1", (300, 200), "PNG"), "created", content_type="image/png", mode="L"),
        Case("grey-alpha.png", source_bytes("LA", (300, 200), "PNG"), "created", content_type="image/png",
             mode="LA"),
        Case("sliver-1x3000.png", source_bytes("RGB", (1, 3000), "PNG"), "created", content_type="image/png",
             mode="RGB"),
    ]  # fmt: skip
