"""Video sources: a poster frame, decoded by FFmpeg (PyAV) from an object it reads in ranges.

The source is never read whole. The demuxer reads from a RangedFile (ranged.py): the bytes the
first GET brought, then a ranged GET for each block it moves to (an MP4's index at its end, the
first frame's bytes near its start), so a clip of gigabytes costs a few megabytes; past
MAX_VIDEO_READ_BYTES the object fails as ReadLimitExceeded. Which frame:

- a rule's ``poster`` time (VIDEO_POSTER): the frame shown at that time (decoded from the keyframe before it),
  or the last one when the clip is shorter;
- else the first frame that is not blank (black, white or a flat colour: the luma's spread under
  BLANK_SPREAD). The first FIRST_FRAMES frames are looked at in turn (a fade from black); then
  the keyframes at each whole second up to VIDEO_SEARCH_SECONDS, each reached by a seek, so the
  search reads keyframes rather than every frame between them; when all are blank the one with
  the most detail is used, and Loaded.notes says so.

The frame is converted to RGB by swscale directly at the size the largest box needs (as a JPEG's
draft: renditions.draft_size), its pixel aspect ratio applied, then turned as the container's
display matrix says (as players and FFmpeg's autorotate do: a phone's portrait clip is stored
sideways). Its size is the displayed size, upright.

Only the demuxer the bytes were sniffed as runs (sniff.movie_demuxer: mov, matroska, avi or
mpegts), so FFmpeg never probes its way into a playlist or a concat script that would open other
files; the mov demuxer's external data references stay off. One decoding thread: a few frames
are decoded, and memory stays predictable. Nothing decodes before the stream's coded size has
passed the shape, pixel and memory checks (estimate: the decoder's reference frames at the
stream's depth).

What FFmpeg says about the bytes (av.FFmpegError) is NotAnImage; what reading them raises
(storage errors, the source changing, the read limit) propagates as itself. PyAV is imported
on the first video, never at cold start; it is not in the function's artifact but in a layer
the stack attaches when SOURCE_FORMATS includes video (docs/configuration.md, "Video").
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from io import BytesIO
from typing import Any

from PIL import Image, ImageStat

from create_thumbnail.config import Box, Reading
from create_thumbnail.errors import NotAnImage
from create_thumbnail.imaging.budget import Budget, check_shape
from create_thumbnail.imaging.readers import Loaded, Source, head_of
from create_thumbnail.imaging.readers.checks import admit, check_pixels
from create_thumbnail.imaging.readers.sniff import movie_demuxer
from create_thumbnail.imaging.renditions import draft_size

ISO_MEDIA = "mov"  # FFmpeg's demuxer for MP4 and MOV (sniff.movie_demuxer names each)
# Luma standard deviation (0-255) under which a frame is blank: a black or white frame, a flat
# colour card, measured on a 32 x 32 reduction (encoder noise on black: 0.5-2).
BLANK_SPREAD = 6.0
# Frames decoded one after another from the start before the search goes by keyframes (two
# seconds at 30 fps): a fade from black, or a clip with a keyframe only at its start.
FIRST_FRAMES = 60
# Frames decoded at most to reach a rule's time from the keyframe before it (a 10-second GOP at
# 30 fps), and in all.
MAX_FRAMES = 300
# What the decoder may hold: its reference pictures (H.264 and HEVC allow 16 in small pictures,
# and bound them by a level's picture buffer: 6 frames of 4K at the levels phones and cameras
# use, 5.1 and 5.2, whose buffer is DPB_PIXELS), the frame being decoded, and the poster kept
# while the search goes on. Measured (benchmarks/video_bench.py): 39 MB for a 4K phone clip,
# 87 MB for 8K, against estimates of 200 and 536 MB: the bound is for a stream that asks for all
# the references its level allows.
DPB_PIXELS = 6 * 8_912_896
_MAX_REFERENCES, _MIN_REFERENCES, _FRAMES_BESIDE = 16, 6, 2
# Samples a pixel by chroma subsampling (FFmpeg's pix_fmt names); an unknown one as 4:4:4.
_SAMPLES = {"420": 1.5, "411": 1.5, "410": 1.25, "422": 2.0, "440": 2.0, "444": 3.0, "gray": 1.0}
# FFmpeg's own state (demuxer index, codec contexts, swscale) and the ranged reader's blocks
# (ranged.KEEP_BLOCKS x MAX_BLOCK at most).
_FIXED_BYTES = 24 * 1024 * 1024 + 64 * 1024 * 1024
# The display matrix's rotation part (a, b, c, d of ISO/IEC 14496-12's matrix, x' = a x + c y,
# y' = b x + d y, rounded) -> the transpose that shows the stored picture as players do.
_TRANSPOSES: dict[tuple[int, int, int, int], Image.Transpose | None] = {
    (1, 0, 0, 1): None,
    (-1, 0, 0, 1): Image.Transpose.FLIP_LEFT_RIGHT,
    (1, 0, 0, -1): Image.Transpose.FLIP_TOP_BOTTOM,
    (-1, 0, 0, -1): Image.Transpose.ROTATE_180,
    (0, 1, -1, 0): Image.Transpose.ROTATE_270,  # 90 degrees clockwise: a phone held upright
    (0, -1, 1, 0): Image.Transpose.ROTATE_90,
    (0, 1, 1, 0): Image.Transpose.TRANSPOSE,
    (0, -1, -1, 0): Image.Transpose.TRANSVERSE,
}
_SWAPPING = {Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270, Image.Transpose.TRANSPOSE,
             Image.Transpose.TRANSVERSE}  # fmt: skip


def load(
    data: Source, boxes: Sequence[Box], max_pixels: int, budget: Budget, *, reading: Reading = Reading()
) -> Loaded:
    """The poster frame (see the module's docstring), upright, as RGB at the size the boxes
    need; no ICC profile (swscale makes RGB as players do); the displayed size; and what was
    chosen otherwise than asked (every frame blank, a poster time past the end) as notes."""
    av, notes = _av(), []
    demuxer = movie_demuxer(head_of(data)) or ISO_MEDIA
    source = BytesIO(data) if isinstance(data, bytes) else data
    with _reading(av):
        container = av.open(source, mode="r", format=demuxer, options=_options(demuxer))
    try:
        stream = _video_stream(container)
        coded = (stream.codec_context.width, stream.codec_context.height)
        check_shape(coded)
        check_pixels(coded, max_pixels)
        admit(estimate_decode(coded, stream.codec_context.pix_fmt or ""), budget, held=0)
        stream.codec_context.thread_count = 1
        frame = _poster(av, container, stream, reading.poster, reading.search_seconds, notes.append)
        displayed = display_size((frame.width, frame.height), _aspect(stream))
        check_shape(displayed)  # a pixel aspect ratio of 642:1 makes a picture no camera does
        check_pixels(displayed, max_pixels)
        transpose = display_transpose(_matrix(frame), notes.append)
        image = _picture(av, frame, displayed, boxes, transpose)
    finally:
        container.close()
    upright = (displayed[1], displayed[0]) if transpose in _SWAPPING else displayed
    return Loaded(image, None, upright, tuple(notes))


def estimate_decode(size: tuple[int, int], pix_fmt: str) -> int:
    """Peak bytes of decoding a frame of this coded size and pixel format (see DPB_PIXELS), with
    FFmpeg's state and the ranged reader's blocks."""
    pixels = size[0] * size[1]
    samples = next((n for key, n in _SAMPLES.items() if key in pix_fmt), 3.0)
    depth = 2 if any(bits in pix_fmt for bits in ("p9", "10", "12", "14", "16")) else 1
    references = min(_MAX_REFERENCES, max(_MIN_REFERENCES, DPB_PIXELS // max(1, pixels)))
    return int(pixels * samples * depth * (references + _FRAMES_BESIDE)) + _FIXED_BYTES


def display_size(coded: tuple[int, int], aspect: float) -> tuple[int, int]:
    """The picture as shown: its width stretched by the pixel aspect ratio (an anamorphic DVD's
    720 x 576 is 1024 x 576)."""
    width, height = coded
    if not math.isfinite(aspect) or aspect <= 0:
        return coded
    return max(1, round(width * aspect)), height


def display_transpose(matrix: Sequence[float] | None, warn: Callable[[str], None]) -> Image.Transpose | None:
    """The transpose a display matrix (a, b, c, d) asks for, whatever it scales by; a matrix that
    turns by an angle other than a multiple of 90 degrees, or skews, is left unapplied, with a
    warning."""
    if matrix is None:
        return None
    a, b, c, d = matrix
    scale = math.hypot(a, b)
    key = tuple(round(v / scale) if scale else 9 for v in (a, b, c, d))
    if key not in _TRANSPOSES or any(abs(v / scale - k) > 0.01 for v, k in zip((a, b, c, d), key, strict=True)):
        warn(f"the video's display matrix ({a:g}, {b:g}, {c:g}, {d:g}) turns by an angle other than a "
             "multiple of 90 degrees: the frame is shown as stored")  # fmt: skip
        return None
    return _TRANSPOSES[key]  # type: ignore[index]


def frame_detail(image: Image.Image) -> float:
    """The luma's standard deviation over a small reduction: under BLANK_SPREAD, blank."""
    return float(ImageStat.Stat(image.convert("L")).stddev[0])


def _av() -> Any:
    import av  # noqa: PLC0415 (imported with the first video)

    return av


def _options(demuxer: str) -> dict[str, str]:
    # The stream's parameters are known from its first packets; FFmpeg's 5 MB and 5 s of probing
    # are for streams without an index, and would read that much of every clip.
    options = {"probesize": str(1 << 20), "analyzeduration": "1000000"}
    if demuxer == ISO_MEDIA:
        options |= {"enable_drefs": "0", "use_absolute_path": "0"}
    return options


@contextmanager
def _reading(av: Any) -> Iterator[None]:
    """Around one call into FFmpeg: what it says about the bytes is NotAnImage. An error raised
    while reading them (the ranged reader's) is not an FFmpegError and passes through."""
    try:
        yield
    except av.FFmpegError as error:
        raise NotAnImage(f"could not decode the video: {type(error).__name__}: {error}") from error


def _video_stream(container: Any) -> Any:
    """The first video stream that is a moving picture (not a cover image attached to audio)."""
    for stream in container.streams.video:
        codec = stream.codec_context  # None where FFmpeg has no decoder for the stream's codec
        if codec is not None and not _attached_picture(stream) and codec.width and codec.height:
            return stream
    raise NotAnImage("a media file without a video stream (audio only?)")


def _attached_picture(stream: Any) -> bool:
    disposition = getattr(stream, "disposition", None)
    return bool(disposition is not None and "attached_pic" in str(disposition).lower())


def _poster(
    av: Any, container: Any, stream: Any, at: float | None, search: float, warn: Callable[[str], None]
) -> Any:
    start = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    if at is not None:
        return _frame_at(av, container, stream, start, at, warn)
    best, detail = None, -1.0
    for frame in _decoded(av, container, stream, FIRST_FRAMES):  # a fade from black, a short clip
        candidate = frame_detail(_small(frame))
        if candidate >= BLANK_SPREAD:
            return frame
        if candidate > detail:
            best, detail = frame, candidate
    if best is None:
        raise NotAnImage("a video stream without a frame that decodes")
    return _clearest(av, container, stream, start, search, best, warn)


def _frame_at(av: Any, container: Any, stream: Any, start: float, at: float, warn: Callable[[str], None]) -> Any:
    """The frame on screen at `at` seconds from the stream's start: the last one before it is
    passed (decoding from the keyframe before it), else the clip's last frame."""
    if at > 0:
        _seek(av, container, stream, start + at)
    shown = None
    for frame in _decoded(av, container, stream, MAX_FRAMES):
        if frame.time is not None and frame.time > start + at + 1e-6 and shown is not None:
            return shown
        shown = frame
    if shown is None:
        raise NotAnImage(f"no frame decodes at or before {at:g} s")
    if shown.time is not None and shown.time < start + at - 1.0:
        warn(f"the poster time {at:g} s is past the video's end: its last frame, at "
             f"{shown.time - start:.2f} s, is used")  # fmt: skip
    return shown


def _clearest(
    av: Any, container: Any, stream: Any, start: float, search: float, first: Any, warn: Callable[[str], None]
) -> Any:
    """The first keyframe at a whole second up to `search` that is not blank; else the one with
    the most detail of those and of the first frames (first), with a warning."""
    best, detail, seen = first, frame_detail(_small(first)), {first.pts}
    stream.codec_context.skip_frame = "NONKEY"
    for second in range(1, int(search) + 1):
        _seek(av, container, stream, start + second)
        frame = next(iter(_decoded(av, container, stream, MAX_FRAMES)), None)
        if frame is None or frame.pts in seen:
            continue
        seen.add(frame.pts)
        candidate = frame_detail(_small(frame))
        if candidate >= BLANK_SPREAD:
            return frame
        if candidate > detail:
            best, detail = frame, candidate
    warn(f"every frame looked at in the first {search:g} s is blank (black, white or one colour): "
         "the one with the most detail is the poster")  # fmt: skip
    return best


def _seek(av: Any, container: Any, stream: Any, seconds: float) -> None:
    with _reading(av):
        container.seek(int(seconds / stream.time_base), stream=stream, backward=True, any_frame=False)


def _decoded(av: Any, container: Any, stream: Any, limit: int) -> Iterator[Any]:
    """Frames in presentation order, at most limit of them; each step into FFmpeg wrapped."""
    frames = container.decode(stream)
    for _ in range(limit):
        with _reading(av):
            frame = next(frames, None)
        if frame is None:
            return
        yield frame


def _small(frame: Any) -> Image.Image:
    return frame.to_image(width=32, height=32)


def _aspect(stream: Any) -> float:
    ratio = stream.codec_context.sample_aspect_ratio or stream.sample_aspect_ratio
    return float(ratio) if ratio else 1.0


def _matrix(frame: Any) -> tuple[float, float, float, float] | None:
    """(a, b, c, d) of the frame's display matrix, or None (FFmpeg puts the container's matrix
    on each frame; 16.16 fixed point, the first two rows' first two columns)."""
    for kind in frame.side_data.keys():
        if "DISPLAYMATRIX" in str(kind):
            raw = bytes(frame.side_data[kind])
            if len(raw) >= 36:
                a, b, _, c, d, *_ = struct.unpack("<9i", raw[:36])
                return a / 65536, b / 65536, c / 65536, d / 65536
    return None


def _picture(
    av: Any, frame: Any, displayed: tuple[int, int], boxes: Sequence[Box], transpose: Image.Transpose | None
) -> Image.Image:
    """RGB at the displayed aspect, no larger than the largest box needs (nor than displayed)."""
    if transpose in _SWAPPING:  # the boxes as the stored picture sees them
        boxes = [Box(box.height, box.width, box.fit) for box in boxes]
    wanted = draft_size(displayed, boxes)
    factor = min(1.0, max(wanted[0] / displayed[0], wanted[1] / displayed[1]))
    width, height = max(1, round(displayed[0] * factor)), max(1, round(displayed[1] * factor))
    with _reading(av):
        image = frame.to_image(width=width, height=height, interpolation="AREA")
    return image.transpose(transpose) if transpose is not None else image
