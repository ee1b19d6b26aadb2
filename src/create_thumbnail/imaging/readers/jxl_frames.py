"""The first frame of an animated JPEG XL, as a codestream that ends with it.

pillow-jxl-plugin's decoder hands back one image: libjxl composites every frame in turn into the
same buffer, so an animation comes back as its last frame, and every frame is decoded to get it.
The binding offers no way to stop after the first. So the codestream is cut instead: its frames
are walked here, each frame's header and table of contents only (ISO/IEC 18181-1, as libjxl
reads them: frame_header.cc, loop_filter.cc, toc.cc), all of them: the walk must end at a frame
that says it is the last, inside the codestream, or nothing is cut (a field read a bit off
anywhere would not end there, and a file cut short is left for libjxl to refuse, as it refuses
any other). The first frame that is shown (one with a duration, or the last: libjxl's
is_last_of_still) then has its header rewritten to say it is the last, and whatever follows it
is left off. libjxl decodes that frame, composited over the zero-duration layers and reference
frames before it, as a player shows it first, and stops there.

The rewrite sets is_last and takes out the fields only a frame that is not the last carries
(save_as_reference, two bits, and save_before_color_transform, one, when present); the rest of
the header is copied bit for bit, and the table of contents, which starts on a byte boundary,
byte for byte with the sections it counts.

What cannot be walked here is Unwalkable, and the caller decodes the file whole (its last frame,
with a warning that says why): an ICC profile in the codestream (entropy-coded, ahead of the
frames), a permuted table of contents (likewise), more than MAX_FRAMES frames, or a frame this walk
cannot make sense of (libjxl then has its say).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from math import ceil

from create_thumbnail.errors import NotAnImage
from create_thumbnail.imaging.readers.jxl_header import Bits, JxlHeader

# Frames walked at most (about 30 microseconds each here); a file of more is decoded whole.
MAX_FRAMES = 10_000
REGULAR, DC, REFERENCE_ONLY, SKIP_PROGRESSIVE = 0, 1, 2, 3  # FrameHeader.frame_type
REPLACE, BLEND, ALPHA_WEIGHTED_ADD, MUL = 0, 2, 3, 4  # BlendingInfo.mode (1 is add)
_USE_DC_FRAME = 32  # FrameHeader.flags
_H_SHIFT, _V_SHIFT = (0, 1, 1, 0), (0, 1, 0, 1)  # by chroma subsampling mode: 4:4:4, 4:2:0, 4:2:2, 4:4:0
_VALUES_0_TO_3 = ((0, 0), (1, 0), (2, 0), (3, 0))
_UPSAMPLING = ((1, 0), (2, 0), (4, 0), (8, 0))
_CROP = ((0, 8), (256, 11), (2304, 14), (18688, 30))
_DURATION = ((0, 0), (1, 0), (0, 8), (0, 32))
_NAME_LENGTH = ((0, 0), (0, 4), (16, 5), (48, 10))
_TOC_ENTRY = ((0, 10), (1024, 14), (17408, 22), (4211712, 30))
_MAX_TOC_ENTRIES = 65536  # libjxl refuses more
_F16 = 16


class Unwalkable(Exception):
    """The frames cannot be walked here: the file is decoded whole. The message says why."""


@dataclass(frozen=True, slots=True)
class _FrameHeader:
    shown: bool  # a player shows it: a duration, or the last
    last: bool
    is_last_at: int  # the is_last bit's position (a regular or skip-progressive frame only)
    kept_from: int  # the position after what only a frame that is not the last carries
    modular: bool
    group_shift: int
    upsampling: int
    chroma_shifts: tuple[int, int]
    passes: int
    dc_level: int
    size: tuple[int, int] | None  # its own, when not the image's


@dataclass(frozen=True, slots=True)
class _Frame:
    start: int  # bytes: the frame header's first
    header: _FrameHeader
    header_end: int  # bits: where the table of contents' "permuted" bit is
    toc: int  # bytes: the table of contents' first entry
    sections: tuple[int, ...]  # each section's bytes, as the table of contents counts them
    end: int  # bytes: past its last section


def first_frame(stream: bytes, header: JxlHeader) -> bytes | None:
    """The codestream up to its first shown frame, marked the last; None when that frame already
    is the last (a still image, or an animation of one frame)."""
    first = None
    for count, frame in enumerate(frames(stream, header), 1):
        if first is None and frame.header.shown:
            first = frame
        if count > MAX_FRAMES:
            raise Unwalkable(f"more than {MAX_FRAMES:,} frames")
    if first is None:  # cannot be: the last frame is shown; kept for the type checker
        raise Unwalkable("no frame is shown")
    return None if first.header.last else _cut(stream, first)


def frames(stream: bytes, header: JxlHeader) -> Iterator[_Frame]:
    """The codestream's frames in order, the preview's left out, each read as far as its end;
    the last is the one that says so. Anything unreadable on the way is Unwalkable."""
    try:
        bits = Bits(stream, header.metadata_bits)
        _skip_to_frames(bits, header)
        if header.preview:
            _frame(bits, stream, header, header.preview)
        while True:
            frame = _frame(bits, stream, header, header.size)
            yield frame
            if frame.header.last:
                return
    except NotAnImage as error:  # the bit reader's: cut short, padding not zero
        raise Unwalkable(str(error)) from error


def _cut(stream: bytes, frame: _Frame) -> bytes:
    """The stream up to frame, frame's header with is_last set, its table of contents and sections."""
    start = 8 * frame.start
    span = int.from_bytes(stream[frame.start : (frame.header_end + 7) // 8], "little")
    head_bits = frame.header.is_last_at - start
    tail_bits = frame.header_end - frame.header.kept_from
    head = span & ((1 << head_bits) - 1)
    tail = (span >> (frame.header.kept_from - start)) & ((1 << tail_bits) - 1)
    # is_last = 1, then the tail, then the table of contents' "permuted" = 0 and zero padding
    rewritten = head | 1 << head_bits | tail << (head_bits + 1)
    length = head_bits + 1 + tail_bits + 1
    return stream[: frame.start] + rewritten.to_bytes((length + 7) // 8, "little") + stream[frame.toc : frame.end]


def _skip_to_frames(bits: Bits, header: JxlHeader) -> None:
    """The rest of ImageMetadata, CustomTransformData, then the padding before the frames."""
    if not header.default_metadata:
        if header.tone_mapping and not bits.flag():  # not all default
            bits.skip(3 * _F16 + 1)
        _extensions(bits)
    if not bits.flag():  # CustomTransformData not all default
        if header.xyb and not bits.flag():  # the opsin inverse matrix, biases and quant biases
            bits.skip(16 * _F16)
        weights = bits.u(3)  # custom upsampling weights: 2x, 4x, 8x
        for present, count in ((1, 15), (2, 55), (4, 210)):
            if weights & present:
                bits.skip(count * _F16)
    if header.icc:
        raise Unwalkable("its ICC profile, entropy-coded, comes before the frames")
    bits.to_byte()


def _frame(bits: Bits, stream: bytes, header: JxlHeader, size: tuple[int, int]) -> _Frame:
    start = bits.position
    frame_header = _frame_header(bits, header, size)
    header_end = bits.position
    if bits.flag():
        raise Unwalkable("a permuted table of contents")
    bits.to_byte()
    toc = bits.position // 8
    entries = _toc_entries(frame_header, frame_header.size or size)
    if entries > _MAX_TOC_ENTRIES or 12 * entries > bits.length - bits.position:
        raise Unwalkable(f"a frame of {entries:,} sections, more than its bytes can count")
    sections = tuple(bits.u32(*_TOC_ENTRY) for _ in range(entries))
    bits.to_byte()
    end = bits.position // 8 + sum(sections)
    if end > len(stream):
        raise Unwalkable("a frame that runs past the end of the codestream")
    bits.position = 8 * end
    return _Frame(start // 8, frame_header, header_end, toc, sections, end)


def _frame_header(bits: Bits, header: JxlHeader, size: tuple[int, int]) -> _FrameHeader:
    """FrameHeader, read as far as its end; what the table of contents and the cut need."""
    if bits.flag():  # all default: a regular VarDCT frame of the image's size, the last
        return _FrameHeader(True, True, -1, -1, False, 1, 1, (0, 0), 1, 0, None)
    frame_type = bits.u32(*_VALUES_0_TO_3)
    modular = bits.flag()
    flags = bits.u64()
    chroma = (0, 0)
    if not header.xyb and bits.flag() and not flags & _USE_DC_FRAME:  # YCbCr: its subsampling
        modes = [bits.u(2) for _ in range(3)]
        chroma = (max(_H_SHIFT[mode] for mode in modes), max(_V_SHIFT[mode] for mode in modes))
    upsampling = 1
    if not flags & _USE_DC_FRAME:
        upsampling = bits.u32(*_UPSAMPLING)
        for _ in header.channel_shifts:
            bits.u32(*_UPSAMPLING)
    group_shift = bits.u(2) if modular else 1
    if not modular and header.xyb:
        bits.skip(6)  # x and b quantisation matrix scales
    passes = _passes(bits) if frame_type != REFERENCE_ONLY else 1
    dc_level = bits.u32((1, 0), (2, 0), (3, 0), (4, 0)) if frame_type == DC else 0
    own_size, partial = _crop(bits, frame_type, size) if frame_type != DC else (None, False)
    duration, last, mode, is_last_at = 0, False, REPLACE, -1
    if frame_type in (REGULAR, SKIP_PROGRESSIVE):
        mode = _blending(bits, len(header.channel_shifts), partial)
        for _ in header.channel_shifts:
            _blending(bits, len(header.channel_shifts), partial)
        if header.animated:
            duration = bits.u32(*_DURATION)
            if header.timecodes:
                bits.skip(32)
        is_last_at = bits.position
        last = bits.flag()
    if frame_type != DC:
        reference = 0 if last else bits.u(2)  # save_as_reference: U32 of four values, 2 bits
        referenced = not last and (duration == 0 or reference != 0)
        if (referenced and mode == REPLACE and not partial and frame_type in (REGULAR, SKIP_PROGRESSIVE)) or (
            frame_type == REFERENCE_ONLY
        ):
            bits.flag()  # save_before_color_transform
    kept_from = bits.position
    bits.skip(8 * bits.u32(*_NAME_LENGTH))
    _loop_filter(bits, modular)
    _extensions(bits)
    shown = frame_type in (REGULAR, SKIP_PROGRESSIVE) and (last or duration > 0)
    return _FrameHeader(shown, last, is_last_at, kept_from, modular, group_shift, upsampling, chroma, passes,
                        dc_level, own_size)  # fmt: skip


def _passes(bits: Bits) -> int:
    passes = bits.u32((1, 0), (2, 0), (3, 0), (4, 3))
    if passes != 1:
        downsamples = bits.u32((0, 0), (1, 0), (2, 0), (3, 1))
        bits.skip(2 * (passes - 1))  # shifts
        for _ in range(downsamples):
            bits.u32(*_UPSAMPLING)
        for _ in range(downsamples):
            bits.u32((0, 0), (1, 0), (2, 0), (0, 3))  # last pass
    return passes


def _crop(bits: Bits, frame_type: int, size: tuple[int, int]) -> tuple[tuple[int, int] | None, bool]:
    """A frame's own size and origin, if it has them: (its size, whether it leaves part of the
    image uncovered)."""
    if not bits.flag():
        return None, False
    x0 = y0 = 0
    if frame_type in (REGULAR, SKIP_PROGRESSIVE):
        x0, y0 = _signed(bits.u32(*_CROP)), _signed(bits.u32(*_CROP))
    width, height = bits.u32(*_CROP), bits.u32(*_CROP)
    if not width or not height:
        raise Unwalkable("a frame of no area")
    partial = frame_type in (REGULAR, SKIP_PROGRESSIVE) and (
        x0 > 0 or y0 > 0 or width + x0 < size[0] or height + y0 < size[1]
    )
    return (width, height), partial


def _signed(value: int) -> int:
    return -((value + 1) // 2) if value & 1 else value // 2


def _blending(bits: Bits, channels: int, partial: bool) -> int:
    mode = bits.u32((0, 0), (1, 0), (2, 0), (3, 2))
    if mode > MUL:
        raise Unwalkable(f"a blend mode ({mode}) JPEG XL does not define")
    with_alpha = channels > 0 and mode in (BLEND, ALPHA_WEIGHTED_ADD)
    if with_alpha:
        bits.u32((0, 0), (1, 0), (2, 0), (3, 3))  # which alpha channel
    if with_alpha or mode == MUL:
        bits.flag()  # clamp
    if mode != REPLACE or partial:
        bits.u(2)  # the reference frame blended onto
    return mode


def _loop_filter(bits: Bits, modular: bool) -> None:
    """RestorationFilter: Gabor-like smoothing and the edge-preserving filter's weights."""
    if bits.flag():  # all default
        return
    if bits.flag() and bits.flag():  # Gabor-like: on, with custom weights
        bits.skip(6 * _F16)
    if bits.u(2):  # edge-preserving filter iterations
        if not modular and bits.flag():
            bits.skip(8 * _F16)  # sharpness
        if bits.flag():
            bits.skip(5 * _F16)  # channel scales and zero-flush thresholds
        if bits.flag():
            bits.skip((3 if modular else 4) * _F16)  # sigma
        if modular:
            bits.skip(_F16)
    _extensions(bits)


def _extensions(bits: Bits) -> None:
    """A bundle's extensions: which, then each one's size in bits, then their bits, skipped."""
    present = bits.u64()
    total = 0
    while present:
        total += bits.u64()
        present &= present - 1
    bits.skip(total)


def _toc_entries(frame: _FrameHeader, size: tuple[int, int]) -> int:
    """How many sections the table of contents counts (libjxl's FrameDimensions, NumTocEntries)."""
    width, height = size
    if frame.dc_level:
        scale = 1 << (3 * frame.dc_level)
        width, height = ceil(width / scale), ceil(height / scale)
    width, height = ceil(width / frame.upsampling), ceil(height / frame.upsampling)
    group = 128 << frame.group_shift
    h_shift, v_shift = frame.chroma_shifts
    x_blocks = ceil(width / (8 << h_shift)) << h_shift
    y_blocks = ceil(height / (8 << v_shift)) << v_shift
    groups = ceil(width / group) * ceil(height / group)
    dc_groups = ceil(x_blocks / group) * ceil(y_blocks / group)
    if groups == 1 and frame.passes == 1:
        return 1
    return 2 + dc_groups + groups * frame.passes
