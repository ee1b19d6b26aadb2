"""JPEG XL seeds and edits: the seeds written by the plugin's own encoder (libjxl), and the
classes that reach what a byte flip rarely does: the SizeHeader rewritten (huge, thin, off by
one, zero-height ratios), the orientation field set to each value, the header's bits flipped
where our reader and libjxl's both parse them, and the container's box sizes (jxlc, jxlp, Exif)
set to edge values. For animations, what the frame walk (readers/jxl_frames.py) reads before it
cuts the first frame out: a frame header's bits flipped, a table of contents' entry set to edge
values, and whole frames cut off, dropped or repeated."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from random import Random

from PIL import Image

from create_thumbnail.imaging.readers.jxl_frames import Unwalkable, frames
from create_thumbnail.imaging.readers.jxl_header import CONTAINER_SIGNATURE, Bits, _size, codestream_start, read_header

Mutated = tuple[bytes, str]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jxl"


def jxl_bytes(image: Image.Image, lossless: bool, container: bool = False, exif: bytes | None = None) -> bytes:
    import pillow_jxl  # noqa: F401  (registers the encoder with Pillow)

    buffer = BytesIO()
    options = {"exif": exif} if exif else {}
    image.save(buffer, "JXL", lossless=lossless, quality=80, effort=1 if lossless else 3, use_container=container,
               **options)  # fmt: skip
    return buffer.getvalue()


def fixture(name: str) -> bytes:
    """A real file (tests/fixtures/jxl/README.md): orientation 7, which the encoder cannot
    write; animations, which it cannot make."""
    return (FIXTURES / name).read_bytes()


def in_jxlp_boxes(stream: bytes, parts: int = 3) -> bytes:
    """A bare codestream in the container, split across jxlp boxes (the last one's index with
    its top bit set), as a streaming encoder writes it."""
    ftyp = b"\x00\x00\x00\x14ftypjxl \x00\x00\x00\x00jxl "
    cuts = [len(stream) * n // parts for n in range(parts + 1)]
    boxes = b""
    for index in range(parts):
        part = stream[cuts[index] : cuts[index + 1]]
        number = index | (1 << 31 if index == parts - 1 else 0)
        boxes += (12 + len(part)).to_bytes(4, "big") + b"jxlp" + number.to_bytes(4, "big") + part
    return CONTAINER_SIGNATURE + ftyp + boxes


def is_jxl(seed: object) -> bool:
    return getattr(seed, "format", None) == "JXL"


def is_bare(seed: object) -> bool:
    from tests.fuzz.seeds import seed_bytes

    return is_jxl(seed) and seed_bytes(seed.name).startswith(b"\xff\x0a")  # type: ignore[attr-defined]


def is_animated(seed: object) -> bool:
    from tests.fuzz.seeds import seed_bytes

    return is_jxl(seed) and read_header(seed_bytes(seed.name)).animated  # type: ignore[attr-defined]


def is_bare_animation(seed: object) -> bool:
    return is_animated(seed) and is_bare(seed)


def is_container(seed: object) -> bool:
    from tests.fuzz.seeds import seed_bytes

    return is_jxl(seed) and seed_bytes(seed.name).startswith(CONTAINER_SIGNATURE)  # type: ignore[attr-defined]


def _write_bits(fields: list[tuple[int, int]]) -> tuple[int, int]:
    value, length = 0, 0
    for field, count in fields:
        value |= field << length
        length += count
    return value, length


def _splice(data: bytes, start: int, end: int, new: tuple[int, int]) -> bytes:
    """The bare codestream with its bits [start, end) replaced by new (value, length)."""
    whole = int.from_bytes(data, "little")
    head = whole & ((1 << start) - 1)
    tail = whole >> end
    value, length = new
    spliced = head | (value << start) | (tail << (start + length))
    total = 8 * len(data) - (end - start) + length
    return spliced.to_bytes((total + 7) // 8, "little")


def size_header(data: bytes, seed: object, rng: Random) -> Mutated:
    """The SizeHeader replaced: explicit sides up to 2^30, a small (div8) one, or a ratio."""
    bits = Bits(data)
    bits.u(16)
    start = bits.position
    _size(bits)
    kind = rng.choice(["huge", "edge", "thin", "ratio", "small"])
    if kind == "ratio":
        height = rng.choice([1, 2, 9, 10, 1000, 1 << 18])
        new = _write_bits([(0, 1), (3, 2), (height - 1, 30), (rng.randrange(1, 8), 3)])
        what = f"height {height}, a ratio"
    elif kind == "small":
        new = _write_bits([(1, 1), (rng.randrange(32), 5), (0, 3), (1, 1), (rng.randrange(32), 5)])
        what = "a div8 size"
    else:
        sides = {
            "huge": lambda: rng.choice([65_536, 1 << 20, (1 << 30)]),
            "edge": lambda: rng.choice([1, 2, 7, 8, 9, 65_535]),
            "thin": lambda: rng.choice([1, 3]),
        }[kind]
        width, height = sides(), rng.choice([sides(), rng.randrange(1, 5000)])
        if rng.random() < 0.5:
            width, height = height, width
        new = _write_bits([(0, 1), (3, 2), (height - 1, 30), (0, 3), (3, 2), (width - 1, 30)])
        what = f"{width}x{height}"
    return _splice(data, start, bits.position, new), f"SizeHeader -> {what}"


def orientation(data: bytes, seed: object, rng: Random) -> Mutated:
    """Where the header has its extra fields, the orientation set to 1-8; elsewhere the
    all-default bit flipped, so the rest of the header is read from bits never meant as one."""
    bits = Bits(data)
    bits.u(16)
    _size(bits)
    all_default = bits.position
    if bits.flag() or not bits.flag():
        whole = int.from_bytes(data, "little") ^ (1 << all_default)
        return whole.to_bytes(len(data), "little"), "ImageMetadata.all_default flipped"
    value = rng.randrange(8)
    return _splice(data, bits.position, bits.position + 3, (value, 3)), f"orientation -> {value + 1}"


def header_bits(data: bytes, seed: object, rng: Random) -> Mutated:
    """One to four bits flipped in the first 24 bytes of the codestream, after the signature."""
    start = 0 if data.startswith(b"\xff\x0a") else data.find(codestream_start(data)[:16])
    if start < 0:
        start = 0
    edited = bytearray(data)
    flipped = []
    for _ in range(rng.randrange(1, 5)):
        at = rng.randrange(start + 2, min(len(data), start + 24))
        edited[at] ^= 1 << rng.randrange(8)
        flipped.append(at)
    return bytes(edited), f"bits flipped at {flipped}"


def box_size(data: bytes, seed: object, rng: Random) -> Mutated:
    """One box's 32-bit size set to 0 (to the end), 1 (a 64-bit size follows: huge), 2-7
    (shorter than its header), one less or more, or past the end."""
    boxes = []
    position = 0
    while position + 8 <= len(data):
        size = int.from_bytes(data[position : position + 4], "big")
        boxes.append((position, data[position + 4 : position + 8], size))
        if size < 8:
            break
        position += size
    at, kind, size = rng.choice(boxes[1:] or boxes)
    value = rng.choice([0, 1, rng.randrange(2, 8), size - 1, size + 1, len(data) * 2, 0xFFFFFFFF])
    edited = data[:at] + value.to_bytes(4, "big") + data[at + 4 :]
    if value == 1:
        edited = edited[: at + 8] + (rng.choice([1 << 40, 16, 0]).to_bytes(8, "big")) + edited[at + 8 :]
    return edited, f"{kind!r} box size {size} -> {value}"


def _walked(data: bytes) -> list:
    """The frames of a bare codestream seed, as the reader walks them."""
    try:
        return list(frames(data, read_header(data)))
    except Unwalkable as error:  # a seed is whole: this is the fuzz set-up's fault
        raise AssertionError(f"a JPEG XL seed whose frames cannot be walked: {error}") from error


def frame_header_bits(data: bytes, seed: object, rng: Random) -> Mutated:
    """One to three bits flipped inside one frame's header (before its table of contents):
    what the walk reads to find where each frame ends and which is shown first."""
    frame = rng.choice(_walked(data))
    edited = bytearray(data)
    flipped = []
    for _ in range(rng.randrange(1, 4)):
        at = rng.randrange(8 * frame.start, frame.header_end)
        edited[at // 8] ^= 1 << (at % 8)
        flipped.append(at - 8 * frame.start)
    return bytes(edited), f"frame at byte {frame.start}: header bits {flipped} flipped"


_TOC_ENCODINGS = ((0, 10), (1024, 14), (17408, 22), (4211712, 30))


def _toc_bytes(sizes: list[int]) -> bytes:
    """A table of contents' entries, each in the shortest U32 that holds it, zero-padded."""
    fields = []
    for size in sizes:
        selector = next(n for n, (offset, bits) in enumerate(_TOC_ENCODINGS) if size - offset < 1 << bits)
        offset, bits = _TOC_ENCODINGS[selector]
        fields += [(selector, 2), (size - offset, bits)]
    value, length = _write_bits(fields)
    return value.to_bytes((length + 7) // 8, "little")


def toc_entry(data: bytes, seed: object, rng: Random) -> Mutated:
    """One frame's table of contents rewritten with one entry set to 0, one byte off, past the
    codestream's end, or the largest a U32 holds: the frame's end moves, and every frame after it."""
    frame = rng.choice(_walked(data))
    sizes = list(frame.sections)
    which = rng.randrange(len(sizes))
    new = rng.choice([0, max(0, sizes[which] - 1), sizes[which] + 1, len(data), 4211712 + (1 << 30) - 1])
    old_toc_end = frame.end - sum(frame.sections)
    sizes[which] = new
    edited = data[: frame.toc] + _toc_bytes(sizes) + data[old_toc_end:]
    return edited, f"frame at byte {frame.start}: section {which} of {len(sizes)}: {frame.sections[which]} -> {new}"


def frames_cut(data: bytes, seed: object, rng: Random) -> Mutated:
    """Whole frames taken away or repeated: the file ending after one that is not the last, one
    frame dropped, or one repeated (a repeated last frame leaves frames after the last)."""
    walked = _walked(data)
    frame = rng.choice(walked)
    begin = frame.start
    kind = rng.choice(["ends after", "drops", "repeats"])
    if kind == "ends after":
        frame = rng.choice(walked[:-1] or walked)
        return data[: frame.end], f"ends after the frame at byte {frame.start} ({len(walked)} frames)"
    if kind == "drops":
        return data[:begin] + data[frame.end :], f"drops the frame at byte {begin} ({len(walked)} frames)"
    return data[: frame.end] + data[begin:], f"repeats the frame at byte {begin} ({len(walked)} frames)"
