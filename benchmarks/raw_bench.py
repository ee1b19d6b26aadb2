"""Camera RAW sources, measured: what each real file in tests/fixtures/raw/ (and any given on the
command line) declares as previews, IFD by IFD; then, for those files and RAWs made here in the
shapes and at the sizes cameras write, which preview readers/raw.py takes for each set of boxes
(or why none), with the time and peak memory of make_renditions. Prints, never asserts.

    .venv/bin/python benchmarks/raw_bench.py [more.dng ...]

Each timed figure is one fresh interpreter, as benchmarks/budget_bench.py measures: the handler's
cold start, one small JPEG made first (libjpeg's first-use allocations), then the kernel's
high-water mark is reset (/proc/self/clear_refs) and make_renditions runs once; peak = VmHWM -
VmRSS before it. The RAW's own bytes are held before the reset and not counted. Inputs made here
are written to a temporary folder, never kept.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from measure import ROOT, run_probe
from report import print_table, section

sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tools"), str(ROOT)]

from local_run.inputs.camera_raw import arw_like, cr2_like, dng, nef_like  # noqa: E402
from local_run.inputs.samples import encode, photo  # noqa: E402

from create_thumbnail.imaging.readers.raw_layout import jpeg_size, read_layout, walk_ifds  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "raw"
_MAKE, _MODEL, _WIDTH, _HEIGHT = 271, 272, 256, 257

PROBE = """
import create_thumbnail.app  # the handler's cold start: malloc's thresholds as deployed
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.config import ALL_SOURCE_FORMATS, COVER, Box
from create_thumbnail.imaging import make_renditions
from create_thumbnail.imaging.readers import raw
from create_thumbnail.imaging.readers.raw_layout import read_layout
data = open(sys.argv[1], "rb").read()
boxes = [Box(int(side), int(side), COVER if fit == "c" else "inside")
         for side, fit in (item.split(":") for item in sys.argv[2].split(","))]
make_renditions(open(sys.argv[3], "rb").read(), [Box(64, 64)], 50_000_000, source_formats=ALL_SOURCE_FORMATS)
preview = raw.serving_preview(read_layout(data), boxes)
path = f"{preview.size[0]}x{preview.size[1]}" if preview else "-"
figures = measured(lambda: thumbnail_sizes(make_renditions(data, boxes, 50_000_000, budget=Budget.for_memory(1024),
                                                            source_formats=ALL_SOURCE_FORMATS)))
print(json.dumps({**figures, "path": path}))
"""


def declared_previews(name: str, data: bytes) -> list[tuple[str, ...]]:
    """One row per place an IFD names for a JPEG preview: the size the IFD states, the size the
    JPEG's frame header gives (where its bytes are there), its bytes and whether they are all in
    the file."""
    rows = []
    layout = read_layout(data)
    make = model = "-"
    for index, ifd in enumerate(walk_ifds(data)):
        if index == 0:
            make, model = _text(ifd, _MAKE), _text(ifd, _MODEL)
        for offset, length in ifd.jpeg_candidates():
            stated = f"{ifd.first(_WIDTH)}x{ifd.first(_HEIGHT)}" if ifd.first(_WIDTH) else "-"
            frame = jpeg_size(data, offset, length)
            there = max(0, len(data) - offset)
            whole = "yes" if offset + length <= len(data) else f"no: {there:,} there" if there else "no: past the end"
            rows.append((name, f"{make} {model}".strip(), f"IFD {index}", stated,
                         f"{frame[0]}x{frame[1]}" if frame else "no JPEG frame", f"{length:,}", whole))  # fmt: skip
    sensor = f"{layout.sensor[0]}x{layout.sensor[1]}" if layout.sensor else "-"
    rows.append((name, "", "sensor", sensor, "", "", ""))
    return rows


def _text(ifd: object, tag: int) -> str:
    kind, count, position = ifd.entries.get(tag, (0, 0, 0))  # type: ignore[attr-defined]
    raw = ifd.data[position : position + min(count, 64)] if kind == 2 else b""  # type: ignore[attr-defined]
    return raw.split(b"\0")[0].decode("ascii", "replace").strip()


def _made(folder: Path) -> dict[str, Path]:
    """RAWs in each make's shape at the sizes cameras write (the sensor data a stub, but for the
    DNG's mosaic): what the preview path costs when the preview is whole."""
    full = photo((6000, 4000))
    made = {
        "made: ARW-like, 24 MP, 1616x1080 preview, orientation 6": arw_like((6000, 4000), (1616, 1080), 6, full),
        "made: NEF-like, 24 MP full-size JpgFromRaw": nef_like((6000, 4000), 1, picture=full),
        "made: CR2-like, 22 MP full-size JPEG (5760x3840), orientation 8": cr2_like((5760, 3840), 8, full),
        "made: DNG, 12 MP mosaic, 1024x768 preview": dng((4000, 3000), 1, preview=(1024, 768)),
    }
    paths = {}
    for number, (name, data) in enumerate(made.items()):
        path = folder / f"made-{number}.raw"
        path.write_bytes(data)
        paths[name] = path
    return paths


def main() -> None:
    extra = {Path(arg).name: Path(arg) for arg in sys.argv[1:]}
    real = {p.name: p for p in sorted(FIXTURES.glob("*")) if p.suffix.lower() != ".md"} | extra
    section("what each real RAW declares: the previews its IFDs name, and the sensor data's size")
    rows = [row for name, path in real.items() for row in declared_previews(name, path.read_bytes())]
    print_table(("file", "make, model", "where", "IFD states", "JPEG frame", "bytes", "whole?"), rows, right_from=5)
    with tempfile.TemporaryDirectory() as folder:
        inputs = real | _made(Path(folder))
        warm = Path(folder) / "warm.jpg"
        warm.write_bytes(encode(photo((320, 240)), "JPEG"))
        for boxes, title in (("256:f", "one 256 px box"), ("1024:f,256:f,150:c", "1024, 256 and 150 cover"),
                             ("2048:f", "one 2048 px box")):  # fmt: skip
            section(f"camera RAWs, {title}, at 1024 MB: fresh process each, peak = VmHWM - VmRSS before")
            rows = []
            for name, path in inputs.items():
                figures = run_probe(PROBE, [str(path), boxes, str(warm)])
                rows.append((name, f"{path.stat().st_size:,}", figures["path"], figures["outcome"],
                             f"{figures['ms']:.0f}", f"{figures['peak']:.1f}"))  # fmt: skip
            print_table(("input", "bytes", "preview taken, as stored", "thumbnails or outcome", "ms", "peak MB"), rows,
                        right_from=4)  # fmt: skip
    print("  A preview costs what a JPEG of its size costs (the JPEG reader decodes it); a RAW that no")
    print("  preview serves ends before anything is decoded. Times are one run on a shared machine:")
    print("  read, do not compare.")


if __name__ == "__main__":
    main()
