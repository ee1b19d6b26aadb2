"""A JPEG XL file's header, read without its decoder: size, orientation, depth, alpha, animation.

The decoder (pillow-jxl-plugin, readers/jxl.py) decodes every pixel before it says how large the
image is, so the checks every reader makes before decoding (shape, MAX_SOURCE_PIXELS, the memory
budget) read the header here instead. It is the start of the codestream (ISO/IEC 18181-1):
the signature FF 0A, the SizeHeader, then ImageMetadata as far as its colour encoding; a few
dozen bytes, read as a little-endian bit stream. A file in the ISO BMFF container (the signature
box "JXL ", then "ftyp", ...) holds the codestream in one "jxlc" box or split across "jxlp"
boxes (each payload after a 4-byte index); the header is read from their payloads, in order.

The header also keeps what walking the frames needs (jxl_frames.py): the extra channels'
shifts, XYB, timecodes, the preview's size, whether an ICC profile follows, and where the
colour encoding ended.

Anything the header cannot be read from (cut short, a box that overruns the file, no codestream)
is NotAnImage: the decoder would refuse it too, after allocating for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from create_thumbnail.errors import NotAnImage
from create_thumbnail.imaging.readers.sniff import JXL_CODESTREAM, JXL_CONTAINER

CODESTREAM_SIGNATURE, CONTAINER_SIGNATURE = JXL_CODESTREAM, JXL_CONTAINER
# The header needs a few dozen bytes, and at most ~5 KB when the extra channels carry long
# names; a little more codestream is gathered than that, never the whole file.
_HEADER_BYTES = 1 << 16
_SIZE_RATIOS = {1: (1, 1), 2: (12, 10), 3: (4, 3), 4: (3, 2), 5: (16, 9), 6: (5, 4), 7: (2, 1)}
_ALPHA = 0  # ExtraChannelInfo.type
_SPOT_COLOUR, _CFA = 2, 5
_GREY, _XYB = 1, 2  # ColourEncoding.colour_space
_CUSTOM = 2  # white point and primaries: given as CIE xy
# A CIE xy coordinate (Customxy): U32(Bits(19), BitsOffset(19, 524288), ...).
_XY = ((0, 19), (524288, 19), (1048576, 20), (2097152, 21))


@dataclass(frozen=True, slots=True)
class JxlHeader:
    size: tuple[int, int]  # as stored; orientations 5-8 swap the sides when shown
    orientation: int  # 1-8, as EXIF numbers them; the decoder applies it
    bits_per_sample: int
    float_samples: bool
    extra_channels: int
    alpha: bool
    premultiplied: bool  # the alpha channel is associated: colour stored multiplied by it
    grey: bool
    animated: bool
    # What the frames' headers depend on (jxl_frames.py):
    xyb: bool = True
    channel_shifts: tuple[int, ...] = ()  # each extra channel's dim_shift
    timecodes: bool = False
    preview: tuple[int, int] | None = None
    icc: bool = False  # an ICC profile, entropy-coded, comes before the frames
    tone_mapping: bool = False  # ImageMetadata's extra fields: a ToneMapping bundle follows
    metadata_bits: int = 0  # where the colour encoding ended, in bits from the codestream's start
    default_metadata: bool = True  # ImageMetadata all default: nothing of it follows


def read_header(data: bytes) -> JxlHeader:
    """The header of a bare codestream or of one in the container."""
    return _parse(Bits(codestream_start(data)))


def codestream_start(data: bytes) -> bytes:
    if data.startswith(CODESTREAM_SIGNATURE):
        return data[:_HEADER_BYTES]
    if data.startswith(CONTAINER_SIGNATURE):
        return _from_boxes(data, _HEADER_BYTES)
    raise NotAnImage("not a JPEG XL file: no codestream or container signature")


def codestream(data: bytes) -> bytes:
    """The whole codestream: a bare one as it is, a container's gathered from its boxes."""
    if data.startswith(CODESTREAM_SIGNATURE):
        return data
    if data.startswith(CONTAINER_SIGNATURE):
        return _from_boxes(data, len(data))
    raise NotAnImage("not a JPEG XL file: no codestream or container signature")


def _from_boxes(data: bytes, wanted: int) -> bytes:
    found = bytearray()
    position = 0
    while position + 8 <= len(data) and len(found) < wanted:
        size = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        header = 8
        if size == 1:  # a 64-bit size follows the type
            if position + 16 > len(data):
                break
            size, header = int.from_bytes(data[position + 8 : position + 16], "big"), 16
        elif size == 0:  # the last box runs to the end of the file
            size = len(data) - position
        if size < header:
            raise NotAnImage(f"a JPEG XL box {kind!r} of {size} bytes, shorter than its own header")
        end = min(position + size, len(data))  # the codestream may be cut: the parse then says so
        if kind == b"jxlc":
            found += data[position + header : end]
        elif kind == b"jxlp":
            found += data[position + header + 4 : end]
        position += size
    if not found:
        raise NotAnImage("a JPEG XL container without a codestream box (jxlc or jxlp)")
    return bytes(found[:wanted])


class Bits:
    """A codestream's bits, least significant first within each byte, read from position on.
    Each read takes only the bytes it spans: a codestream of megabytes is never one integer."""

    def __init__(self, data: bytes, position: int = 0) -> None:
        self.data = data
        self.length = 8 * len(data)
        self.position = position

    def u(self, count: int) -> int:
        end = self.position + count
        if end > self.length:
            raise NotAnImage("a JPEG XL header cut short")
        first, last = self.position >> 3, (end + 7) >> 3
        value = int.from_bytes(self.data[first:last], "little") >> (self.position & 7)
        self.position = end
        return value & ((1 << count) - 1)

    def skip(self, count: int) -> None:
        if self.position + count > self.length:
            raise NotAnImage("a JPEG XL header cut short")
        self.position += count

    def flag(self) -> bool:
        return bool(self.u(1))

    def u32(self, *choices: tuple[int, int]) -> int:
        """U32(d0, d1, d2, d3): two selector bits, then the chosen (offset, bits)."""
        offset, bits = choices[self.u(2)]
        return offset + (self.u(bits) if bits else 0)

    def u64(self) -> int:
        """U64: 0, 1-16, 17-272, or 12 bits then 8-bit groups (the last of 4) while a bit says so."""
        selector = self.u(2)
        if selector == 0:
            return 0
        if selector == 1:
            return 1 + self.u(4)
        if selector == 2:
            return 17 + self.u(8)
        value, shift = self.u(12), 12
        while self.flag():
            if shift == 60:
                return value | self.u(4) << shift
            value |= self.u(8) << shift
            shift += 8
        return value

    def enum(self) -> int:
        return self.u32((0, 0), (1, 0), (2, 4), (18, 6))

    def to_byte(self) -> None:
        """ZeroPadToByte: the bits up to the next byte boundary, which must be zero."""
        if self.u(-self.position % 8):
            raise NotAnImage("a JPEG XL codestream whose padding bits are not zero")


def _size(bits: Bits) -> tuple[int, int]:
    """SizeHeader (also the intrinsic size's)."""
    small = bits.flag()
    dimension = ((1, 9), (1, 13), (1, 18), (1, 30))
    height = (bits.u(5) + 1) * 8 if small else bits.u32(*dimension)
    ratio = bits.u(3)
    if ratio:
        numerator, denominator = _SIZE_RATIOS[ratio]
        return height * numerator // denominator, height
    width = (bits.u(5) + 1) * 8 if small else bits.u32(*dimension)
    return width, height


def _bit_depth(bits: Bits) -> tuple[int, bool]:
    if bits.flag():  # float samples
        depth = bits.u32((32, 0), (16, 0), (24, 0), (1, 6))
        bits.u(4)  # exponent bits - 1
        return depth, True
    return bits.u32((8, 0), (10, 0), (12, 0), (1, 6)), False


def _extra_channel(bits: Bits) -> tuple[int, bool, int]:
    """One ExtraChannelInfo, skipped: its type, whether it is alpha that colour is premultiplied
    by, and its dim_shift."""
    if bits.flag():  # all default: 8-bit alpha, not premultiplied
        return _ALPHA, False, 0
    kind = bits.enum()
    _bit_depth(bits)
    shift = bits.u32((0, 0), (3, 0), (4, 0), (1, 3))
    bits.skip(8 * bits.u32((0, 0), (0, 4), (16, 5), (48, 10)))  # the name's bytes
    if kind == _ALPHA:
        return kind, bits.flag(), shift
    if kind == _SPOT_COLOUR:
        bits.skip(64)  # four F16
    elif kind == _CFA:
        bits.u32((1, 0), (0, 2), (3, 4), (19, 8))
    return kind, False, shift


def _preview(bits: Bits) -> tuple[int, int]:
    if bits.flag():  # both sides multiples of 8
        side, scale = ((16, 0), (32, 0), (1, 5), (33, 9)), 8
    else:
        side, scale = ((1, 6), (65, 8), (321, 10), (1345, 12)), 1
    height = bits.u32(*side) * scale
    ratio = bits.u(3)
    if ratio:
        numerator, denominator = _SIZE_RATIOS[ratio]
        return height * numerator // denominator, height
    return bits.u32(*side) * scale, height


def _colour_encoding(bits: Bits) -> tuple[bool, bool]:
    """ColourEncoding: (grey, an ICC profile follows the metadata)."""
    if bits.flag():  # all default: sRGB
        return False, False
    want_icc = bits.flag()
    space = bits.enum()
    if want_icc:
        return space == _GREY, True
    if space != _XYB and bits.enum() == _CUSTOM:  # white point
        bits.u32(*_XY), bits.u32(*_XY)
    if space not in (_GREY, _XYB) and bits.enum() == _CUSTOM:  # primaries: red, green, blue
        for _ in range(6):
            bits.u32(*_XY)
    if space != _XYB:  # the transfer function: a gamma, or one of an enum
        if bits.flag():
            bits.u(24)
        else:
            bits.enum()
    bits.enum()  # rendering intent
    return space == _GREY, False


def _parse(bits: Bits) -> JxlHeader:
    if bits.u(16) != 0x0AFF:
        raise NotAnImage("a JPEG XL container whose codestream does not start with FF 0A")
    size = _size(bits)
    if bits.flag():  # ImageMetadata all default: 8-bit RGB, upright, still
        return JxlHeader(size, 1, 8, False, 0, False, False, False, False, metadata_bits=bits.position)
    orientation, animated, timecodes, preview = 1, False, False, None
    if extra_fields := bits.flag():
        orientation = bits.u(3) + 1
        if bits.flag():
            _size(bits)  # intrinsic size
        if bits.flag():
            preview = _preview(bits)
        if animated := bits.flag():
            bits.u32((100, 0), (1000, 0), (1, 10), (1, 30))  # ticks per second
            bits.u32((1, 0), (1001, 0), (1, 8), (1, 10))
            bits.u32((0, 0), (0, 3), (0, 16), (0, 32))  # loops
            timecodes = bits.flag()
    depth, floating = _bit_depth(bits)
    bits.flag()  # 16-bit buffers suffice
    extra = bits.u32((0, 0), (1, 0), (2, 4), (1, 12))
    channels = [_extra_channel(bits) for _ in range(extra)]
    alphas = [premultiplied for kind, premultiplied, _ in channels if kind == _ALPHA]
    xyb = bits.flag()
    grey, icc = _colour_encoding(bits)
    alpha = bool(alphas)
    premultiplied = alpha and alphas[0]  # libjxl's alpha is the first
    return JxlHeader(
        size, orientation, depth, floating, extra, alpha, premultiplied, grey, animated,
        xyb=xyb, channel_shifts=tuple(shift for *_, shift in channels), timecodes=timecodes, preview=preview,
        icc=icc, tone_mapping=extra_fields, metadata_bits=bits.position, default_metadata=False,
    )  # fmt: skip
