"""PDF sources, measured: for each real file in tests/fixtures/pdf/ and a few made here (a page
that is one large image, at the sizes cameras and scanners write, and a tall thin one), the
time and peak memory of make_renditions, beside what pdf.py's estimate admits. Prints, never
asserts.

    .venv/bin/python benchmarks/pdf_bench.py

Each figure is one fresh interpreter, as benchmarks/budget_bench.py measures: the handler's cold
start, one PDF rendered first at 64 px (PDFium loaded, its first-use allocations made), then the
kernel's high-water mark is reset (/proc/self/clear_refs) and make_renditions runs once; peak =
VmHWM - VmRSS before it. Boxes: one 256 px fit box, and 1024 + 256 + 150 cover as the fuzz test
asks. Inputs made here are written to a temporary folder, never kept.
"""

from __future__ import annotations

import sys
import tempfile
import zlib
from pathlib import Path

from measure import ROOT, run_probe
from report import print_table, section

sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tools"), str(ROOT)]

from PIL import Image  # noqa: E402

from tests.fuzz.pdf_edits import image_page, stream, write  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures" / "pdf"

PROBE = """
import create_thumbnail.app  # the handler's cold start: malloc's thresholds as deployed
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.config import ALL_SOURCE_FORMATS, COVER, Box
from create_thumbnail.imaging import make_renditions
data = open(sys.argv[1], "rb").read()
boxes = [Box(int(side), int(side), COVER if fit == "c" else "inside")
         for side, fit in (item.split(":") for item in sys.argv[2].split(","))]
make_renditions(open(sys.argv[3], "rb").read(), [Box(64, 64)], 50_000_000, source_formats=ALL_SOURCE_FORMATS)
estimate, pages, page, rendered = None, None, None, None
try:
    import pypdfium2
    from create_thumbnail.imaging.readers import pdf
    document = pypdfium2.PdfDocument(data)
    pages, first = len(document), document[0]
    page = first.get_size()
    scale = pdf.render_scale(page, boxes, 50_000_000)
    rendered = pdf.rendered_size(page, scale)
    estimate = pdf.estimate_render(rendered, boxes, pdf._image_sizes(first, pypdfium2)) / 1048576
    document.close()
except Exception as error:
    estimate = None
figures = measured(lambda: thumbnail_sizes(make_renditions(data, boxes, 50_000_000, budget=Budget.for_memory(1024),
                                                            source_formats=ALL_SOURCE_FORMATS)))
print(json.dumps({**figures, "estimate": estimate, "pages": pages, "page": page, "rendered": rendered}))
"""


def _made(folder: Path) -> dict[str, Path]:
    """Pages that are one large image, as scanners and cameras write them into PDFs."""
    made = {}
    for name, size in {"made: 12 MP JPEG photo page": (4000, 3000), "made: 24 MP JPEG photo page": (6000, 4000)}.items():
        path = folder / f"{size[0]}.pdf"
        Image.effect_noise(size, 40).convert("RGB").save(path, resolution=300, quality=85)  # DCTDecode
        made[name] = path
    for name, (width, height) in {"made: 4000 x 3000 Flate RGB image": (4000, 3000),
                                  "made: 8000 x 6000 Flate RGB image": (8000, 6000),
                                  "made: 400 x 65,535 Flate RGB image": (400, 65_535)}.items():  # fmt: skip
        path = folder / f"flate-{width}x{height}.pdf"
        picture = Image.new("RGB", (width, height), (200, 40, 40))
        data = image_page(picture) if width * height < 30e6 else _flate_page(width, height)
        path.write_bytes(data)
        made[name] = path
    return made


def _flate_page(width: int, height: int) -> bytes:
    """image_page without holding the image in Pillow: zeros compress as they stream."""
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(bytes(width * 3)) for _ in range(height)) + compressor.flush()
    image = stream(body, b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB "
                   b"/BitsPerComponent 8 /Filter /FlateDecode" % (width, height))  # fmt: skip
    return write([
        b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 595] /Resources << /XObject << /Im0 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        stream(b"q 420 0 0 595 0 0 cm /Im0 Do Q"), image,
    ])  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        inputs = {path.name: path for path in sorted(FIXTURES.glob("*.pdf"))} | _made(Path(folder))
        warm = FIXTURES / "vector-text.pdf"
        for boxes, title in (("256:f", "one 256 px box"), ("1024:f,256:f,150:c", "1024, 256 and 150 cover")):
            section(f"PDF sources, {title}, at 1024 MB: fresh process each, peak = VmHWM - VmRSS before")
            rows = []
            for name, path in inputs.items():
                figures = run_probe(PROBE, [str(path), boxes, str(warm)])
                page = figures["page"]
                shown_page = f"{page[0]:,.0f} x {page[1]:,.0f}" if page else "-"
                rendered = "x".join(map(str, figures["rendered"])) if figures["rendered"] else "-"
                estimate = f"{figures['estimate']:.0f}" if figures["estimate"] is not None else "-"
                rows.append((name, f"{path.stat().st_size:,}", figures["pages"] or "-", shown_page, rendered,
                             figures["outcome"], f"{figures['ms']:.0f}", f"{figures['peak']:.1f}", estimate))  # fmt: skip
            print_table(("input", "bytes", "pages", "page (pt)", "rendered", "thumbnails or outcome", "ms",
                         "peak MB", "est. MB"), rows, right_from=6)  # fmt: skip
    print("  est. MB: pdf.py's estimate for the render (the budget adds the file's own bytes); '-' where")
    print("  PDFium cannot open the file. Times are one run on a shared machine: read, do not compare.")


if __name__ == "__main__":
    main()
