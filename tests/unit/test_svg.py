"""SVG sources: sniffing, the size to render, real files, and the renderer kept from every file and
URL an SVG names (resvg's own image loader opens any path it is given: shown first)."""

from __future__ import annotations

import base64
import gzip
import os
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from create_thumbnail.imaging.readers import svg
from create_thumbnail.imaging.budget import Budget
from create_thumbnail.config import COVER, DEFAULT_SOURCE_FORMATS, Box
from create_thumbnail.errors import ImageTooLarge, NotAnImage
from create_thumbnail.imaging.formats import SVG, claimed_format
from create_thumbnail.imaging.readers.sniff import sniff_format
from create_thumbnail.imaging import make_renditions

FIXTURES = Path(__file__).parents[1] / "fixtures" / "svg"
NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
RED = (255, 0, 0, 255)
WITH_SVG = ("jpeg", "png", "svg")


def document(body: str, root: str = 'width="100" height="100"', head: str = "") -> bytes:
    return f"{head}<svg {NS} {root}>{body}</svg>".encode()


def render(data: bytes, box: Box | None = None, **options) -> Image.Image:
    rendered = make_renditions(data, [box or Box(100, 100)], 50_000_000, source_formats=WITH_SVG, **options)
    return Image.open(BytesIO(rendered.thumbnails[0].data)).convert("RGBA")


def has_colour(image: Image.Image, colour: tuple[int, int, int, int]) -> bool:
    return any(found == colour for _, found in image.getcolors(image.width * image.height))


@pytest.fixture
def red_png(tmp_path: Path) -> Path:
    path = tmp_path / "secret.png"
    Image.new("RGBA", (10, 10), RED).save(path)
    return path


# Sniffing


@pytest.mark.parametrize(
    "data",
    [
        document(""),
        b"\xef\xbb\xbf" + document(""),
        document("", head='<?xml version="1.0" encoding="UTF-8"?>\n<!-- drawn by hand -->\n'),
        document("", head='<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">'),
        document("", head='<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY ns_svg "http://www.w3.org/2000/svg">]>'),
        gzip.compress(document("")),
    ],
    ids=["bare", "bom", "declaration-comment", "doctype", "internal-subset", "svgz"],
)
def test_svg_is_sniffed_after_what_may_precede_its_root(data: bytes) -> None:
    assert sniff_format(data) == SVG


@pytest.mark.parametrize(
    "data",
    [b"<html><body><svg></svg></body></html>", b'<?xml version="1.0"?><rss/>', b"<!-- <svg", gzip.compress(b"plain"),
     b" " * 9000 + document(""), b""],
    ids=["html", "other-xml", "unclosed-comment", "gzip-text", "root-too-far", "empty"],
)  # fmt: skip
def test_what_is_not_an_svg_is_not_an_image(data: bytes) -> None:
    with pytest.raises(NotAnImage):
        sniff_format(data)


def test_default_formats_skip_svg_by_name_and_by_bytes() -> None:
    assert claimed_format("logo.svg", DEFAULT_SOURCE_FORMATS) is None
    assert claimed_format("logo.SVGZ", WITH_SVG) == SVG
    with pytest.raises(NotAnImage, match="SOURCE_FORMATS does not include"):
        make_renditions(document(""), [Box(64, 64)], 50_000_000)


# The size to render: pure


@pytest.mark.parametrize(
    ("width", "height", "view_box", "size"),
    [
        ("100", "50", None, (100, 50)),
        ("100px", "50px", "0 0 10 10", (100, 50)),
        ("72pt", "1in", None, (96, 96)),
        ("25.4mm", "2.54cm", None, (96, 96)),
        ("2em", "3ex", None, (32, 24)),
        (None, None, "0 0 24 12", (24, 12)),
        ("48", None, "0,0,24,12", (48, 24)),
        (None, "48", "0 0 24 12", (96, 48)),
        ("100%", "100%", "0 0 30 20", (30, 20)),
        (None, None, None, (300, 150)),
        ("nonsense", None, "0 0 -1 5", (300, 150)),
    ],
)
def test_intrinsic_size_follows_width_height_and_viewbox(width, height, view_box, size) -> None:
    assert tuple(round(side) for side in svg.intrinsic_size(width, height, view_box)) == size


@pytest.mark.parametrize("width", ["0", "-5", "1e400"])
def test_a_size_that_draws_nothing_is_not_an_image(width: str) -> None:
    with pytest.raises(NotAnImage):
        svg.intrinsic_size(width, "10", None)


@pytest.mark.parametrize(
    ("intrinsic", "boxes", "size"),
    [
        ((16, 16), [Box(256, 256)], (256, 256)),  # a vector: scaled up to the box
        ((800, 600), [Box(256, 256)], (256, 192)),  # and down, never rendered in full
        ((800, 600), [Box(256, 256), Box(1024, 1024)], (1024, 768)),  # the largest box's need
        ((800, 600), [Box(256, 256, COVER)], (341, 256)),  # covering a cover box
        ((10, 1000), [Box(100, 100)], (1, 100)),
    ],
)
def test_render_size_just_covers_the_largest_box(intrinsic, boxes, size) -> None:
    assert svg.render_size(intrinsic, boxes) == size


# Real files


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.svg")), ids=lambda path: path.stem)
def test_real_files_make_png_thumbnails_that_fit_and_keep_transparency(path: Path) -> None:
    data = path.read_bytes()
    rendered = make_renditions(data, [Box(256, 256), Box(64, 64)], 50_000_000, source_formats=WITH_SVG)
    for thumbnail, box in zip(rendered.thumbnails, [Box(256, 256), Box(64, 64)], strict=True):
        image = Image.open(BytesIO(thumbnail.data))
        assert (thumbnail.format, image.format, image.mode) == ("PNG", "PNG", "RGBA")
        assert image.size == (thumbnail.width, thumbnail.height)
        assert max(image.size) == box.width and image.width <= box.width and image.height <= box.height
        width, height = rendered.source_size
        assert abs(image.width / image.height - width / height) < 2 / min(image.size)
    if path.stem != "resvg-chart-text":  # the one with an opaque background
        assert image.getextrema()[3][0] < 255  # some pixels at least partly transparent


def test_the_other_output_formats_come_from_the_same_render() -> None:
    from create_thumbnail.config import Encoding

    data = (FIXTURES / "resvg-blur-filter.svg").read_bytes()
    rendered = make_renditions(data, [Box(128, 128)], 50_000_000, Encoding(formats=("webp", "jpeg")),
                               source_formats=WITH_SVG)  # fmt: skip
    assert [(t.format, t.width, t.height) for t in rendered.thumbnails] == [("WEBP", 128, 128), ("JPEG", 128, 128)]


# Nothing is read: the hazard, then each way an SVG can name a file or a URL


def test_the_binding_alone_would_read_a_file_an_svg_names(red_png: Path) -> None:
    """Why svg.py never hands resvg the uploaded document: its loader opens the path."""
    import resvg_py

    png = resvg_py.svg_to_bytes(svg_string=document(f'<image width="100" height="100" href="{red_png}"/>').decode(),
                                skip_system_fonts=True)  # fmt: skip
    assert has_colour(Image.open(BytesIO(png)).convert("RGBA"), RED)


@pytest.mark.parametrize(
    "body",
    [
        '<image width="100" height="100" href="{path}"/>',
        '<image width="100" height="100" xlink:href="{path}"/>',
        '<image width="100" height="100" href="file://{path}"/>',
        '<image width="100" height="100" href="{name}"/>',  # relative to the working directory
        '<image width="100" height="100" href="http://127.0.0.1:9/{name}"/>',
        ('<filter id="f" x="0" y="0" width="1" height="1"><feImage href="{path}"/></filter>'
         '<rect width="100" height="100" filter="url(#f)"/>'),
        '<image width="100" height="100" href="data:image/svg+xml;base64,{nested}"/>',
        '<style>@import url("{css}");</style><rect width="100" height="100" fill="blue"/>',
        '<use href="{directory}/other.svg#a"/><rect width="100" height="100" fill="blue"/>',
        '<script>document.documentElement.innerHTML = ""</script><rect width="100" height="100" fill="blue"/>',
        ('<foreignObject width="100" height="100"><div xmlns="http://www.w3.org/1999/xhtml" '
         'style="background: red; width: 100px; height: 100px">x</div></foreignObject>'),
    ],
    ids=["href", "xlink-href", "file-url", "relative", "http", "feImage", "svg-image-naming-the-file",
         "css-import", "external-use", "script", "foreignObject"],
)  # fmt: skip
def test_nothing_an_svg_names_is_read(body: str, red_png: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "red.css").write_text("rect { fill: #ff0000 !important }")
    nested = base64.b64encode(document(f'<image width="100" height="100" href="{red_png}"/>')).decode()
    data = document(body.format(path=red_png, name=red_png.name, nested=nested, css=tmp_path / "red.css",
                                directory=tmp_path))  # fmt: skip
    assert not has_colour(render(data), RED)


def test_a_device_named_as_an_image_is_never_opened() -> None:
    """resvg's loader would read /dev/zero until memory ran out."""
    image = render(document('<image width="100" height="100" href="/dev/zero"/><rect width="10" height="10"/>'))
    assert image.getpixel((5, 5)) == (0, 0, 0, 255)


def test_a_real_file_linking_an_image_renders_without_it() -> None:
    image = render((FIXTURES / "resvg-external-png.svg").read_bytes())
    assert image.getpixel((50, 50))[3] == 0  # the frame is drawn, the linked image is not


def test_embedded_images_are_kept() -> None:
    image = render((FIXTURES / "resvg-nested-embedded-png.svg").read_bytes())
    assert len(image.getcolors(100 * 100) or []) > 50


# Hostile documents end typed, before resvg renders anything costly


def _entities(levels: int) -> bytes:
    declared = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels + 1)
    )
    return f'<!DOCTYPE svg [{declared}]><svg {NS} width="10" height="10"><desc>&lol{levels};</desc></svg>'.encode()


def _chain(levels: int) -> str:
    parts = ['<rect id="u0" width="1" height="1"/>'] + [
        f'<g id="u{i}"><use href="#u{i - 1}"/><use href="#u{i - 1}" x="1"/></g>' for i in range(1, levels + 1)
    ]
    return f"<defs>{''.join(parts)}</defs><use href='#u{levels}'/>"


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (_entities(9), ImageTooLarge),  # the billion laughs
        (f'<!DOCTYPE svg [<!ENTITY a "{"x" * 1000}">]><svg {NS} width="9" height="9"><desc>{"&a;" * 20000}</desc></svg>'
         .encode(), ImageTooLarge),  # one entity, many references: 20 MB
        (document("<g>" * 300 + "</g>" * 300), ImageTooLarge),
        (document("<rect/>" * (svg.MAX_ELEMENTS + 1)), ImageTooLarge),
        (document(_chain(30)), ImageTooLarge),  # 2^30 uses: resvg's own element limit
        (document("<filter id='f'>" + "<feGaussianBlur stdDeviation='3'/>" * 101 + "</filter>"), ImageTooLarge),
        (gzip.compress(document("<desc>" + " " * (svg.MAX_TEXT_BYTES + 1) + "</desc>")), ImageTooLarge),
        (document("<rect>"), NotAnImage),
        (document("", root='width="0" height="10"'), NotAnImage),
        (b'<svg width="10" height="10"><rect/></svg>', NotAnImage),  # no namespace: browsers show XML
        (gzip.compress(document(""))[:30], NotAnImage),
    ],
    ids=["billion-laughs", "entity-expansion", "depth", "elements", "use-chain", "filter-primitives",
         "svgz-bomb", "truncated", "zero-size", "no-namespace", "truncated-svgz"],
)  # fmt: skip
def test_hostile_documents_end_typed(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        render(data)


def test_a_cover_box_never_renders_a_shape_past_the_limits() -> None:
    with pytest.raises(ImageTooLarge, match="a side over|aspect ratio"):
        render(document("", root='width="1" height="100000"'), Box(100, 100, COVER))


def test_an_embedded_image_over_the_pixel_limit_is_refused() -> None:
    buffer = BytesIO()
    Image.new("L", (8000, 8000)).save(buffer, "PNG")
    href = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    with pytest.raises(ImageTooLarge, match="over the pixel limit"):
        make_renditions(document(f'<image href="{href}"/>'), [Box(64, 64)], 50_000_000 // 2 // 1000,
                        source_formats=WITH_SVG)  # fmt: skip


def test_nesting_deeper_than_an_8_mb_stack_holds_renders_on_its_own_thread() -> None:
    """50 groups inside each of 12 chained <use>: 600 levels, which crashed resvg on the main
    thread's 8 MB stack (at 256 levels)."""
    parts = ['<rect id="a0" width="50" height="50"/>'] + [
        f'<g id="a{i}">' + "<g>" * 50 + f'<use href="#a{i - 1}"/>' + "</g>" * 50 + "</g>" for i in range(1, 13)
    ]
    image = render(document(f"<defs>{''.join(parts)}</defs><use href='#a12'/>"))
    assert image.getpixel((10, 10)) == (0, 0, 0, 255)


def test_a_render_past_its_cpu_limit_is_stopped_and_too_large() -> None:
    """99 blurs on each of 50 overlapping squares: minutes of CPU, stopped by the kernel at
    svg.RENDER_CPU_S in the render's child process."""
    blurs = '<feGaussianBlur stdDeviation="5"/>' * 99
    rects = "".join(f'<rect x="{n}" y="{n}" width="90" height="90" filter="url(#f)"/>' for n in range(50))
    with pytest.raises(ImageTooLarge, match="of CPU to render"):
        render(document(f'<filter id="f">{blurs}</filter>{rects}'), Box(256, 256))


def test_a_render_past_its_memory_limit_is_stopped_and_too_large() -> None:
    """The same blurs over a region of 10^8 user units: resvg's buffers outgrow the child's
    address space before its CPU runs out."""
    blurs = '<feGaussianBlur stdDeviation="50 0.01"/>' * 99
    region = 'filterUnits="userSpaceOnUse" x="-100000" y="-100000" width="1e8" height="1e8"'
    rects = "".join(f'<rect x="{n % 50}" y="{n // 50}" width="9" height="9" filter="url(#f)"/>' for n in range(500))
    with pytest.raises(ImageTooLarge, match="memory allowed|of CPU to render"):
        render(document(f'<filter id="f" {region}>{blurs}</filter>{rects}'), Box(256, 256))


def test_the_budget_refuses_a_render_it_cannot_hold() -> None:
    with pytest.raises(ImageTooLarge, match="over the budget"):
        make_renditions(document(""), [Box(4000, 4000)], 50_000_000, budget=Budget(50 * 1024 * 1024),
                        source_formats=WITH_SVG)  # fmt: skip


def test_svg_is_imported_by_the_first_svg_not_at_cold_start() -> None:
    probe = """
import sys
from io import BytesIO
from PIL import Image
import create_thumbnail.app
from create_thumbnail.config import Box
from create_thumbnail.imaging import make_thumbnails
buffer = BytesIO()
Image.new("RGB", (640, 480)).save(buffer, "JPEG")
make_thumbnails(buffer.getvalue(), [Box(256, 256)], 50_000_000)
loaded = [name in sys.modules for name in ("create_thumbnail.imaging.readers.svg", "resvg_py")]
svg = b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4"><rect width="2" height="2"/></svg>'
make_thumbnails(svg, [Box(256, 256)], 50_000_000, source_formats=("svg",))
loaded += [name in sys.modules for name in ("create_thumbnail.imaging.readers.svg", "resvg_py")]
print(loaded)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})  # fmt: skip
    assert done.stdout.strip() == "[False, False, True, True]"
