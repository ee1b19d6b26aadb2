"""Animated GIFs whose frames cost more than their header says: a later frame's descriptor that
lies outside the logical screen (Pillow grows the canvas when it reaches it, after every check
made at open), many frames with one far from the origin (every frame after it composited on
the grown canvas), and runs of identical frames with long delays (the GIF writer merges them
and adds the delays past its 16-bit field). Descriptors are edited in place, so the LZW data
stays valid; animations are built here from small photo-like frames."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from io import BytesIO
from random import Random

from PIL import Image

from tests.fuzz.seeds import GIF, Seed, photo, seed_bytes

Mutated = tuple[bytes, str]
_TRAILER, _EXTENSION, _DESCRIPTOR, _CONTROL = 0x3B, 0x21, 0x2C, 0xF9
_MAX_DELAY_CS = 65_535  # GIF's delay: 16 bits of centiseconds
# Offsets past the screen: just past, a few screens, where Pillow only warns (about 9,500 px
# square: 89-179 MP), past its error (13,000 px: 179 MP), and the field's edge.
_FAR = (1, 2, 6000, 9000, 13_000, 30_000, 65_535)


@dataclass(frozen=True, slots=True)
class Frame:
    control: int | None  # offset of the graphic control extension before it, if any
    descriptor: int  # offset of its image descriptor (0x2C)
    end: int  # just past its image data


def frames(data: bytes) -> list[Frame]:
    """Every frame's blocks, in order; stops quietly at what it does not understand."""
    found: list[Frame] = []
    position = 13 + _colour_table(data[10])
    control = None
    while position < len(data):
        introducer = data[position]
        if introducer == _EXTENSION:
            if data[position + 1] == _CONTROL:
                control = position
            position = _after_sub_blocks(data, position + 2)
        elif introducer == _DESCRIPTOR:
            start = position
            position = _after_sub_blocks(data, position + 11 + _colour_table(data[position + 9]))
            found.append(Frame(control, start, position))
            control = None
        else:
            break
    return found


def _colour_table(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _after_sub_blocks(data: bytes, position: int) -> int:
    while position < len(data) and data[position]:
        position += 1 + data[position]
    return position + 1


def _set_region(data: bytes, frame: Frame, left: int, top: int, width: int, height: int) -> bytes:
    region = struct.pack("<4H", *(min(v, 0xFFFF) for v in (left, top, width, height)))
    return data[: frame.descriptor + 1] + region + data[frame.descriptor + 9 :]


def _region(data: bytes, frame: Frame) -> tuple[int, int, int, int]:
    return struct.unpack_from("<4H", data, frame.descriptor + 1)


def is_animated(seed: Seed) -> bool:
    return seed.format == GIF and len(frames(seed_bytes(seed.name))) > 1


def accepts_gif(seed: Seed) -> bool:
    return seed.format == GIF


def has_control_block(seed: Seed) -> bool:
    return seed.format == GIF and any(frame.control is not None for frame in frames(seed_bytes(seed.name)))


def frame_grows_canvas(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A frame after the first moved or stretched past the screen: by a pixel, by screens, or to
    where Pillow's own pixel warning and error begin."""
    screen = struct.unpack_from("<2H", data, 6)
    chosen = rng.randrange(1, len(frames(data)))
    frame = frames(data)[chosen]
    left, top, width, height = _region(data, frame)
    how = rng.choice(["offset", "size", "both"])
    if how in ("offset", "both"):
        left, top = (screen[0] - width + rng.choice(_FAR), screen[1] - height + rng.choice(_FAR))
        left, top = (left, rng.randrange(screen[1])) if rng.random() < 0.3 else (left, top)
    if how in ("size", "both"):
        width, height = screen[0] + rng.choice(_FAR), screen[1] + rng.choice(_FAR)
    what = f"frame {chosen} of the {screen[0]}x{screen[1]} screen at ({left},{top}), {width}x{height}"
    return _set_region(data, frame, left, top, width, height), what


def _animation(count: int, rng: Random, size: tuple[int, int] = (64, 48)) -> bytes:
    """count photo-like frames, each unlike the one before, with a loop extension."""
    pictures = [photo(size, rng.randrange(1000)).quantize(32) for _ in range(count)]
    buffer = BytesIO()
    pictures[0].save(buffer, "GIF", save_all=True, append_images=pictures[1:], duration=50, loop=0, optimize=False)
    return buffer.getvalue()


def frames_far_apart(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """20 to 99 small frames, and far offsets: one frame after the first (the canvas grows when
    Pillow reaches it), the first itself (it grows at open), or a screen the size of the offsets
    with every frame somewhere inside (nothing grows; every frame is composited at its size)."""
    count = rng.choice([20, 50, 99])
    built = _animation(count, rng)
    found = frames(built)
    far = rng.choice([3000, 6000, 9000, 20_000])
    kind = rng.choice(["later frame", "first frame", "large screen"])
    if kind == "large screen":
        built = built[:6] + struct.pack("<2H", far + 64, far + 48) + built[10:]
        for frame in found:
            left, top, width, height = _region(built, frame)
            built = _set_region(built, frame, left + rng.randrange(far), top + rng.randrange(far), width, height)
        return built, f"{count} frames anywhere on a {far + 64}x{far + 48} screen"
    chosen = rng.randrange(1, count) if kind == "later frame" else 0
    left, top, width, height = _region(built, found[chosen])
    return _set_region(built, found[chosen], left + far, top + far, width, height), f"{count} frames, frame {chosen} at +{far},+{far}"


def identical_long_frames(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """The seed's first frame repeated 2 to 100 times, each with a long delay (up to the field's
    655.35 s), so that any run merged adds up past 16 bits; or frames that differ by one pixel,
    which resizing makes the same."""
    count = rng.choice([2, 3, 10, 50, 100])
    delays = [rng.choice([_MAX_DELAY_CS, _MAX_DELAY_CS - 1, 40_000, rng.randrange(1, _MAX_DELAY_CS)]) for _ in range(count)]
    if rng.random() < 0.7:
        return _repeated(data, delays), f"first frame x {count}, delays {_shown(delays)} cs"
    picture = Image.open(BytesIO(data)).convert("RGB")
    picture.info = {}  # the seed's transparency, which Pillow's writer trips over once quantized
    pictures = []
    for n in range(count):
        frame = picture.copy()
        frame.putpixel((n % frame.width, 0), (n * 37 % 256, 0, 0))
        pictures.append(frame.quantize(64))
    buffer = BytesIO()
    durations = [10 * delay for delay in delays]
    pictures[0].save(buffer, "GIF", save_all=True, append_images=pictures[1:], duration=durations, loop=0)
    return buffer.getvalue(), f"{count} frames a pixel apart, delays {_shown(delays)} cs"


def _shown(delays: list[int]) -> str:
    return ", ".join(map(str, delays[:4])) + (" ..." if len(delays) > 4 else "")


def _repeated(data: bytes, delays: list[int]) -> bytes:
    """The first frame's blocks written once per delay, each after a graphic control extension
    of its own (byte copies: Pillow's writer would merge them)."""
    first = frames(data)[0]
    header = data[: first.control if first.control is not None else first.descriptor]
    flags = data[first.control + 3] & 0b11111 if first.control is not None else 0  # disposal, transparency
    transparent = data[first.control + 6] if first.control is not None else 0
    image = data[first.descriptor : first.end]
    loop = b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    body = b"".join(b"\x21\xf9\x04" + struct.pack("<BHB", flags, delay, transparent) + b"\0" + image for delay in delays)
    return header + (loop if b"NETSCAPE2.0" not in header else b"") + body + b"\x3b"


def short_control_block(data: bytes, seed: Seed, rng: Random) -> Mutated:
    """A graphic control extension shorter than its four bytes, its transparency flag set or
    not: Pillow's GIF reader indexes and unpacks the block unchecked."""
    chosen = rng.choice([frame for frame in frames(data) if frame.control is not None])
    assert chosen.control is not None
    length = rng.randrange(0, 4)
    flags = rng.choice([0, 1, 0b1001])
    body = bytes([flags]) + rng.randbytes(3)
    block = b"\x21\xf9" + bytes([length]) + body[:length] + b"\0"
    start, end = chosen.control, _after_sub_blocks(data, chosen.control + 2)
    return data[:start] + block + data[end:], f"frame {frames(data).index(chosen)}'s control block {length} bytes, flags {flags:#04b}"
