"""What stands between the libjpeg-turbo floor and a real thumbnail, one requirement at a time.

The floor (contenders.py) decodes once at the smallest DCT scale covering the largest box and
cuts each box from that array by a whole stride: no filter, no margin, plain Huffman tables. Each
step below adds one thing a thumbnail needs to the step before it, on the floor's own decoder
(simplejpeg), so the ratios show what each requirement costs and how far below a target the
bound of a thumbnailer that does it lies:

    floor              contenders.floor
    + filter           the stride cut replaced by our resamplers (renditions.resize_all on the
                       decoded pixels) and Pillow's encoder, q85, plain Huffman tables
    + 1.5x margin      the decode stops at SHRINK_MARGIN times the largest box, as our JPEG
                       draft does (renditions.py says why: aliasing on real photos)
    + optimised tables Huffman tables optimised per image, as ours writes them
    + placeholder      the BlurHash, ThumbHash and dominant colour the manifest carries
    ours               make_thumbnails: Pillow's decoder, EXIF, ICC, modes, the memory budget

    ./scripts/bench --floor-gap       # ~1 minute; installs the bench extra it needs

One process pinned to one core, steps interleaved round by round in alternating order; each
cell is the median ms and the median of per-round ratios to the floor. Prints, never asserts.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from io import BytesIO

from contenders import floor, ours
from corpus import ONE_BOX, THREE_BOXES, Source
from measure import CORE, Timings, med, ratio
from report import FLOOR_LIMITS, print_table, section

Step = Callable[[bytes, Sequence[int]], object]


def on_floor_decoder(
    *, margin: bool, optimize: bool = False, with_placeholder: bool = False
) -> Step:
    """A thumbnailer on simplejpeg's decode with the requirements asked for, and no others."""

    def make(data: bytes, sides: Sequence[int]) -> list[bytes]:
        import simplejpeg
        from PIL import Image

        from create_thumbnail.config import Box
        from create_thumbnail.imaging.placeholders import placeholder
        from create_thumbnail.imaging.renditions import draft_size, fit, resize_all

        height, width, _, _ = simplejpeg.decode_jpeg_header(data)
        boxes = [Box(side, side) for side in sides]
        wanted = (
            draft_size((width, height), boxes)
            if margin
            else max(fit((width, height), box) for box in boxes)
        )
        pixels = simplejpeg.decode_jpeg(data, colorspace="RGB", fastdct=False, fastupsample=False,
                                        min_width=wanted[0], min_height=wanted[1])  # fmt: skip
        resized = resize_all(Image.fromarray(pixels), boxes)
        made = []
        for box in boxes:
            buffer = BytesIO()
            resized[box].save(buffer, format="JPEG", quality=85, optimize=optimize)
            made.append(buffer.getvalue())
        if with_placeholder:
            placeholder(resized[boxes[-1]])
        return made

    return make


STEPS: dict[str, Step] = {
    "floor": floor,
    "+ filter": on_floor_decoder(margin=False),
    "+ 1.5x margin": on_floor_decoder(margin=True),
    "+ optimised tables": on_floor_decoder(margin=True, optimize=True),
    "+ placeholder": on_floor_decoder(margin=True, optimize=True, with_placeholder=True),
    "ours": ours,
}


def measure(corpus: Sequence[Source]) -> Timings:
    timings: Timings = {}
    for source in corpus:
        for sides in (ONE_BOX, THREE_BOXES):
            for step in STEPS.values():  # untimed: first use of this size
                step(source.data, sides)
            names = list(STEPS)
            for round_ in range(source.rounds):
                for name in names if round_ % 2 == 0 else reversed(names):
                    started = time.perf_counter()
                    STEPS[name](source.data, sides)
                    timings.setdefault((source.name, sides, name), []).append(
                        (time.perf_counter() - started) * 1000
                    )
    return timings


def print_gap(corpus: Sequence[Source]) -> None:
    os.sched_setaffinity(0, {CORE})
    jpegs = [source for source in corpus if source.format == "JPEG" and "EXIF" not in source.name]
    timings = measure(jpegs)
    section("from the floor to a thumbnail: each step adds one requirement (ms, and x the floor)")
    columns = [(source, sides) for source in jpegs for sides in (ONE_BOX, THREE_BOXES)]
    rows = []
    for name in STEPS:
        cells = []
        for source, sides in columns:
            mine = timings[(source.name, sides, name)]
            cells.append(
                f"{med(mine):.1f} ({ratio(timings, source, sides, 'floor', of=name):.2f}x)"
            )
        rows.append((name, *cells))
    header = tuple(
        f"{source.name.removeprefix('JPEG ')} {'+'.join(map(str, sides))}"
        for source, sides in columns
    )
    print_table(("step", *header), rows)
    one, three = FLOOR_LIMITS[ONE_BOX], FLOOR_LIMITS[THREE_BOXES]
    print(f"  The targets: one box <= {one}x the floor, three <= {three}x. Each step but 'ours'")
    print("  decodes with simplejpeg, at any M/8 DCT scale; ours with Pillow, at 1/2, 1/4 or 1/8.")
