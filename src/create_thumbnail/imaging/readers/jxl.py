"""JPEG XL: decoded by libjxl through pillow-jxl-plugin, imported on the first JXL.

The plugin is GPL-3.0-or-later, so it is not in the function's artifact but in a layer the stack
attaches when SOURCE_FORMATS includes jxl (layers/jxl/; config.py refuses jxl where it is not
installed).

The plugin's decoder is called directly, not through Image.open: its Pillow plugin decodes every
pixel when the file is opened, before anything could check the size, so the header is read here
first (jxl_header.py) and the checks every reader makes run on it (shape, MAX_SOURCE_PIXELS, the
memory budget). Only then is the file decoded, once, whole: libjxl offers no smaller scale
through this binding.

- Orientation is the codestream's, one field of its header, and libjxl applies it: the pixels
  arrive upright, and an Exif box in the container is not read again (the codestream's field is
  the one JPEG XL defines; libjxl's encoder copies EXIF's into it). A JPEG recompressed into JPEG
  XL (a jbrd box) comes back as that JPEG, byte for byte, and is read as every JPEG is
  (readers/jpeg.py: draft scale, its EXIF orientation, scans, budget).
- An animation: libjxl composites every frame into one buffer and the plugin hands back the last.
  So the codestream is cut after its first shown frame (jxl_frames.py), and only that is decoded:
  the thumbnail is the first frame, as a player shows it first. Where the frames cannot be
  walked (an ICC profile in the codestream, a permuted table of contents), or libjxl refuses the
  cut, the file is decoded whole and the thumbnail is its last frame, with a note saying so.
- More than 8 bits: colour arrives as 8 bits (the plugin keeps each sample's high byte), 16-bit
  grey as I;16 (modes.py keeps its high byte), float grey as F, scaled from 0-1 to 8 bits here.
  Premultiplied alpha is handed over as stored, and divided out here (Pillow's RGBa).

What libjxl and the plugin raise about the bytes (RuntimeError with libjxl's status, ValueError
for a colour layout the plugin does not take) is NotAnImage through decoding(); the plugin raises
nothing else. Memory: docs/performance.md, "JPEG XL sources"; benchmarks/jxl_bench.py measures it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PIL import Image

from create_thumbnail.config import Box
from create_thumbnail.errors import NotAnImage
from create_thumbnail.imaging.budget import Budget, Header, check_shape, estimate_peak
from create_thumbnail.imaging.modes import resampling_mode
from create_thumbnail.imaging.readers import Loaded, jpeg
from create_thumbnail.imaging.readers.checks import admit, check_pixels
from create_thumbnail.imaging.readers.decoding import decoding
from create_thumbnail.imaging.readers.jxl_frames import Unwalkable, first_frame
from create_thumbnail.imaging.readers.jxl_header import JxlHeader, codestream, read_header
from create_thumbnail.imaging.readers.orientation import upright_size

# libjxl's own buffers beside the image it hands over, per pixel of each channel (colour and
# extra channels), fitted from above to benchmarks/jxl_bench.py on the conformance files and on
# photos made at 1-12 MP: its frame buffers (32-bit samples, a float canvas and a reference frame
# for each layer or patch), the output buffer, the plugin's copy of it into Python bytes. What
# costs most is not in the image header (layers, patches, Squeeze), so the header's depth and
# extra channels stand for it: 8-bit with at most an alpha channel measured up to 17 B/px for
# grey (Squeeze) and 11.5 for RGBA at 12 MP; above 8 bits or with more extra channels, 55-102 B/px
# for RGBA at 1 MP (a 10-bit file of two layers: 86). Fixed: libjxl's threads and group buffers,
# up to 44 MB for a small file (a 512 x 512 CMYK of two layers).
_BYTES_PER_CHANNEL = {False: 7.0, True: 20.0}  # plain: 8 bits and at most alpha; else
_DECODER_FIXED_BYTES = 40 * 1024 * 1024

Decoded = tuple[bool, Any, bytes, bytes]  # the plugin's: recompressed JPEG?, info, pixels, ICC


def load(data: bytes, boxes: Sequence[Box], max_pixels: int, budget: Budget) -> Loaded:
    header = read_header(data)
    check_shape(header.size)
    check_pixels(header.size, max_pixels)
    upright = upright_size(header.size, header.orientation)
    # An animation's first frame is a second copy of the codestream, less what follows it.
    held = len(data) * (2 if header.animated else 1)
    admit(estimate_decode(header, upright, boxes), budget, held=held)
    (recompressed, info, pixels, icc_profile), notes = _decode(data, header)
    if recompressed:  # the original JPEG's bytes
        return jpeg.load(pixels, boxes, max_pixels, budget)
    if (info.width, info.height) != upright:
        decoded = f"{info.width}x{info.height}"
        raise NotAnImage(f"a JPEG XL header of {upright[0]}x{upright[1]} decoded as {decoded}")
    image = _image(info.mode, upright, pixels, header.premultiplied)
    del pixels
    return Loaded(resampling_mode(image), bytes(icc_profile) or None, upright, notes)


def estimate_decode(header: JxlHeader, size: tuple[int, int], boxes: Sequence[Box]) -> int:
    """Peak bytes of decoding and resizing, before a byte is decoded."""
    path = "I;16" if header.grey and header.bits_per_sample > 8 else "L" if header.grey else "RGB"
    if header.alpha:
        path = "L+alpha" if header.grey else "RGB+alpha"
    channels = (1 if header.grey else 3) + header.extra_channels
    costly = header.bits_per_sample > 8 or header.extra_channels > 1
    per_pixel = _BYTES_PER_CHANNEL[costly] * channels
    header_cost = Header(path, 0, per_pixel, decoder_fixed_bytes=_DECODER_FIXED_BYTES)
    return estimate_peak(header_cost, size, boxes, transposes=False)  # libjxl turns it


def _decode(data: bytes, header: JxlHeader) -> tuple[Decoded, tuple[str, ...]]:
    """The still the thumbnail is made from: an animation's first frame where it can be cut out,
    else (and for a still image) the file decoded whole; notes say when that was an animation's
    last frame, and why."""
    decoder = _decoder()
    if not header.animated:
        return _whole(decoder, data), ()
    try:
        first = first_frame(codestream(data), header)
    except Unwalkable as why:
        return _whole(decoder, data), (f"an animated JPEG XL whose first frame cannot be cut out ({why}): "
                                       "the thumbnail is its last frame",)  # fmt: skip
    if first is None:  # its first frame shown is its last: one frame
        return _whole(decoder, data), ()
    try:
        return _whole(decoder, first), ()
    except NotAnImage as refused:
        whole = _whole(decoder, data)  # the file's own fault, if this raises too
        return whole, (f"an animated JPEG XL whose first frame libjxl would not decode alone ({refused}): "
                       "the thumbnail is its last frame",)  # fmt: skip


def _whole(decoder: Any, data: bytes) -> Decoded:
    with decoding():
        recompressed, info, pixels, icc_profile, _ = decoder(data)
    return recompressed, info, pixels, icc_profile


def _image(mode: str, size: tuple[int, int], pixels: bytes, premultiplied: bool) -> Image.Image:
    if mode in ("F", "F;16"):  # float grey, nominally 0-1: the plugin widened half floats
        return Image.frombytes("F", size, pixels).point(lambda value: value * 255).convert("L")
    if premultiplied and mode == "RGBA":
        return Image.frombytes("RGBa", size, pixels).convert("RGBA")
    return Image.frombytes(mode, size, pixels)


def _decoder() -> Any:
    """pillow-jxl-plugin on the first JXL, never at cold start: it is in the JPEG XL decoder
    layer, not the artifact, and importing it also registers its Pillow plugin, which decodes
    whole on open, so nothing here opens a JXL through Pillow."""
    import pillow_jxl

    return pillow_jxl.Decoder()
