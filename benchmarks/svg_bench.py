"""SVG sources, measured: each real file of tests/fixtures/svg and a few hostile documents, per
box: the intrinsic size, the thumbnail's, the time, and the memory beside svg.py's estimate.
Prints, never asserts.

    .venv/bin/python benchmarks/svg_bench.py        # about a minute

Each row is one fresh interpreter that imports the handler (its cold start, as on Lambda),
warms the path on a small SVG, resets the kernel's high-water mark and runs make_renditions
once for the time and the memory (the median of 5 runs for the time). resvg renders in a forked
child (svg.py): "parent" is VmHWM - VmRSS before in the function's process, "child" what the
render adds, measured by running it again in this process (what the child adds beside the
pages it shares with its parent), and "estimate" svg.estimate_svg_peak for the same document.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from measure import ROOT, run_probe
from report import print_table, section

sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tools"), str(ROOT)]

FIXTURES = ROOT / "tests" / "fixtures" / "svg"

PROBE = """
import statistics
import create_thumbnail.app  # the handler's cold start
from create_thumbnail.imaging.readers import svg
from create_thumbnail.config import Box
from create_thumbnail.imaging import make_renditions
data = open(sys.argv[1], "rb").read()
boxes = [Box(int(side), int(side)) for side in sys.argv[2].split(",")]
warm = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="2" height="2"/></svg>'
make_renditions(warm, boxes, 50_000_000, source_formats=("svg",))
try:
    counts = svg._Counts()
    document = svg.rewrite(svg._inflate(data), counts, 50_000_000, nested_svgs=True)
    size = svg.render_size(document.intrinsic, boxes)
    estimate = svg.estimate_svg_peak(size, len(document.text), counts, boxes) / 1048576
except Exception:
    estimate = float("nan")
open("/proc/self/clear_refs", "w").write("5")
before = rss_mb()
times = []
for run in range(5):
    started = time.perf_counter()
    try:
        rendered = make_renditions(data, boxes, 50_000_000, source_formats=("svg",))
        outcome = "thumbnails"
        made = f"{rendered.thumbnails[-1].width}x{rendered.thumbnails[-1].height}"
        source = "x".join(map(str, rendered.source_size))
    except Exception as error:
        outcome, made, source = f"{type(error).__name__}: {error}"[:70], "", ""
    times.append((time.perf_counter() - started) * 1000)
    if outcome != "thumbnails":
        break
peak = peak_mb() - before
child = float("nan")
if outcome == "thumbnails":  # the child's render, again in this process, for its memory
    import resvg_py
    text = svg._sized(document, size)
    open("/proc/self/clear_refs", "w").write("5")
    before = rss_mb()
    svg._on_deep_stack(resvg_py, text)
    child = peak_mb() - before
print(json.dumps({"peak": peak, "child": child, "estimate": estimate,
                  "ms": statistics.median(times), "outcome": outcome, "made": made, "source": source}))
"""


def _hostile() -> dict[str, bytes]:
    ns = 'xmlns="http://www.w3.org/2000/svg"'
    blurs = '<feGaussianBlur stdDeviation="5"/>' * 99
    rects = "".join(f'<rect x="{n}" y="{n}" width="90" height="90" filter="url(#f)"/>' for n in range(50))
    chain = ['<rect id="u0" width="1" height="1"/>'] + [
        f'<g id="u{i}"><use href="#u{i - 1}"/><use href="#u{i - 1}" x="1"/></g>' for i in range(1, 31)
    ]
    laughs = '<!ENTITY l0 "lol">' + "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    deep = ['<rect id="a0" width="50" height="50"/>'] + [
        f'<g id="a{i}">' + "<g>" * 50 + f'<use href="#a{i - 1}"/>' + "</g>" * 50 + "</g>" for i in range(1, 13)
    ]
    return {
        "99 blurs on 50 squares": f'<svg {ns} width="100" height="100"><filter id="f">{blurs}</filter>{rects}</svg>'.encode(),
        "<use> doubling 30 times": f'<svg {ns} width="100" height="100"><defs>{"".join(chain)}</defs><use href="#u30"/></svg>'.encode(),
        "billion laughs": f'<!DOCTYPE svg [{laughs}]><svg {ns} width="9" height="9"><desc>&l9;</desc></svg>'.encode(),
        "600 levels through <use>": f'<svg {ns} width="100" height="100"><defs>{"".join(deep)}</defs><use href="#a12"/></svg>'.encode(),
        "path of 1.5 M segments (9.5 MB)": f'<svg {ns} width="1000" height="1000"><path d="M0 0{" L1000 1000 L0 1000" * 500_000}"/></svg>'.encode(),
        "/dev/zero as an image": f'<svg {ns} width="100" height="100"><image width="9" height="9" href="/dev/zero"/></svg>'.encode(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args()
    header = ("input", "boxes", "intrinsic", "thumbnail", "ms", "parent MB", "child MB", "estimate MB", "outcome")
    with tempfile.TemporaryDirectory() as folder:
        section("real SVG files (tests/fixtures/svg)")
        rows = []
        for path in sorted(FIXTURES.glob("*.svg")):
            for boxes in ("256", "1024"):
                rows.append(_row(path.name, path, boxes))
        print_table(header, rows, right_from=2)
        section("hostile documents (made here), one 256 px box")
        rows = []
        for name, data in _hostile().items():
            path = Path(folder) / "input.svg"
            path.write_bytes(data)
            rows.append(_row(name, path, "256"))
        print_table(header, rows, right_from=2)


def _row(name: str, path: Path, boxes: str) -> tuple[object, ...]:
    got = run_probe(PROBE, [str(path), boxes])
    return (name, boxes, got["source"], got["made"], f"{got['ms']:.0f}", f"{got['peak']:.1f}",
            f"{got['child']:.1f}", f"{got['estimate']:.0f}", got["outcome"])  # fmt: skip


if __name__ == "__main__":
    main()
