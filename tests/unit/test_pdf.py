"""PDF sources: the render scale (pure), the reader on real files (tests/fixtures/pdf/README.md),
the page a rule asks for, the typed refusals, and PDFium kept out of the cold start."""

from __future__ import annotations

import os
import subprocess
import sys
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from create_thumbnail.imaging.budget import MAX_SIDE, Budget
from create_thumbnail.config import (
    ALL_SOURCE_FORMATS,
    COVER,
    DEFAULT_SOURCE_FORMATS,
    MAX_PDF_PAGE,
    Box,
    Encoding,
    Reading,
    Rule,
)
from create_thumbnail.errors import EncryptedDocument, ImageTooLarge, NotAnImage
from create_thumbnail.imaging import make_renditions, make_thumbnails
from create_thumbnail.imaging.formats import PDF, source_output
from create_thumbnail.imaging.readers.registry import load_source
from create_thumbnail.imaging.readers.sniff import sniff_format
from create_thumbnail.naming import expected_keys, skip_reason
from create_thumbnail.imaging.readers.pdf import (
    MAX_PAGE_POINTS,
    check_page,
    estimate_render,
    page_to_render,
    render_scale,
    rendered_size,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pdf"
A4 = (595.276, 841.89)
MAX_PIXELS = 50_000_000
WITH_PDF = (*DEFAULT_SOURCE_FORMATS, "pdf")


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


# --- the scale, pure ---------------------------------------------------------------------------


@pytest.mark.parametrize("page", [A4, A4[::-1], (612.0, 792.0), (200.0, 50.0), (3.84, 3.84), (14_400.0, 300.0),
                                  (595.2755737304688, 841.8897705078125), (841.8897705078125, 595.2755737304688)])
@pytest.mark.parametrize("box", [Box(256, 256), Box(1024, 1024), Box(300, 100), Box(150, 150, COVER), Box(64, 512, COVER)])
def test_the_render_just_covers_the_box_never_a_pixel_more(page, box):
    size = rendered_size(page, render_scale(page, [box], MAX_PIXELS))
    if box.fit == COVER:  # covers the box, and one side is exactly the box's
        assert size[0] >= box.width and size[1] >= box.height
        assert size[0] == box.width or size[1] == box.height
    else:  # fits, touching the box on one side: no resample after the render
        assert size[0] <= box.width and size[1] <= box.height
        assert size[0] == box.width or size[1] == box.height
    aspect = page[0] / page[1]
    assert abs(size[0] - size[1] * aspect) <= max(1, aspect)


def test_the_largest_box_decides_the_scale():
    boxes = [Box(256, 256), Box(1024, 1024), Box(150, 150, COVER)]
    assert rendered_size(A4, render_scale(A4, boxes, MAX_PIXELS)) == (725, 1024)
    # a cover box of a wide aspect needs the page's width: more than the 1024 fit box
    assert rendered_size(A4, render_scale(A4, [Box(1024, 1024), Box(1600, 400, COVER)], MAX_PIXELS))[0] == 1600


def test_max_source_pixels_and_the_longest_side_cap_the_render():
    width, height = rendered_size(A4, render_scale(A4, [Box(4096, 4096, COVER)], 1_000_000))
    assert 990_000 < width * height <= 1_000_000
    long_page = (100.0, 100_000.0)
    size = rendered_size(long_page, render_scale(long_page, [Box(4096, 4096, COVER)], 10**12))
    assert max(size) == MAX_SIDE
    for max_pixels in (1, 2, 3, 999, 65_536, 1_000_001):  # each side rounded up, never past the cap
        width, height = rendered_size((7.0, 3.0), render_scale((7.0, 3.0), [Box(4096, 4096)], max_pixels))
        assert width * height <= max(1, max_pixels)


@pytest.mark.parametrize("size", [(0.0, 792.0), (612.0, -1.0), (float("nan"), 10.0), (float("inf"), 10.0)])
def test_a_page_without_area_is_not_an_image(size):
    with pytest.raises(NotAnImage, match="has no area"):
        check_page(size)


def test_a_page_box_past_any_drawing_is_too_large():
    check_page((MAX_PAGE_POINTS, 10.0))
    with pytest.raises(ImageTooLarge, match="a side over 1,440,000 pt"):
        check_page((595.0, MAX_PAGE_POINTS + 1))


def test_images_the_page_draws_are_budgeted_up_to_what_pdfium_keeps():
    plain = estimate_render((725, 1024), [Box(1024, 1024)], [])
    small = estimate_render((725, 1024), [Box(1024, 1024)], [(1000, 1000)])
    huge = estimate_render((725, 1024), [Box(1024, 1024)], [(60_000, 60_000)])
    assert small - plain == 4 * 1000 * 1000 + 4 * 1024 * 1000  # held whole, and resampled to 1024 px
    # streamed past PDFium's 60 MB, never the 14 GB decoded; its resampling buffer still counts
    assert huge - plain == 60_000_000 + 4 * 1024 * 60_000


# --- the reader on real files ------------------------------------------------------------------


@pytest.mark.parametrize(("name", "thumbnail"), [
    ("vector-text.pdf", (182, 256)),
    ("scanned-greyscale.pdf", (185, 256)),
    ("photo-in-text.pdf", (182, 256)),
    ("rotated-90.pdf", (256, 182)),  # /Rotate 90 turns the A4 page on its side
])  # fmt: skip
def test_a_real_pdf_gives_its_first_page_fitted_as_jpeg_by_default(name, thumbnail):
    data = fixture(name)
    assert sniff_format(data) == PDF
    [made] = make_thumbnails(data, [Box(256, 256)], MAX_PIXELS, source_formats=WITH_PDF)
    image = Image.open(BytesIO(made.data))
    assert (made.format, image.format, image.mode) == ("JPEG", "JPEG", "RGB")
    assert image.size == (made.width, made.height) == thumbnail
    assert ImageStat.Stat(image.convert("L")).extrema[0][0] < 200  # something was drawn on the white


def test_the_source_size_is_the_page_in_points_upright():
    rendered = make_renditions(fixture("rotated-90.pdf"), [Box(256, 256)], MAX_PIXELS, source_formats=WITH_PDF)
    assert rendered.source_size == (842, 595)


def test_a_rotated_page_is_rendered_as_rotate_says():
    """The fixture's fourth page is the first without its /Rotate 90: turned 90 degrees
    clockwise, as a viewer shows /Rotate 90, it must be the picture of the first."""
    import pypdfium2

    data = fixture("rotated-90.pdf")
    loaded = load_source(data, [Box(512, 512)], MAX_PIXELS)
    document = pypdfium2.PdfDocument(data)
    unrotated = document[3]
    assert unrotated.get_rotation() == 0 and document[0].get_rotation() == 90
    scale = loaded.image.height / unrotated.get_width()
    upright = unrotated.render(scale=scale, rev_byteorder=True).to_pil().convert("RGB")
    turned = upright.transpose(Image.Transpose.ROTATE_270).resize(loaded.image.size)
    assert _mean_difference(loaded.image, turned) < 3
    assert _mean_difference(loaded.image, turned.transpose(Image.Transpose.ROTATE_180)) > 3 * _mean_difference(loaded.image, turned)


@pytest.mark.parametrize(("page", "thumbnail", "points"), [
    (1, (256, 182), (842, 595)),  # /Rotate 90: on its side
    (2, (182, 256), (595, 842)),  # /Rotate 180: upright in shape, upside down
    (3, (256, 182), (842, 595)),  # /Rotate 270
    (4, (182, 256), (595, 842)),  # no /Rotate
])  # fmt: skip
def test_the_rules_page_is_the_one_rendered_with_its_own_rotation_and_size(page, thumbnail, points):
    notes: list[str] = []
    rendered = make_renditions(fixture("rotated-90.pdf"), [Box(256, 256)], MAX_PIXELS, warn=notes.append,
                               source_formats=WITH_PDF, reading=Reading(page=page))  # fmt: skip
    [made] = rendered.thumbnails
    assert Image.open(BytesIO(made.data)).size == (made.width, made.height) == thumbnail
    assert rendered.source_size == points
    assert notes == []


def test_each_page_comes_out_turned_as_its_own_rotate_says():
    """The fixture's pages hold the same short line of text, near the top left corner of the
    unrotated page 4. Page 2 (/Rotate 180) must show it near the bottom right, and turned half
    a turn be page 4; page 1 (/Rotate 90, clockwise) near the top right of a landscape page."""
    data = fixture("rotated-90.pdf")
    first, second, fourth = (load_source(data, [Box(512, 512)], MAX_PIXELS, reading=Reading(page=page)).image
                             for page in (1, 2, 4))  # fmt: skip
    assert first.size == (512, 363) and second.size == fourth.size == (363, 512)
    assert _corner(fourth) == "top left" and _corner(second) == "bottom right" and _corner(first) == "top right"
    turned = _ink(second.transpose(Image.Transpose.ROTATE_180))
    assert all(abs(a - b) <= 2 for a, b in zip(turned, _ink(fourth), strict=True))


def _ink(image: Image.Image) -> tuple[int, int, int, int]:
    """The box around the page's dark pixels: where its text is."""
    box = image.convert("L").point(lambda value: 255 if value < 192 else 0).getbbox()
    assert box is not None, "nothing drawn"
    return box


def _corner(image: Image.Image) -> str:
    left, top, right, bottom = _ink(image)
    across = "left" if right < image.width / 2 else "right" if left > image.width / 2 else "middle"
    down = "top" if bottom < image.height / 2 else "bottom" if top > image.height / 2 else "middle"
    return f"{down} {across}"


def test_the_default_reading_is_the_first_page():
    data = fixture("rotated-90.pdf")
    default = load_source(data, [Box(256, 256)], MAX_PIXELS)
    first = load_source(data, [Box(256, 256)], MAX_PIXELS, reading=Reading(page=1))
    assert default.image.tobytes() == first.image.tobytes() and default.notes == first.notes == ()


@pytest.mark.parametrize(("name", "page", "last", "note"), [
    ("vector-text.pdf", 2, 1, "a PDF of 1 page: page 2 was asked for, its last page rendered instead"),
    ("rotated-90.pdf", 5, 4, "a PDF of 4 pages: page 5 was asked for, its last page rendered instead"),
    ("rotated-90.pdf", MAX_PDF_PAGE, 4, "a PDF of 4 pages: page 8,388,607 was asked for, its last page rendered instead"),
])  # fmt: skip
def test_a_pdf_shorter_than_the_page_gives_its_last_page_with_a_warning(name, page, last, note):
    notes: list[str] = []
    data = fixture(name)
    asked = make_renditions(data, [Box(256, 256)], MAX_PIXELS, warn=notes.append, source_formats=WITH_PDF,
                            reading=Reading(page=page))  # fmt: skip
    assert notes == [note]
    rendered_last = make_renditions(data, [Box(256, 256)], MAX_PIXELS, source_formats=WITH_PDF, reading=Reading(page=last))
    assert asked.thumbnails[0].data == rendered_last.thumbnails[0].data
    assert asked.source_size == rendered_last.source_size


def test_the_page_rendered_is_the_one_asked_or_the_last():
    assert page_to_render(1, 1) == (1, ())
    assert page_to_render(4, 4) == (4, ())
    assert page_to_render(5, 4)[0] == 4 and page_to_render(2, 1)[0] == 1
    assert page_to_render(2, 1)[1] == ("a PDF of 1 page: page 2 was asked for, its last page rendered instead",)


def test_another_page_of_a_page_pdfium_cannot_load_is_not_an_image_either():
    """The page asked for is only loaded: past the end of a broken file is its last page, still broken."""
    with pytest.raises(NotAnImage, match="Failed to load page"):
        make_thumbnails(fixture("broken-page.pdf"), [Box(256, 256)], MAX_PIXELS, source_formats=WITH_PDF,
                        reading=Reading(page=3))  # fmt: skip


def _mean_difference(a: Image.Image, b: Image.Image) -> float:
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("L"), b.convert("L"))).mean)


def test_a_cover_box_is_exactly_the_box():
    made = make_thumbnails(fixture("vector-text.pdf"), [Box(150, 150, COVER), Box(300, 100, COVER)], MAX_PIXELS,
                           source_formats=WITH_PDF)  # fmt: skip
    assert [(t.width, t.height) for t in made] == [(150, 150), (300, 100)]


def test_an_encrypted_pdf_is_a_typed_permanent_failure():
    with pytest.raises(EncryptedDocument, match="needs a password") as caught:
        make_thumbnails(fixture("encrypted-open-password.pdf"), [Box(256, 256)], MAX_PIXELS, source_formats=WITH_PDF)
    assert isinstance(caught.value, NotAnImage)
    assert type(caught.value.__cause__).__name__ == "PdfiumError"


@pytest.mark.parametrize("cut", [5, 100, 4096, 12_000, 16_900])
def test_a_truncated_pdf_is_not_an_image(cut):
    with pytest.raises(NotAnImage, match="could not read the PDF") as caught:
        make_thumbnails(fixture("vector-text.pdf")[:cut], [Box(256, 256)], MAX_PIXELS, source_formats=WITH_PDF)
    assert type(caught.value.__cause__).__name__ == "PdfiumError"


def test_a_page_pdfium_cannot_load_is_not_an_image():
    with pytest.raises(NotAnImage, match="Failed to load page"):
        make_thumbnails(fixture("broken-page.pdf"), [Box(256, 256)], MAX_PIXELS, source_formats=WITH_PDF)


def test_a_huge_page_box_is_refused_before_rendering():
    with pytest.raises(ImageTooLarge, match="a side over"):
        make_thumbnails(fixture("huge-page-box.pdf"), [Box(256, 256)], MAX_PIXELS, source_formats=WITH_PDF)


def test_a_render_over_the_budget_is_refused():
    with pytest.raises(ImageTooLarge, match="over the budget"):
        make_thumbnails(fixture("vector-text.pdf"), [Box(4096, 4096)], MAX_PIXELS, budget=Budget(50 * 1024 * 1024),
                        source_formats=WITH_PDF)  # fmt: skip


def test_animation_kept_does_not_look_for_frames_in_a_pdf():
    made = make_thumbnails(fixture("vector-text.pdf"), [Box(256, 256)], MAX_PIXELS, Encoding(animated=True),
                           source_formats=WITH_PDF)  # fmt: skip
    assert [t.frames for t in made] == [1]


# --- settings, sniffing and names --------------------------------------------------------------


def test_pdf_is_off_by_default_and_refused_by_name():
    assert "pdf" in ALL_SOURCE_FORMATS and "pdf" not in DEFAULT_SOURCE_FORMATS
    assert skip_reason("docs/a.pdf", DEFAULT_SOURCE_FORMATS) == "not a .jpg/.jpeg/.png key"
    with pytest.raises(NotAnImage, match="a PDF image, which SOURCE_FORMATS does not include"):
        make_thumbnails(fixture("vector-text.pdf"), [Box(256, 256)], MAX_PIXELS)


def test_a_pdf_key_is_taken_with_pdf_on_and_its_thumbnail_is_named_jpg():
    assert skip_reason("docs/A.PDF", WITH_PDF) is None
    rule = Rule(sizes=(Box(256, 256),), encoding=Encoding())
    assert [key for _, key in expected_keys("docs/a.pdf", rule, WITH_PDF)] == ["256x256/docs/a.pdf.jpg"]
    assert source_output(PDF, alpha=True, animated=True) == "JPEG"


def test_only_the_header_at_the_start_is_a_pdf():
    assert sniff_format(b"%PDF-1.7\n") == PDF
    with pytest.raises(NotAnImage):
        sniff_format(b"\n%PDF-1.7\n")


# --- cold start --------------------------------------------------------------------------------


def test_pdfium_is_loaded_by_the_first_pdf_not_at_cold_start():
    """A function that never sees a PDF never loads PDFium (nor pi-heif for want of a HEIF)."""
    probe = f"""
import sys
from io import BytesIO
from PIL import Image
import create_thumbnail.app
from create_thumbnail.config import Box
from create_thumbnail.imaging import make_thumbnails
def saved(image_format):
    buffer = BytesIO()
    Image.linear_gradient("L").convert("RGB").save(buffer, image_format)
    return buffer.getvalue()
formats = ("jpeg", "png", "pdf")
loaded = [("pypdfium2" in sys.modules, "pi_heif" in sys.modules)]
make_thumbnails(saved("JPEG"), [Box(64, 64)], 50_000_000, source_formats=formats)
make_thumbnails(saved("PNG"), [Box(64, 64)], 50_000_000, source_formats=formats)
loaded.append(("pypdfium2" in sys.modules, "pi_heif" in sys.modules))
make_thumbnails(open({str(FIXTURES / "vector-text.pdf")!r}, "rb").read(), [Box(64, 64)], 50_000_000, source_formats=formats)
loaded.append(("pypdfium2" in sys.modules, "pi_heif" in sys.modules))
print(loaded)
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})  # fmt: skip
    assert done.stdout.strip() == "[(False, False), (False, False), (True, False)]"
