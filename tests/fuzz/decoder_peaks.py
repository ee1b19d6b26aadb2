"""The peaks the budget's per-decoder figures are fitted to, measured: AVIF and HEIF at 8 and 10
bits, 4:2:0 and 4:4:4, with and without alpha, at a few sizes and (AVIF) scaled up to the size
its ispe box claims; animated GIF and WebP composited at a few canvas sizes. Prints each peak
beside the budget's estimate and the bytes per pixel it implies; asserts nothing.

    .venv/bin/python -m tests.fuzz.decoder_peaks            # about 4 minutes (x265 is slow)
    .venv/bin/python -m tests.fuzz.decoder_peaks --large    # and 4000 x 3000: 15 minutes more
    .venv/bin/python -m tests.fuzz.decoder_peaks --only WEBP

Each figure is one fresh worker process, with the allocator set as the handler's cold start sets
it, measured as the fuzz test measures (worker.measure: the resident high-water mark during the
call less the resident memory before it), for the fuzz
test's call (its boxes, 1024 MB, animation kept). "implied" is what the peak says the decoder's
own bytes per pixel are (budget._DECODER_BYTES, less its fixed part), or for an animation the bytes per
canvas pixel of compositing (budget._ANIMATION_BYTES_PER_PIXEL): the figure each must be at least.
"""

from __future__ import annotations

import argparse
import multiprocessing
import struct
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from io import BytesIO

from local_run.inputs.samples import encode
from PIL import Image

from create_thumbnail.imaging import budget as table
from create_thumbnail.imaging.budget import Budget, Header, estimate_animation_peak, estimate_peak
from create_thumbnail.imaging.readers.animated import frames_held, within_limits
from tests.fuzz.limits import BOXES, ENCODING, MAX_PIXELS, budget
from tests.fuzz.seeds import avif_bytes, photo
from tests.fuzz.seeds import heif_deep_bytes as heif_bytes

MB = 1024 * 1024
SIZES = ((1000, 750), (2000, 1500))
LARGE = ((4000, 3000),)
ISPE_SIZE = (7071, 7071)  # libavif scales a small picture up to what its ispe box says
CANVASES = (1000, 2000, 3000, 4000, 5000)


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    build: Callable[[], bytes]
    animated: bool = False


def with_ispe(data: bytes, size: tuple[int, int]) -> bytes:
    """Every ispe box (colour and alpha) set to size."""
    start = 0
    while (found := data.find(b"ispe", start)) > 0:
        data = data[: found + 8] + struct.pack(">II", *size) + data[found + 16 :]
        start = found + 4
    return data


def animation_bytes(image_format: str, side: int, alpha: bool) -> bytes:
    """Two photo-like frames filling a side x side canvas: large files, as a WebP's file is held
    once for every time it is opened. image_format: GIF, WEBP (lossless) or WEBP lossy."""
    frames = [photo((side, side), n, "RGBA" if alpha else "RGB") for n in range(2)]
    if image_format == "GIF":
        options = {"transparency": 0} if alpha else {}
        frames = [frame.convert("RGB").quantize(32) for frame in frames]
        return encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, disposal=2, **options)
    lossy = {"quality": 80} if image_format.endswith("lossy") else {"lossless": True}
    return encode(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=100, method=0, **lossy)


def cases(large: bool) -> Iterator[Case]:
    for size in (*SIZES, *(LARGE if large else ())):
        for mode in ("RGB", "RGBA"):
            for bits in (8, 10):
                for chroma in ("420", "444"):
                    label = f"{mode} {bits}-bit {chroma} {size[0]}x{size[1]}"
                    yield Case(f"AVIF {label}", lambda s=size, m=mode, b=bits, c=chroma: avif_bytes(photo(s, 5, m), b, c))
                    yield Case(f"HEIF {label}", lambda s=size, m=mode, b=bits, c=chroma: heif_bytes(photo(s, 5, m), b, c))
    for mode in ("RGB", "RGBA"):
        for bits in (8, 10):
            for chroma in ("420", "444"):
                label = f"{mode} {bits}-bit {chroma} 128x128, ispe {ISPE_SIZE[0]}x{ISPE_SIZE[1]}"
                yield Case(f"AVIF {label}", lambda m=mode, b=bits, c=chroma: with_ispe(avif_bytes(photo((128, 128), 3, m), b, c), ISPE_SIZE))
    for image_format in ("GIF", "WEBP", "WEBP lossy"):
        for side in CANVASES:
            for alpha in (False, True):
                label = f"{image_format} 2 frames {side}x{side}{' transparent' if alpha else ''}"
                yield Case(label, lambda f=image_format, s=side, a=alpha: animation_bytes(f, s, a), animated=True)


def measured_peak(data: bytes) -> tuple[str, int]:
    """In a fresh worker: the outcome and the peak, as the fuzz test measures them, but with no
    memory budget, so that what the budget would refuse is measured too."""
    from tests.fuzz import worker

    worker.cold_start()
    worker.warm_up()
    result = worker.measure(data, Budget(None))
    return result.outcome, result.peak_bytes


def at_1024_mb(case: Case, data: bytes, estimate: int) -> str:
    """What the budget at 1024 MB does with it: admits it, refuses it, or (an animation) keeps
    only its first frame."""
    if case.animated:
        image = Image.open(BytesIO(data))
        return "animated" if within_limits(image, BOXES, ENCODING, MAX_PIXELS, budget().bytes) is None else "first frame"
    return "admitted" if estimate + len(data) <= (budget().bytes or 0) else "refused"


def estimated(case: Case, data: bytes) -> tuple[int, float]:
    """The budget's estimate, and the bytes per pixel the decoder (or compositing) is given in it."""
    image = Image.open(BytesIO(data))
    if case.animated:
        count = getattr(image, "n_frames", 1)
        per_pixel = table._ANIMATION_BYTES_PER_PIXEL[image.format or ""]
        peak = estimate_animation_peak(image.format or "", image.size, BOXES, len(data))
        return frames_held(count, image.size, BOXES) + peak, per_pixel
    header = Header.of(image)
    return estimate_peak(header, image.size, BOXES, transposes=False), header.decoder_bytes_per_pixel


def implied(case: Case, data: bytes, peak: int) -> float:
    """The decoder's (or compositing's) bytes per pixel that would make the estimate the peak."""
    image = Image.open(BytesIO(data))
    pixels = image.width * image.height
    if case.animated:
        count = getattr(image, "n_frames", 1)
        per_pixel = table._ANIMATION_BYTES_PER_PIXEL[image.format or ""]
        rest = frames_held(count, image.size, BOXES) + estimate_animation_peak(image.format or "", image.size, BOXES, len(data))
        return per_pixel + (peak - rest) / pixels
    header = Header.of(image)
    without = estimate_peak(replace(header, decoder_bytes_per_pixel=0.0), image.size, BOXES, transposes=False)
    return (peak - without) / pixels


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--large", action="store_true", help="also 4000 x 3000 (x265 takes minutes a picture)")
    parser.add_argument("--only", default="", help="only the inputs whose name has this in it (AVIF, GIF, 10-bit...)")
    args = parser.parse_args(argv)
    from create_thumbnail.imaging.readers.heif import register as register_heif

    register_heif()
    print(f"{'input':<52} {'peak MB':>8} {'estimate MB':>12} {'B/px given':>11} {'implied':>8}  at 1024 MB")
    spawn = multiprocessing.get_context("spawn")
    for case in (case for case in cases(args.large) if args.only in case.name):
        data = case.build()
        with ProcessPoolExecutor(1, mp_context=spawn, max_tasks_per_child=1) as pool:
            outcome, peak = pool.submit(measured_peak, data).result()
        if outcome != "thumbnails":
            print(f"{case.name:<52} {outcome}", flush=True)
            continue
        estimate, given = estimated(case, data)
        flag = "  UNDER" if peak > estimate else ""
        print(
            f"{case.name:<52} {peak / MB:>8.0f} {estimate / MB:>12.0f} {given:>11.1f} "
            f"{implied(case, data, peak):>8.1f}  {at_1024_mb(case, data, estimate)}{flag}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
