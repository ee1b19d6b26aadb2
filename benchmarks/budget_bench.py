"""The memory budget's table, measured: peak bytes per pixel for each decoding path, beside what
create_thumbnail.imaging.budget estimates for the same image, and what the hostile inputs cost when
refused. Prints, never asserts.

    .venv/bin/python benchmarks/budget_bench.py            # about 2 minutes
    .venv/bin/python benchmarks/budget_bench.py --quick    # 4 MP instead of 12 MP

Each figure is one fresh interpreter that imports the handler (its cold start sets malloc's
thresholds, as on Lambda): the image is read, the libraries warmed on a small image, then the
kernel's high-water mark is reset (/proc/self/clear_refs) and make_thumbnails runs once; peak =
VmHWM - VmRSS before it. The estimate is budget.estimate_peak for the same header, boxes and
orientation (the compressed bytes, which the pipeline holds too, are in neither figure).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from measure import ROOT, run_probe
from report import print_table, section

sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tools")]

from local_run.inputs.hostile import scan_bomb_jpeg, tall_palette_png, wide_rgb16_png  # noqa: E402
from local_run.inputs.samples import encode, heif_bytes, photo, rgb16_png, store_with_orientation  # noqa: E402
from PIL import Image  # noqa: E402

MB = 1024 * 1024

PROBE = """
import io
import create_thumbnail.app  # the handler's cold start: malloc's thresholds as deployed
from PIL import Image
from create_thumbnail.config import ALL_SOURCE_FORMATS
from create_thumbnail.config import Box
from create_thumbnail.imaging import make_thumbnails
from create_thumbnail.imaging.budget import Budget, Header, estimate_peak
from create_thumbnail.imaging.readers import png
from create_thumbnail.imaging.readers.orientation import orientation_of
data = open(sys.argv[1], "rb").read()
boxes = [Box(int(side), int(side)) for side in sys.argv[2].split(",")]
small = io.BytesIO(); Image.new("RGB", (64, 64)).save(small, "PNG")
from create_thumbnail.imaging.readers.heif import register as register_heif
register_heif()
make_thumbnails(small.getvalue(), boxes, 10**9)  # imports and first-use allocations
image = Image.open(io.BytesIO(data))
header = Header.of(image)
orientation = orientation_of(image)
from create_thumbnail.imaging.readers.jpeg import _draft
if image.format in ("JPEG", "MPO"):
    _draft(image, boxes, orientation)
# JPEG: drafted; PNG: shrunk as it streams
size = png._decoded_size(image.size, boxes, orientation) if image.format == "PNG" else image.size
estimate = estimate_peak(header, size, boxes, orientation in range(2, 9))
del image
open("/proc/self/clear_refs", "w").write("5")
before = rss_mb()
started = time.perf_counter()
try:
    make_thumbnails(data, boxes, 10**9, budget=Budget(None) if sys.argv[3] == "none" else Budget.for_memory(int(sys.argv[3])),
                    source_formats=ALL_SOURCE_FORMATS)
    outcome = "thumbnails"
except Exception as error:
    outcome = f"{type(error).__name__}: {error}"[:90]
print(json.dumps({"peak": peak_mb() - before, "estimate": estimate / 1048576, "ms": (time.perf_counter() - started) * 1000,
                  "outcome": outcome, "path": header.path, "decoded": size}))
"""


def _inputs(width: int, height: int) -> dict[str, Callable[[], bytes]]:
    """One image per decoding path, photo-like, all width x height."""
    base = photo((width, height), seed=1)
    rgba = base.convert("RGBA")
    rgba.putalpha(base.convert("L"))
    grey16 = base.convert("L").convert("I").point(lambda v: v * 257).convert("I;16")
    stored, exif = store_with_orientation(base, 6)
    fast = {"compress_level": 1}
    return {
        "PNG 1-bit": lambda: encode(base.convert("1"), "PNG", **fast),
        "PNG L": lambda: encode(base.convert("L"), "PNG", **fast),
        "PNG L + tRNS": lambda: encode(base.convert("L"), "PNG", transparency=0, **fast),
        "PNG LA": lambda: encode(base.convert("LA"), "PNG", **fast),
        "PNG P (64 colours)": lambda: encode(base.quantize(64), "PNG", **fast),
        "PNG P + tRNS": lambda: encode(base.quantize(64), "PNG", transparency=0, **fast),
        "PNG RGB": lambda: encode(base, "PNG", **fast),
        "PNG RGB + tRNS": lambda: encode(base, "PNG", transparency=(0, 0, 0), **fast),
        "PNG RGB, EXIF 6": lambda: encode(stored, "PNG", exif=exif, **fast),
        "PNG RGBA": lambda: encode(rgba, "PNG", **fast),
        "PNG 16-bit grey": lambda: encode(grey16, "PNG", **fast),
        "PNG 16-bit grey + tRNS": lambda: encode(grey16, "PNG", transparency=0, **fast),
        "PNG 16-bit RGB": lambda: rgb16_png(base),
        "PNG 16-bit RGB + tRNS": lambda: rgb16_png(base, key=(0, 0, 0)),
        "JPEG RGB 4:2:0": lambda: encode(base, "JPEG", quality=90),
        "JPEG RGB, EXIF 6": lambda: encode(stored, "JPEG", quality=90, exif=exif),
        "JPEG L": lambda: encode(base.convert("L"), "JPEG", quality=90),
        "JPEG CMYK": lambda: encode(base.convert("CMYK"), "JPEG", quality=90),
        "JPEG RGB progressive": lambda: encode(base, "JPEG", quality=90, progressive=True, optimize=True),
        "JPEG L progressive": lambda: encode(base.convert("L"), "JPEG", quality=90, progressive=True),
        "WebP RGB": lambda: encode(base, "WEBP", quality=90),
        "WebP RGBA": lambda: encode(rgba, "WEBP", quality=90),
        "AVIF RGB": lambda: encode(base, "AVIF", quality=80, speed=8),
        "AVIF RGBA": lambda: encode(rgba, "AVIF", quality=80, speed=8),
        "HEIF RGB": lambda: heif_bytes(base),
        "TIFF RGB": lambda: encode(base, "TIFF"),
        "GIF P": lambda: encode(base.quantize(256), "GIF"),
    }


def _shapes() -> dict[str, Callable[[], bytes]]:
    """The pixel cap's photo, the longest side allowed, and the thinnest shape at it, where the
    reducer helps least."""
    return {
        "PNG RGB 8,660 x 5,773 (50 MP, the cap)": lambda: encode(photo((8660, 5773), seed=5), "PNG"),
        "PNG RGBA 65,535 x 700": lambda: encode(Image.new("RGBA", (65_535, 700), (9, 9, 9, 9)), "PNG"),
        "PNG RGBA 700 x 65,535": lambda: encode(Image.new("RGBA", (700, 65_535), (9, 9, 9, 9)), "PNG"),
        "PNG P + tRNS 7 x 65,535": lambda: encode(Image.new("P", (7, 65_535)), "PNG", transparency=0),
        "PNG 16-bit RGB + tRNS 65,535 x 7": lambda: rgb16_png(Image.new("RGB", (65_535, 7)), key=(0, 0, 0)),
    }


def _hostile() -> dict[str, Callable[[], bytes]]:
    return {
        "palette PNG 1 x 49,999,999 + tRNS": tall_palette_png,
        "16-bit RGB PNG 49,999,999 x 1": wide_rgb16_png,
        "progressive JPEG 7000 x 7000, 20,000 scans": scan_bomb_jpeg,
    }


def _measure(make: Callable[[], bytes], boxes: str, memory: str, folder: Path) -> dict:
    path = folder / "input"
    path.write_bytes(make())
    figures = run_probe(PROBE, [str(path), boxes, memory])
    figures["bytes"] = path.stat().st_size
    return figures


def _paths(width: int, height: int, folder: Path) -> None:
    pixels = width * height
    section(f"peak bytes per pixel by decoding path, {width} x {height} ({pixels / 1e6:.0f} MP), no budget")
    rows = []
    for name, make in _inputs(width, height).items():
        one = _measure(make, "256", "none", folder)
        three = _measure(make, "1024,512,256", "none", folder)
        rows.append((name, one["path"], f"{one['peak'] * MB / pixels:.2f}", f"{one['peak']:.0f}",
                     f"{one['estimate']:.0f}", f"{one['estimate'] / max(one['peak'], 1):.2f}",
                     f"{three['peak']:.0f}", f"{three['estimate']:.0f}", f"{one['ms']:.0f}"))
    print_table(("input", "path", "B/px", "peak MB", "est. MB", "est/peak", "3 boxes", "est.", "ms"), rows, right_from=2)
    print("  B/px: measured peak over the source's pixels, one 256 box (JPEG: the draft decodes fewer).")
    print("  est/peak >= 1 is the point: the estimate must not undercount. 3 boxes: 1024, 512, 256.")


def _thin_and_hostile(folder: Path) -> None:
    section("thin shapes near the limit, and the hostile inputs at 1024 MB")
    rows = []
    for name, make in {**_shapes(), **_hostile()}.items():
        figures = _measure(make, "256,1024", "1024", folder)
        rows.append((name, f"{figures['bytes']:,}", f"{figures['peak']:.0f}", f"{figures['estimate']:.0f}",
                     f"{figures['ms']:.0f}", figures["outcome"]))
    print_table(("input", "bytes", "peak MB", "est. MB", "ms", "outcome"), rows, right_from=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4 MP inputs instead of 12 MP")
    args = parser.parse_args()
    width, height = (2400, 1600) if args.quick else (4000, 3000)
    with tempfile.TemporaryDirectory() as folder:
        _paths(width, height, Path(folder))
        _thin_and_hostile(Path(folder))


if __name__ == "__main__":
    main()
