"""What decoding an image will cost, told from its header before a pixel is decoded.

A pixel count alone is the wrong limit: memory per pixel depends on the path an image takes
(1 to 4 bytes a pixel as decoded, a mode conversion, the premultiplied copy Pillow resizes
alpha with, the whole-image coefficient buffer of a progressive JPEG), and time on the number
of scans of a progressive JPEG (each scan walks every block, however little it carries: 20,000
near-empty scans hold a 7000 x 7000 JPEG of 400 KB for minutes). So, from the header:

- shapes no camera or editor makes (a side over 65,535 pixels, an aspect ratio beyond
  1:10,000) are refused outright: a one-pixel-high image defeats every reduction step, and
  PNG's row buffers grow with the width;
- a JPEG with more scans than MAX_SCANS, or whose scans would walk more than
  MAX_SCAN_PIXELS pixels in all, is refused;
- the peak memory of the image's path is estimated from a table of bytes per pixel measured
  for each path (docs/performance.md, "Memory budget"; benchmarks/budget_bench.py prints the
  measurement beside the estimate) and refused when over the budget, which is the function's
  memory less what the runtime itself holds. AVIF and HEIF are budgeted at the depth and
  chroma that cost most, since their decoders do not go by what the file's boxes declare
  (tests/fuzz/decoder_peaks.py measures them);
- an animation kept as one is budgeted for compositing a frame at the whole canvas beside the
  frames already made (estimate_animation_peak; readers/animated.py checks every frame's region).

Every refusal is ImageTooLarge, a permanent failure: the same bytes cannot fit next time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from create_thumbnail.config import Box
from create_thumbnail.errors import ImageTooLarge
from create_thumbnail.imaging.renditions import resampled_by_libvips

MAX_SIDE = 65_535
MAX_ASPECT = 10_000
# Scans of a progressive JPEG: 10 from libjpeg's default script and from Pillow, up to ~20 from
# mozjpeg's optimised scans; 100 leaves room for any encoder yet stops the scan bomb.
MAX_SCANS = 100
# Each scan walks the whole coefficient buffer: ~0.7 ns a pixel here (a 49 MP JPEG: 36 ms a
# scan). 2e9 scan-pixels is ~1.5 s here (~2.5 s at 1024 MB on Lambda): 40 scans of a 50 MP photo,
# twice what any encoder writes, and the full 100 at 20 MP and below.
MAX_SCAN_PIXELS = 2_000_000_000
# What the runtime holds besides the image: Python, boto3, Pillow, Powertools, the S3 client and
# its buffers (Lambda reports 57-72 MB Max Memory Used for a small image) plus room to spare.
RUNTIME_RESERVE_MB = 100
# Pillow's own allocations beside the pixels (decoder state, zlib window, row buffers).
_FIXED_BYTES = 8 * 1024 * 1024
_MB = 1024 * 1024

# Peak bytes per decoded pixel for each path, measured on 12 MP images with one small box
# (benchmarks/budget_bench.py), rounded up: the decoded image, its mode conversion, and the
# premultiplied copy Pillow makes to resize alpha (another 4 bytes a pixel).
_PATH_BYTES_PER_PIXEL = {
    "1": 2.1,  # 1 byte a pixel as decoded, converted to L
    "L": 1.1,
    "L+alpha": 8.3,  # L or LA (stored 4 bytes a pixel) -> LA, premultiplied to resize
    "P": 5.1,  # P -> RGB
    "P+alpha": 8.3,
    "RGB": 4.3,  # Pillow stores RGB in 4 bytes a pixel
    "RGB+alpha": 8.3,
    "CMYK": 4.3,
    "I;16": 6.1,  # 2 bytes, their copy, the high bytes, the L image (16-bit TIFF)
}
# Decoders that hold buffers of their own beside Pillow's image: bytes a pixel without alpha and
# with it, and fixed bytes. libwebp decodes into a buffer of its own and Pillow copies it (RGB
# 16.2, RGBA 16.6 B/px in all at 12 MP, benchmarks/budget_bench.py). libavif (dav1d) and libheif
# (libde265) keep the decoded YUV planes, and alpha's, beside the RGB they convert them to: a
# byte a sample at 8 bits and two above, chroma from a quarter of luma's (4:2:0) to as much
# (4:4:4). What a file's boxes declare of depth and chroma is not what the decoders go by: a
# 10-bit 4:4:4 stream decodes as such under an av1C and pixi (AVIF) or hvcC (HEIF) that say
# 8-bit 4:2:0. So every AVIF and HEIF is budgeted as the costliest, 10-bit 4:4:4 (12 bits take
# the same two bytes), which 8-bit 4:2:0 photos overpay by 5-7 B/px. Measured
# (tests/fuzz/decoder_peaks.py) at 0.75, 3 and 12 MP and, for AVIF, a 128 px picture that
# libavif scales up to the 50 MP its ispe box claims; fitted from above: 12 MP implies the most
# per pixel (AVIF RGB 8.2, RGBA 9.0; HEIF RGB 10.0, RGBA 11.0 B/px), 0.75 MP the fixed part
# (dav1d's per-thread state: 8-14 MB).
_DECODER_BYTES = {
    "WEBP": (12.0, 12.0, 0),
    "AVIF": (8.5, 9.6, 14 * _MB),
    "HEIF": (10.4, 11.4, 8 * _MB),
}
# An animation composites each frame at the canvas' size, per pixel of it, measured
# (tests/fuzz/decoder_peaks.py: 1000 x 1000 to 5000 x 5000, opaque and transparent, two frames)
# over the whole call and fitted from above. GIF: Pillow's canvas (4 bytes), the frame decoded
# into one of the canvas' size (1) then converted (4), its crop and its disposal (4 each), our
# RGBA copy (4), beside the still first frame (4). WebP: libwebp's canvas and its disposed copy
# (8), the frame it decodes, Pillow's copy of the canvas and its image (8), our copy, the still.
_ANIMATION_BYTES_PER_PIXEL = {"GIF": 27.0, "WEBP": 38.0}
# libwebp's demuxer keeps a copy of the file for each WebP opened: the still first frame's, and
# the two opened to count and to composite the frames. Pillow reads a GIF from the caller's bytes.
_ANIMATION_INPUT_COPIES = {"WEBP": 3}
# A PNG is read by libvips (readers/png.py) in strips and shrunk as it streams; what it holds grows
# with the source's pixels and, more steeply, with its width (the strips are whole rows). Measured
# (benchmarks/budget_bench.py) from 1000 x 1000 to 65,535 x 100 and fitted from above: bytes per
# source pixel and per column, by bands; 16-bit samples hold 2.5 times as much per column.
_PNG_STREAM = {1: (2.0, 1000.0), 2: (3.0, 1600.0), 3: (3.0, 1600.0), 4: (4.0, 2000.0)}
_PNG_FIXED_BYTES = 16 * _MB
# A progressive (or multi-scan) JPEG holds every DCT coefficient of the image while decoding, at
# full size whatever the draft scale: 2 bytes per sample of each component, 64 to a block.
_COEFFICIENT_BYTES = 2


@dataclass(frozen=True, slots=True)
class Budget:
    """Peak bytes an image may take to decode and resize; None: no memory budget."""

    bytes: int | None

    @classmethod
    def for_memory(cls, memory_mb: int) -> Budget:
        return cls(max(0, memory_mb - RUNTIME_RESERVE_MB) * _MB)


def check_shape(size: tuple[int, int]) -> None:
    width, height = size
    if width < 1 or height < 1:
        raise ImageTooLarge(f"{width}x{height} has no pixels")
    if max(width, height) > MAX_SIDE:
        raise ImageTooLarge(f"{width}x{height}: a side over {MAX_SIDE:,} pixels")
    if max(width, height) > MAX_ASPECT * min(width, height):
        raise ImageTooLarge(f"{width}x{height}: an aspect ratio beyond 1:{MAX_ASPECT:,}")


def count_scans(data: bytes) -> int:
    """Start-of-scan markers of a JPEG. The header segments are walked by their lengths; from
    the first scan on, 0xFF in entropy-coded data is always followed by 0x00 or a marker, so
    every FF DA is a scan (or lies in a table between scans: an upper bound, never less)."""
    position = 2
    while position + 4 <= len(data) and data[position] == 0xFF:
        marker = data[position + 1]
        if marker == 0xDA:
            return data.count(b"\xff\xda", position)
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        position += 2 + int.from_bytes(data[position + 2 : position + 4], "big")
    return 0


def check_scans(data: bytes, size: tuple[int, int]) -> None:
    scans = count_scans(data)
    if scans > MAX_SCANS:
        raise ImageTooLarge(f"a JPEG of {scans:,} scans, over the limit of {MAX_SCANS} scans")
    walked = scans * size[0] * size[1]
    if walked > MAX_SCAN_PIXELS:
        raise ImageTooLarge(
            f"{scans} scans of {size[0]}x{size[1]} pixels walk {walked:,} pixels, over the "
            f"limit of {MAX_SCAN_PIXELS:,} (a progressive JPEG decodes every scan in full)"
        )


@dataclass(frozen=True, slots=True)
class Header:
    """What an opened, undecoded image says about the cost of decoding it."""

    path: str  # a row of _PATH_BYTES_PER_PIXEL
    coefficient_bytes: int  # a progressive JPEG's whole-image coefficient buffer; 0 otherwise
    decoder_bytes_per_pixel: float = 0.0  # the decoder's own buffers (WebP, AVIF, HEIF)
    streaming_bytes: int = 0  # libvips' strips while a PNG streams, beside the shrunk image
    decoder_fixed_bytes: int = 0  # the decoder's own state, whatever the size (AVIF, HEIF)

    @classmethod
    def of(cls, image: Image.Image) -> Header:
        """Read before JPEG draft: the coefficient buffer is at the full size, whatever the
        scale the pixels are then decoded at."""
        progressive = image.format == "JPEG" and bool(image.info.get("progressive") or image.info.get("progression"))
        coefficients = math.ceil(_coefficients(image)) if progressive else 0
        if image.format == "PNG":
            bands = _png_bands(image)
            return cls(_PNG_PATHS[bands], 0, 0.0, _png_streaming(image, bands))
        path = _path(image)
        opaque, alpha, fixed = _DECODER_BYTES.get(image.format or "", (0.0, 0.0, 0))
        per_pixel = alpha if path.endswith("+alpha") else opaque
        return cls(path, coefficients, per_pixel, decoder_fixed_bytes=fixed)


# Paths resampled as RGB without alpha (a palette is converted first: modes.py).
_RESAMPLED_AS_RGB = frozenset({"RGB", "P"})
# What libvips hands back for a PNG (readers/png.py), by bands: 8-bit L, LA, RGB or RGBA, whatever
# the PNG's own depth, palette or tRNS.
_PNG_PATHS = {1: "L", 2: "L+alpha", 3: "RGB", 4: "RGB+alpha"}


def _png_bands(image: Image.Image) -> int:
    bands = {"1": 1, "L": 1, "I;16": 1, "I;16B": 1, "I": 1, "LA": 2, "RGB": 3, "P": 3, "RGBA": 4}.get(image.mode, 4)
    return bands + 1 if image.info.get("transparency") is not None and bands in (1, 3) else bands


def _png_streaming(image: Image.Image, bands: int) -> int:
    per_pixel, per_column = _PNG_STREAM[bands]
    sixteen = image.mode.startswith("I;16") or any(str(tile.args).endswith(";16B") for tile in image.tile)
    width, height = image.size
    return math.ceil(_PNG_FIXED_BYTES + per_pixel * width * height + per_column * width * (2.5 if sixteen else 1))


def _path(image: Image.Image) -> str:
    """What Pillow's own decoders (every format but PNG) hold, by mode."""
    alpha = image.info.get("transparency") is not None or image.mode in ("LA", "PA", "RGBA")
    if image.mode.startswith("I;16") or image.mode == "I":
        return "I;16"
    base = {"1": "1", "L": "L", "LA": "L", "P": "P", "PA": "P", "RGBA": "RGB", "CMYK": "CMYK"}
    path = base.get(image.mode, "RGB")
    return f"{path}+alpha" if alpha and path in ("L", "P", "RGB") else path


def estimate_peak(header: Header, size: tuple[int, int], boxes: Sequence[Box], transposes: bool) -> int:
    """Peak bytes that decoding at size (after JPEG draft or PNG shrink-on-load) and resizing
    will add."""
    width, height = size
    pixels = width * height
    per_pixel = _PATH_BYTES_PER_PIXEL[header.path] + header.decoder_bytes_per_pixel
    peak = per_pixel * pixels + _FIXED_BYTES + header.coefficient_bytes + header.streaming_bytes
    peak += header.decoder_fixed_bytes
    if transposes:  # exif_transpose copies the decoded image
        decoded = 2 if header.path.startswith("I;16") else 1 if header.path in ("1", "L", "P") else 4
        peak += decoded * pixels
    return math.ceil(peak + _resize_intermediate(size, boxes, header.path))


def estimate_animation_peak(
    image_format: str, canvas: tuple[int, int], boxes: Sequence[Box], input_bytes: int
) -> int:
    """Peak bytes of compositing one frame of an animation and resizing it, beside the still
    first frame decoded before it; the frames already kept are the caller's to add. Pillow
    composites every frame at the whole canvas, however small the frame. input_bytes: the
    file's length, which libwebp copies."""
    pixels = canvas[0] * canvas[1]
    per_pixel = _ANIMATION_BYTES_PER_PIXEL.get(image_format, max(_ANIMATION_BYTES_PER_PIXEL.values()))
    copies = _ANIMATION_INPUT_COPIES.get(image_format, 0) * input_bytes
    return math.ceil(per_pixel * pixels + _FIXED_BYTES + copies + _resize_intermediate(canvas, boxes, "RGB+alpha"))


def check_memory(estimate: int, budget: Budget, held: int) -> int | None:
    """held: bytes the caller already holds for this image (the compressed data). The bytes of
    budget left over (None: no budget)."""
    if budget.bytes is None:
        return None
    if estimate + held > budget.bytes:
        raise ImageTooLarge(
            f"decoding would take about {(estimate + held) / _MB:,.0f} MB, over the budget of "
            f"{budget.bytes / _MB:,.0f} MB (the function's memory less {RUNTIME_RESERVE_MB} MB "
            "for the runtime)"
        )
    return budget.bytes - estimate - held


def _resize_intermediate(size: tuple[int, int], boxes: Sequence[Box], path: str) -> float:
    """Pillow resizes the largest box in two passes after an integer reduce() (reducing_gap 3):
    the reduced copy, then a horizontal pass of the target's width by the reduced height. An RGB
    image libvips resamples (renditions.py) is read in place where Pillow lends it (arrow.py),
    else crosses as packed RGB, and comes back packed: the copy is counted either way, since a
    decode larger than Pillow's blocks (allocator.py) still makes it."""
    width, height = size
    largest = max(boxes, key=lambda box: box.width * box.height)
    scale = min(largest.width / width, largest.height / height, 1)
    target_w, target_h = max(1, round(width * scale)), max(1, round(height * scale))
    if path in _RESAMPLED_AS_RGB and resampled_by_libvips(size, (target_w, target_h)):
        return 3 * width * height + 3 * target_w * target_h + 4 * target_w * target_h
    factor_x, factor_y = max(1, int(width / target_w / 3)), max(1, int(height / target_h / 3))
    reduced = width * height / (factor_x * factor_y) if factor_x * factor_y > 1 else 0
    return 4 * (reduced + target_w * height / factor_y + target_w * target_h)


def _coefficients(image: Image.Image) -> float:
    """The coefficient buffer at the JPEG's full size: per component, 2 bytes a sample, at the
    component's sampling (4:2:0 chroma has a quarter of the luma's samples)."""
    full_w, full_h = image.size
    layers = getattr(image, "layer", None) or [(0, 1, 1, 0)]
    h_max = max(layer[1] for layer in layers)
    v_max = max(layer[2] for layer in layers)
    share = sum(layer[1] * layer[2] / (h_max * v_max) for layer in layers)
    return _COEFFICIENT_BYTES * share * full_w * full_h
