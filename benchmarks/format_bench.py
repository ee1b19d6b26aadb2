"""Which WebP and AVIF settings: bytes and encode time of each quality / speed against JPEG at the
function's quality 85, at equal SSIM, on the thumbnails of a 12 MP photo. Prints, never asserts.

    .venv/bin/python benchmarks/format_bench.py        # needs numpy (the bench extra)

The thumbnails are the function's own renditions (imaging.load_source + renditions.resize_all,
boxes 256 and 1024) of the benchmark's photo-like 12 MP JPEG; each setting encodes them, decodes
the bytes and compares with the rendition: SSIM of the luma (8 x 8 windows, the usual
constants) and PSNR. ms: the median of 5 encodes. The last table is what a function configured
with THUMBNAIL_FORMAT=avif,webp,jpeg writes for that photo, with the defaults chosen here.
"""

from __future__ import annotations

import statistics
import sys
import time
from io import BytesIO

from common import ROOT, print_table, section

sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tools")]

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from create_thumbnail.config import Box, Encoding  # noqa: E402
from create_thumbnail.formats import FORMATS, encode  # noqa: E402
from create_thumbnail.imaging import load_source, make_thumbnails  # noqa: E402
from create_thumbnail.renditions import resize_all  # noqa: E402
from local_run.samples import encode as save, photo  # noqa: E402

BOXES = (Box(256, 256), Box(1024, 1024))
WEBP = [(quality, method) for quality in (70, 75, 80, 85, 90) for method in (4, 6)]
AVIF = [(quality, speed) for quality in (45, 50, 55, 60, 65, 70) for speed in (4, 6, 8)]


def luma(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("L"), dtype=np.float64)


def ssim(a: np.ndarray, b: np.ndarray, window: int = 8) -> float:
    """Mean SSIM over non-overlapping 8 x 8 windows (Wang et al.'s constants for 8-bit data)."""
    h, w = (a.shape[0] // window) * window, (a.shape[1] // window) * window
    a = a[:h, :w].reshape(h // window, window, w // window, window)
    b = b[:h, :w].reshape(h // window, window, w // window, window)
    mean_a, mean_b = a.mean(axis=(1, 3)), b.mean(axis=(1, 3))
    var_a, var_b = a.var(axis=(1, 3)), b.var(axis=(1, 3))
    cov = ((a - mean_a[:, None, :, None]) * (b - mean_b[:, None, :, None])).mean(axis=(1, 3))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    index = ((2 * mean_a * mean_b + c1) * (2 * cov + c2)) / ((mean_a**2 + mean_b**2 + c1) * (var_a + var_b + c2))
    return float(index.mean())


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a - b) ** 2).mean())
    return 99.0 if mse == 0 else 10 * np.log10(255**2 / mse)


def measure(rendition: Image.Image, name: str, options: dict) -> tuple[int, float, float, float]:
    """bytes, ms, SSIM, PSNR of one encoder setting on one rendition."""
    times = []
    for _ in range(5):
        buffer = BytesIO()
        started = time.perf_counter()
        rendition.save(buffer, format=name, **options)
        times.append((time.perf_counter() - started) * 1000)
    decoded = luma(Image.open(BytesIO(buffer.getvalue())))
    reference = luma(rendition)
    return len(buffer.getvalue()), statistics.median(times), ssim(reference, decoded), psnr(reference, decoded)


def main() -> None:
    data = save(photo((4000, 3000), seed=11), "JPEG", quality=92)
    image, *_ = load_source(data, BOXES, 10**9)
    renditions = resize_all(image, BOXES)
    for box in BOXES:
        rendition = renditions[box].convert("RGB")
        section(f"{box} thumbnail ({rendition.width} x {rendition.height}) of a 12 MP photo: each setting")
        jpeg = measure(rendition, "JPEG", {"quality": 85, "optimize": True})
        rows = [("JPEG q85 (reference)", f"{jpeg[0]:,}", "1.00", f"{jpeg[1]:.1f}", f"{jpeg[2]:.4f}", f"{jpeg[3]:.1f}")]
        for name, settings, key in (("WEBP", WEBP, "method"), ("AVIF", AVIF, "speed")):
            for quality, knob in settings:
                size, ms, s, p = measure(rendition, name, {"quality": quality, key: knob})
                rows.append((f"{name} q{quality} {key} {knob}", f"{size:,}", f"{size / jpeg[0]:.2f}",
                             f"{ms:.1f}", f"{s:.4f}", f"{p:.1f}"))  # fmt: skip
        print_table(("setting", "bytes", "/ JPEG", "ms", "SSIM", "PSNR"), rows, right_from=1)
    section("what THUMBNAIL_FORMAT=avif,webp,jpeg writes for this photo, with the defaults")
    thumbnails = make_thumbnails(data, BOXES, 10**9, Encoding(formats=("avif", "webp", "jpeg")))
    rows = []
    for thumbnail in thumbnails:
        reference = luma(renditions[thumbnail.box].convert("RGB"))
        decoded = luma(Image.open(BytesIO(thumbnail.data)))
        options = FORMATS[thumbnail.format].save_options(Encoding())
        times = []
        for _ in range(5):
            started = time.perf_counter()
            encode(renditions[thumbnail.box].convert("RGB"), FORMATS[thumbnail.format], Encoding())
            times.append((time.perf_counter() - started) * 1000)
        rows.append((str(thumbnail.box), thumbnail.format, str(options), f"{len(thumbnail.data):,}",
                     f"{statistics.median(times):.1f}", f"{ssim(reference, decoded):.4f}"))  # fmt: skip
    print_table(("box", "format", "options", "bytes", "encode ms", "SSIM"), rows, right_from=3)


if __name__ == "__main__":
    main()
