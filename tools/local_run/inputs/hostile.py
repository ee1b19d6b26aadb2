"""Small files that would cost a decoder far more than their size: each passes a plain pixel
limit, and each would have killed or stalled a 1024 MB function before the memory and scan
budgets (src/create_thumbnail/imaging/budget.py). Made in code, a few hundred KB each, cached."""

from __future__ import annotations

import struct
import zlib
from functools import cache

from PIL import Image

from local_run.inputs.samples import encode, png_chunk

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _zeros_deflated(length: int) -> bytes:
    """zlib of length zero bytes, compressed in chunks: deflate's ~1000:1 at its best."""
    compressor = zlib.compressobj(9)
    chunk = bytes(1 << 20)
    parts = [compressor.compress(chunk) for _ in range(length >> 20)]
    parts.append(compressor.compress(bytes(length & ((1 << 20) - 1))))
    return b"".join(parts) + compressor.flush()


def _png(width: int, height: int, bit_depth: int, colour_type: int, raw_length: int, extra: list[bytes]) -> bytes:
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0))
    body = [ihdr, *extra, png_chunk(b"IDAT", _zeros_deflated(raw_length)), png_chunk(b"IEND", b"")]
    return PNG_SIGNATURE + b"".join(body)


@cache
def tall_palette_png(height: int = 49_999_999) -> bytes:
    """1 x height palette PNG with a transparent entry: under 50 MP, yet the palette -> RGBA
    conversion and the resize each held a full copy, 1.16 GB in all."""
    palette = png_chunk(b"PLTE", bytes((0, 0, 0, 255, 255, 255)))
    transparency = png_chunk(b"tRNS", b"\x00")
    return _png(1, height, 8, 3, 2 * height, [palette, transparency])


@cache
def wide_rgb16_png(width: int = 49_999_999) -> bytes:
    """width x 1 16-bit RGB PNG: one row of 300 MB raw, and the decoder's row buffers with it
    (MemoryError under a 2 GiB address-space limit)."""
    return _png(width, 1, 16, 2, 1 + 6 * width, [])


@cache
def scan_bomb_jpeg(scans: int = 20_000, side: int = 7000) -> bytes:
    """side x side progressive JPEG whose last scan (a luma refinement of a flat picture, with
    its Huffman table: 98 bytes) is repeated scans times. libjpeg walks the whole coefficient
    buffer for every scan: ~33 ms a scan here at 49 MP, whatever the draft scale, so the
    default is eleven minutes of work in 2.2 MB."""
    data = encode(Image.new("RGB", (side, side), (120, 130, 140)), "JPEG", quality=90, progressive=True, optimize=True)
    end = len(data) - 2  # before EOI
    last_scan = data.rindex(b"\xff\xda")
    its_table = data.rindex(b"\xff\xc4", 0, last_scan)
    return data[:end] + data[its_table:end] * scans + data[end:]
