"""What a decoder says about the bytes it is given, in our terms: NotAnImage, or ImageTooLarge for
a decompression bomb. Every reader wraps its decoder calls in decoding(), one at a time."""

from __future__ import annotations

import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

from create_thumbnail.errors import ImageTooLarge, NotAnImage

# What the decoders raise about the bytes they are given: Pillow's plugins, libheif through
# pi-heif, libavif through Pillow. Found by running 17,256 mutated inputs (the fuzz test's for
# four master seeds, and 6,000 random mutations of every seed) through make_renditions with every
# source format on, animations kept and nothing caught. Inputs that ended so, by type:
BAD_BYTES = (
    OSError,  # 5,454 in every format: UnidentifiedImageError from open (2,266), "image file is
    # truncated", "broken data stream", libtiff's and libwebp's own failures
    ValueError,  # 775: a truncated IHDR or tRNS, text past Pillow's limits (PNG); libheif's
    # "Invalid input" (HEIF); "tile cannot extend outside image" (GIF, TIFF)
    RuntimeError,  # 220: libavif's "Decoding of color planes failed" (AVIF); libheif's
    # "Security limit exceeded" (HEIF); libjxl's status through pillow-jxl-plugin, "Generic
    # Error" (JXL; its NotImplementedError for a colour layout it does not take is one too)
    OverflowError,  # 206: a TIFF field too large for C, a ColorMap entry of 0xFFFFFFFE (160), a
    # TileWidth of 2^31-1 or more (46)
    EOFError,  # 66: libheif's "Unexpected end of file" (HEIF)
    SyntaxError,  # 50: libavif's "Truncated data", "BMFF parsing failed" (AVIF)
    IndexError,  # 13: a GIF cut short where the next frame's data begins
    struct.error,  # 4: a GIF graphic control block shorter than its fields
)
# (A PNG's pixels are read by libvips: its pyvips.Error is NotAnImage in png.py, 1,707 inputs.
# Pillow's DecompressionBombError, 116, is ImageTooLarge.) tests/unit/test_decoding.py has one
# input of each kind.


@contextmanager
def decoding() -> Iterator[None]:
    """Around one call that decodes the source's bytes (Image.open, draft, seek, load, a GIF's
    n_frames): what the decoder says about them is NotAnImage, a decompression bomb is
    ImageTooLarge. Nothing but that one call may run inside, so that no error of our own, a
    TypeError in our code between two decoder calls, can ever be taken for bad input: that
    propagates, to be retried and counted as the bug it is. Pillow's pixel warning is silenced
    here, not process-wide: MAX_SOURCE_PIXELS and the budget's checks stand in for it, and its
    hard error (at twice Image.MAX_IMAGE_PIXELS) is still taken as too large."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            yield
        except Image.DecompressionBombError as error:
            raise ImageTooLarge(str(error)) from error
        except BAD_BYTES as error:
            raise NotAnImage(f"could not decode the image: {type(error).__name__}: {error}") from error
