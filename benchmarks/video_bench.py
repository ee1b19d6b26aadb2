"""Video sources, measured: for each real clip in tests/fixtures/video/ and the 4K phone clip grown
to 1, 4 and 64 GB (tests/large_video.py: gigabytes of media before its index, served as ranges,
never held), the time and peak memory of a poster frame's thumbnails, the bytes read of the
object and the ranged GETs, beside video.py's memory estimate. Prints, never asserts.

    .venv/bin/python benchmarks/video_bench.py

Each figure is one fresh interpreter, as benchmarks/pdf_bench.py measures: the handler's cold
start, one small clip thumbnailed first (PyAV loaded, FFmpeg's first-use allocations made), then
the kernel's high-water mark is reset (/proc/self/clear_refs) and make_renditions runs once on a
RangedFile whose head is the first MiB, as the function's first GET brings it; peak = VmHWM -
VmRSS before it. Boxes: 1024 + 256 fit and 150 cover.
"""

from __future__ import annotations

import sys

from measure import ROOT, run_probe
from report import print_table, section

FIXTURES = ROOT / "tests" / "fixtures" / "video"
PORTRAIT = FIXTURES / "h264-4k-phone-portrait.mp4"

PROBE = """
import create_thumbnail.app  # the handler's cold start: malloc's thresholds as deployed
import av
from create_thumbnail.config import ALL_SOURCE_FORMATS, COVER, Box
from create_thumbnail.imaging import make_renditions
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.imaging.readers import sniff, video
from create_thumbnail.ranged import BLOCK, RangedFile
from tests.large_video import grown
path, extra, warm = sys.argv[1], int(sys.argv[2]), sys.argv[3]
data = open(path, "rb").read()
size, fetch = grown(data, extra) if extra else (len(data), lambda start, end: data[start:end])
boxes = [Box(1024, 1024), Box(256, 256), Box(150, 150, COVER)]
make_renditions(open(warm, "rb").read(), [Box(64, 64)], 50_000_000, source_formats=ALL_SOURCE_FORMATS)
source = RangedFile(size, fetch, head=fetch(0, min(BLOCK, size)), max_bytes=64 << 20)
figures = measured(lambda: thumbnail_sizes(make_renditions(source, boxes, 50_000_000, budget=Budget.for_memory(1024),
                                                            source_formats=ALL_SOURCE_FORMATS)), width=60)
# The stream's figures after the measurement: opened before it, the same clip's decoder would have
# left its memory to malloc, and the thumbnails' peak would come out below what it costs. From a
# file object, as the reader hands FFmpeg its bytes (the decode-only build opens no path).
estimate, stream = None, "-"
try:
    with open(path, "rb") as file, av.open(file, format=sniff.movie_demuxer(data[:1 << 20])) as container:
        s = container.streams.video[0]
        pix_fmt = s.codec_context.pix_fmt or ""
        stream = f"{s.codec_context.name} {s.codec_context.width}x{s.codec_context.height} {pix_fmt}"
        estimate = video.estimate_decode((s.codec_context.width, s.codec_context.height), pix_fmt) / 1048576
except Exception:
    pass
print(json.dumps({**figures, "estimate": estimate, "stream": stream, "size": size, "read": source.fetched,
                  "requests": source.requests}))
"""


def main() -> None:
    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    inputs = [(path.name, path, 0) for path in sorted(FIXTURES.glob("*.*")) if path.suffix != ".md"]
    inputs += [(f"{PORTRAIT.name} grown to {gb} GB", PORTRAIT, gb << 30) for gb in (1, 4, 64)]
    warm = FIXTURES / "h264-bt601.mov"
    section("Video sources: a poster frame, 1024 + 256 + 150 cover, at 1024 MB; fresh process each")
    rows = []
    for name, path, extra in inputs:
        f = run_probe(PROBE, [str(path), str(extra), str(warm)])
        estimate = f"{f['estimate']:.0f}" if f["estimate"] is not None else "-"
        rows.append((name, f["stream"], f"{f['size']:,}", f"{f['read']:,}", f["requests"], f["outcome"],
                     f"{f['ms']:.0f}", f"{f['peak']:.1f}", estimate))  # fmt: skip
    print_table(("input", "stream", "object bytes", "bytes read", "ranged GETs", "thumbnails or outcome", "ms",
                 "peak MB", "est. MB"), rows, right_from=2)  # fmt: skip
    print("  bytes read: the first MiB (what the function's GET brings) and every ranged GET after it.")
    print("  est. MB: video.py's estimate, which the budget admits before decoding. Times are one run")
    print("  on a shared machine: read, do not compare.")


if __name__ == "__main__":
    main()
