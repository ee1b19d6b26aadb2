"""JPEG XL sources, measured: for each real file in tests/fixtures/jxl/, any given on the command
line, and a few made here (RGB, RGBA and 16-bit grey, lossy and lossless, at 1, 4 and 12 MP),
the time and peak memory of make_renditions, beside what jxl.py's estimate admits, and the peak
per decoded pixel. For an animation, also the time the plugin takes to decode the file whole
(its last frame, what the thumbnail was before jxl_frames.py cut the first one out), and the
walk's own time. Prints, never asserts. It needs pillow-jxl-plugin (pyproject's jxl extra).

    .venv/bin/python benchmarks/jxl_bench.py [more.jxl ...]    # about 2 minutes
    .venv/bin/python benchmarks/jxl_bench.py --quick            # the fixtures and 1 MP only

Each figure is one fresh interpreter, as benchmarks/budget_bench.py measures: the handler's cold
start, one small JXL decoded first (libjxl loaded, its threads started), then the kernel's
high-water mark is reset (/proc/self/clear_refs) and make_renditions runs once with one 256 px
box; peak = VmHWM - VmRSS before it. Inputs made here are written to a temporary folder, never
kept. The encoder is the plugin's own (libjxl), at a low effort so that making them is quick.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

from measure import ROOT, run_probe
from report import print_table, section

sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tools")]

from local_run.inputs.samples import photo  # noqa: E402
from PIL import Image  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "jxl"
MB = 1024 * 1024

PROBE = """
import create_thumbnail.app  # the handler's cold start: malloc's thresholds as deployed
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.config import ALL_SOURCE_FORMATS, Box
from create_thumbnail.imaging import make_renditions
from create_thumbnail.imaging.readers import jxl
from create_thumbnail.imaging.readers.jxl_header import read_header
from create_thumbnail.imaging.readers.orientation import upright_size
data = open(sys.argv[1], "rb").read()
boxes = [Box(256, 256)]
make_renditions(open(sys.argv[2], "rb").read(), [Box(64, 64)], 50_000_000, source_formats=ALL_SOURCE_FORMATS)
header = read_header(data)
size = upright_size(header.size, header.orientation)
estimate = jxl.estimate_decode(header, size, boxes) / 1048576
figures = measured(lambda: ", ".join(f"{t.width}x{t.height} {t.format}" for t in make_renditions(
    data, boxes, 50_000_000, budget=Budget.for_memory(1024), source_formats=ALL_SOURCE_FORMATS).thumbnails))
peak, ms, outcome = figures["peak"], figures["ms"], figures["outcome"]
whole_ms = walk_ms = None
if header.animated:
    import pillow_jxl
    from create_thumbnail.imaging.readers.jxl_frames import Unwalkable, first_frame
    from create_thumbnail.imaging.readers.jxl_header import codestream
    started = time.perf_counter()
    try:
        first_frame(codestream(data), header)
        walk_ms = (time.perf_counter() - started) * 1000
    except Unwalkable:
        pass
    started = time.perf_counter()
    pillow_jxl.Decoder()(data)
    whole_ms = (time.perf_counter() - started) * 1000
print(json.dumps({"peak": peak, "ms": ms, "outcome": outcome, "estimate": estimate, "size": size,
                  "depth": header.bits_per_sample, "alpha": header.alpha, "animated": header.animated,
                  "whole_ms": whole_ms, "walk_ms": walk_ms}))
"""


def _encode(image: Image.Image, lossless: bool) -> bytes:
    import pillow_jxl  # noqa: F401  (registers the plugin's encoder)

    buffer = io.BytesIO()
    image.save(buffer, "JXL", lossless=lossless, quality=90, effort=1 if lossless else 3)
    return buffer.getvalue()


def _made(folder: Path, sides: list[tuple[int, int]]) -> dict[str, Path]:
    made = {}
    for width, height in sides:
        base = photo((width, height), seed=1)
        rgba = base.convert("RGBA")
        rgba.putalpha(base.convert("L"))
        grey16 = base.convert("L").convert("I").point(lambda v: v * 257).convert("I;16")
        megapixels = f"{width * height / 1e6:.0f} MP"
        for name, image, lossless in (
            (f"RGB lossy {megapixels}", base, False),
            (f"RGB lossless {megapixels}", base, True),
            (f"RGBA lossy {megapixels}", rgba, False),
            (f"16-bit grey lossless {megapixels}", grey16, True),
        ):
            path = folder / f"{name.replace(' ', '-')}.jxl"
            path.write_bytes(_encode(image, lossless))
            made[name] = path
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the fixtures and 1 MP only")
    parser.add_argument("more", nargs="*", type=Path, help="more JPEG XL files to measure")
    arguments = parser.parse_args()
    sides = [(1000, 1000)] if arguments.quick else [(1000, 1000), (2000, 2000), (4000, 3000)]
    with tempfile.TemporaryDirectory() as folder:
        given = {f"{path.parent.name}/{path.name}": path for path in arguments.more}
        inputs = {path.name: path for path in sorted(FIXTURES.glob("*.jxl"))} | given | _made(Path(folder), sides)
        warm = FIXTURES / "lossy-grey-icc.jxl"
        section("JPEG XL sources, one 256 px box, at 1024 MB: fresh process each, peak = VmHWM - VmRSS before")
        rows, animations = [], []
        for name, path in inputs.items():
            figures = run_probe(PROBE, [str(path), str(warm)])
            width, height = figures["size"]
            per_pixel = figures["peak"] * MB / (width * height)
            kind = f"{figures['depth']}-bit" + (" alpha" if figures["alpha"] else "") + (" anim" if figures["animated"] else "")
            rows.append((name, f"{path.stat().st_size:,}", f"{width}x{height}", kind, figures["outcome"],
                         f"{figures['ms']:.0f}", f"{figures['peak']:.1f}", f"{per_pixel:.1f}",
                         f"{figures['estimate']:.0f}"))  # fmt: skip
            if figures["whole_ms"] is not None:
                walk = "not walkable" if figures["walk_ms"] is None else f"{figures['walk_ms']:.1f}"
                animations.append((name, f"{figures['ms']:.0f}", walk, f"{figures['whole_ms']:.0f}"))
        print_table(("input", "bytes", "size", "samples", "thumbnails or outcome", "ms", "peak MB", "B/px",
                     "est. MB"), rows, right_from=5)  # fmt: skip
        if animations:
            section("JPEG XL animations: the first frame cut out and decoded, against the file decoded whole")
            print_table(("input", "first frame ms", "of which the walk", "whole file ms"), animations, right_from=1)
    print("  est. MB: jxl.py's estimate (the budget adds the file's own bytes). A JPEG recompressed")
    print("  into JPEG XL is read as that JPEG (draft scale): its B/px is of the full size. Times are")
    print("  one run on a shared machine: read, do not compare.")


if __name__ == "__main__":
    main()
