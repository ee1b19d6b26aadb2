"""PDFs built in code, and edits to them: the xref, the page's MediaBox and /Rotate, nesting that
a parser walks recursively, and an image's declared size. Every edit is made on the objects and
the file written again with a correct xref (but for the xref edits themselves), so it lands
where it says rather than in PDFium's repair of a broken file."""

from __future__ import annotations

import re
import zlib
from random import Random

from PIL import Image

Mutated = tuple[bytes, str]
_OBJECT = re.compile(rb"(\d+) 0 obj\n(.*?)\nendobj\n", re.DOTALL)
_PAGE = 3  # the page is always object 3: catalog 1, pages 2


def write(objects: list[bytes]) -> bytes:
    """Objects numbered from 1 (the catalog first), a classic xref table and trailer."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def objects_of(data: bytes) -> list[bytes]:
    """The objects of a file write() made, in order."""
    return [body for _, body in _OBJECT.findall(data)]


def stream(data: bytes, entries: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n%s\nendstream" % (len(data), entries, data)


def _image(picture: Image.Image) -> bytes:
    rgb = picture.convert("RGB")
    entries = b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceRGB " % rgb.size
    return stream(zlib.compress(rgb.tobytes()), entries + b"/BitsPerComponent 8 /Filter /FlateDecode")


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_DRAWING = (b"0.9 0.2 0.1 rg 72 600 200 120 re f 0 0 1 RG 4 w 72 72 m 300 400 500 100 540 700 c S "
            b"BT /F1 36 Tf 72 720 Td (Thumbnail) Tj ET")  # fmt: skip


def text_page() -> bytes:
    """Text in a base-14 font, a filled rectangle and a stroked curve on a letter page."""
    return write([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        stream(_DRAWING),
        _FONT,
    ])  # fmt: skip


def image_page(picture: Image.Image) -> bytes:
    """A scan: one Flate-compressed RGB image filling an A5 page, and a line of text on it."""
    content = b"q 420 0 0 595 0 0 cm /Im0 Do Q BT /F1 12 Tf 20 20 Td (page 1) Tj ET"
    return write([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 420 595] "
        b"/Resources << /XObject << /Im0 5 0 R >> /Font << /F1 6 0 R >> >> /Contents 4 0 R >>",
        stream(content),
        _image(picture),
        _FONT,
    ])  # fmt: skip


def rotated_form_page(picture: Image.Image) -> bytes:
    """/Rotate 90, the drawing and an image inside a Form XObject inside another."""
    return write([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Rotate 90 "
        b"/Resources << /XObject << /Fm0 5 0 R >> >> /Contents 4 0 R >>",
        stream(b"/Fm0 Do"),
        stream(b"/Fm1 Do q 100 0 0 75 400 100 cm /Im0 Do Q",
               b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /XObject << /Fm1 6 0 R /Im0 7 0 R >> >>"),
        stream(_DRAWING, b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << /Font << /F1 8 0 R >> >>"),
        _image(picture),
        _FONT,
    ])  # fmt: skip


def _edit_page(data: bytes, edit) -> bytes:
    objects = objects_of(data)
    objects[_PAGE - 1] = edit(objects[_PAGE - 1])
    return write(objects)


def xref(data: bytes, seed: object, rng: Random) -> Mutated:
    """The cross-reference table or the startxref pointer wrong: PDFium rebuilds it by scanning,
    or gives up."""
    start = data.rindex(b"\nxref\n") + 1  # not the one in startxref
    kind = rng.choice(["flip", "startxref", "offsets", "drop", "count"])
    edited = bytearray(data)
    if kind == "flip":
        for _ in range(rng.randrange(1, 9)):
            edited[rng.randrange(start, len(data))] = rng.randrange(256)
        return bytes(edited), "bytes of the xref and trailer overwritten"
    if kind == "startxref":
        value = rng.choice([0, 1, start - 1, start + 1, len(data), 2**31 - 1, 2**63, rng.randrange(len(data))])
        return re.sub(rb"startxref\n\d+", b"startxref\n%d" % value, data), f"startxref -> {value}"
    if kind == "offsets":
        entries = [m.start() for m in re.finditer(rb"\d{10} 00000 n", data)]
        at = rng.choice(entries)
        value = rng.choice([0, len(data), 9_999_999_999, rng.randrange(len(data))])
        return data[:at] + b"%010d" % value + data[at + 10 :], f"an xref offset -> {value}"
    if kind == "drop":
        return data[:start] + data[data.index(b"trailer", start) :], "the xref table removed"
    count = rng.choice([0, 1, 2**31 - 1, 10**12])
    return re.sub(rb"xref\n0 \d+", b"xref\n0 %d" % count, data), f"xref count -> {count}"


_BOXES = [
    b"[0 0 0 0]", b"[0 0 -612 792]", b"[612 792 0 0]", b"[0 0 14400 14400]", b"[0 0 1440001 10]",
    b"[0 0 1 100000]", b"[0 0 3 3]", b"[0 0 0.001 792]", b"[0 0 2147483647 2147483647]",
    b"[0 0 1e30 1e30]", b"[0 0 99999999999999999999999999999999999999999 1]", b"[0 0 612]", b"[]",
    b"[/a /b /c /d]", b"null", b"[0 0 612 792] /UserUnit 75000", b"[0 0 612 792] /CropBox [0 0 1 1]",
    b"[0 0 612 792] /CropBox [-1e9 -1e9 1e9 1e9]",
]  # fmt: skip


def mediabox(data: bytes, seed: object, rng: Random) -> Mutated:
    """The page's MediaBox: empty, inverted, past PDF's 14,400 units, past any float, not a box."""
    box = rng.choice(_BOXES)
    return _edit_page(data, lambda page: re.sub(rb"/MediaBox \[[^\]]*\]", b"/MediaBox " + box, page)), (
        f"MediaBox -> {box.decode()}"
    )


_ROTATIONS = [b"45", b"-90", b"450", b"1e9", b"2147483647", b"-2147483648", b"0.5", b"null", b"/Ninety", b"270"]


def rotate(data: bytes, seed: object, rng: Random) -> Mutated:
    """/Rotate is a multiple of 90 by the spec: anything else, and large multiples."""
    value = rng.choice(_ROTATIONS)

    def edit(page: bytes) -> bytes:
        page = re.sub(rb" /Rotate \S+", b"", page)
        return page.replace(b"/Type /Page ", b"/Type /Page /Rotate " + value + b" ", 1)

    return _edit_page(data, edit), f"/Rotate {value.decode()}"


def deep_nesting(data: bytes, seed: object, rng: Random) -> Mutated:
    """What a recursive parser or renderer walks: arrays and dictionaries nested thousands deep,
    a Form XObject that draws itself, a long chain of forms, unbalanced q operators."""
    kind = rng.choice(["arrays", "dicts", "self-form", "form-chain", "q-stack", "content-arrays"])
    depth = rng.choice([100, 1_000, 10_000, 100_000])
    objects = objects_of(data)
    page = objects[_PAGE - 1]
    if kind == "arrays":
        objects[_PAGE - 1] = page.replace(b"/Type /Page ", b"/Type /Page /Junk " + b"[" * depth + b"]" * depth + b" ", 1)
    elif kind == "dicts":
        nested = b"<< /A " * depth + b"1" + b" >>" * depth
        objects[_PAGE - 1] = page.replace(b"/Type /Page ", b"/Type /Page /Junk " + nested + b" ", 1)
    elif kind == "self-form":
        number = len(objects) + 1
        objects.append(stream(b"/Fs Do", b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] "
                              b"/Resources << /XObject << /Fs %d 0 R >> >>" % number))  # fmt: skip
        objects[_PAGE - 1] = re.sub(rb"/Contents \d+ 0 R", b"/Contents %d 0 R" % (number + 1), page)
        objects[_PAGE - 1] = objects[_PAGE - 1].replace(b"/Resources <<", b"/Resources << /XObject << /Fs %d 0 R >>" % number, 1)
        objects.append(stream(b"/Fs Do"))
        depth = 0
    elif kind == "form-chain":
        depth = min(depth, 2_000)
        first = len(objects) + 1
        for n in range(depth):
            objects.append(stream(b"/Fn Do 1 0 0 rg 0 0 10 10 re f",
                                  b"/Type /XObject /Subtype /Form /BBox [0 0 612 792] "
                                  b"/Resources << /XObject << /Fn %d 0 R >> >>" % (first + n + 1)))  # fmt: skip
        objects.append(stream(b"0 0 1 rg 0 0 5 5 re f", b"/Type /XObject /Subtype /Form /BBox [0 0 612 792]"))
        objects.append(stream(b"/Fn Do"))
        page = re.sub(rb"/Contents \d+ 0 R", b"/Contents %d 0 R" % len(objects), page)
        objects[_PAGE - 1] = page.replace(b"/Resources <<", b"/Resources << /XObject << /Fn %d 0 R >>" % first, 1)
    else:
        content = b"q " * depth if kind == "q-stack" else b"[" * depth + b"]" * depth + b" pop"
        objects.append(stream(content + b" 0 0 1 rg 0 0 50 50 re f"))
        objects[_PAGE - 1] = re.sub(rb"/Contents \d+ 0 R", b"/Contents %d 0 R" % len(objects), page)
    return write(objects), f"{kind}, {depth:,} deep"


def image_size(data: bytes, seed: object, rng: Random) -> Mutated:
    """An image's /Width and /Height set past what its data holds, to edges of the pixel limit,
    to 0, or beyond 32 bits; now and then its bits per component too."""
    from tests.fuzz.structure import dimension

    objects = objects_of(data)
    index = next(i for i, body in enumerate(objects) if b"/Subtype /Image" in body)
    body = objects[index]
    width, height = (int(v) for v in re.search(rb"/Width (\d+) /Height (\d+)", body).groups())
    largest = rng.choice([2**31 - 1, 2**32, 2**53])
    new_width, new_height = dimension(rng, width, height, largest), dimension(rng, height, width, largest)
    body = body.replace(b"/Width %d /Height %d" % (width, height), b"/Width %d /Height %d" % (new_width, new_height))
    what = f"image {width}x{height} -> {new_width}x{new_height}"
    if rng.random() < 0.3:
        bits = rng.choice([1, 2, 4, 16, 0, 3, 32])
        body = body.replace(b"/BitsPerComponent 8", b"/BitsPerComponent %d" % bits)
        what += f", {bits} bits"
    objects[index] = body
    return write(objects), what


def has_image(seed: object) -> bool:
    from tests.fuzz.seeds import PDF_IMAGES

    return getattr(seed, "name", None) in PDF_IMAGES
