"""Sample uploads, each with the outcome the handler must produce: pictures the project makes
itself (a camera RAW among them, in a DNG's shape, said to be made here), and a PDF, an SVG, a
phone's video clip and a JPEG XL photo other people made, taken from the test fixtures with their
credit.

Every picture made here is drawn upright with a red block in its top-left corner and an arrow
pointing up, so a wrongly oriented thumbnail is obvious at a glance and checkable by a pixel.
"""

from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Literal

from PIL import Image, ImageDraw

from local_run.inputs.icc_profiles import ADOBE_RGB, cmyk_profile, rgb_profile

Expect = Literal["created", "skipped", "failed"]

MARKER = (220, 30, 30)
# Real files the tests read, committed with their sources and licences (each folder's README.md):
# a fresh clone has them, and the editable install (scripts/bootstrap.sh) reads them in place.
FIXTURES = Path(__file__).resolve().parents[3] / "tests" / "fixtures"
# exif_transpose(stored) == upright, for stored = upright.transpose(_STORE[orientation]).
_STORE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@dataclass(frozen=True)
class Sample:
    key: str
    data: bytes
    content_type: str
    expect: Expect
    what: str
    metadata: tuple[tuple[str, str], ...] = ()  # x-amz-meta-* set at upload
    credit: str | None = None  # a file someone else made: where it came from and its licence
    made_here: str | None = None  # a file in a device's format that code here made: from what


@dataclass(frozen=True)
class RealFile:
    """A fixture someone else made, as its folder's README.md credits it."""

    path: str  # under tests/fixtures/
    repository: str
    source_path: str
    licence: str

    @property
    def credit(self) -> str:
        return f"from {self.repository}, {self.source_path}; {self.licence}; copied as tests/fixtures/{self.path}"

    def read(self) -> bytes:
        return (FIXTURES / self.path).read_bytes()


# The demo's PDF and SVG: real documents look like nothing code draws in a few lines.
PDF_SAMPLE = RealFile("pdf/photo-in-text.pdf", "py-pdf/sample-files", "003-pdflatex-image/pdflatex-image.pdf",
                      "CC-BY-SA-4.0")  # fmt: skip
SVG_SAMPLE = RealFile("svg/svgedit-arbelos.svg", "SVG-Edit/svgedit", "archive/examples/arbelos.svg", "MIT")
# A phone's 4K clip held upright, as cameras write it: stored sideways with a display matrix, its
# index after the media, so it is read in ranges (its README names the licence in its prose).
VIDEO_SAMPLE = RealFile("video/h264-4k-phone-portrait.mp4", "androidx/media",
                        "libraries/test_data/src/test/assets/media/mp4/portrait_4k60.mp4",
                        "Apache License 2.0")  # fmt: skip
# A photo the JPEG XL project's conformance suite keeps; its decoder is a layer, as video's is.
JXL_SAMPLE = RealFile("jxl/modular-lossy-xyb.jxl", "libjxl/conformance", "testcases/bicycles/input.jxl", "BSD-3-Clause")


def photo(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """Photo-like RGB: smooth colour fields plus sensor-like noise, so JPEG sizes and decode
    times resemble a camera's rather than a flat test card's."""
    rng = random.Random(seed)
    coarse = Image.new("RGB", (8, 6))
    coarse.putdata([tuple(rng.randrange(40, 230) for _ in range(3)) for _ in range(48)])
    base = coarse.resize(size, Image.Resampling.BICUBIC)
    noise = Image.effect_noise(size, 24).convert("RGB")
    return mark_upright(Image.blend(base, noise, 0.12))


def textured(size: tuple[int, int], seed: int = 0) -> Image.Image:
    """RGB with detail at every scale, as real photos have and photo() has not: hard-edged shapes
    and lines under octaves of noise, each octave twice the scale of the one before (roughly the
    1/f spectrum of natural images). A JPEG draft that just covers a box aliases it as it aliases
    a real photo: 2725x2225 to 1024 px, 34.8 dB against a full decode + LANCZOS from the 1/2
    draft, 47.2 from the full decode (a Flickr photo: 37.6 and 50.5)."""
    rng = random.Random(seed)
    width, height = size
    shapes = Image.new("RGB", size)
    draw = ImageDraw.Draw(shapes)
    for _ in range(400):
        x, y, r = rng.randrange(width), rng.randrange(height), rng.randrange(4, max(5, width // 6))
        colour = tuple(rng.randrange(30, 230) for _ in range(3))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    for _ in range(300):
        ends = [(rng.randrange(width), rng.randrange(height)) for _ in range(2)]
        colour = tuple(rng.randrange(256) for _ in range(3))
        draw.line(ends, fill=colour, width=rng.choice((1, 1, 2, 3)))
    octaves = Image.new("L", size, 128)
    for octave in range(7):
        coarse = (max(1, width >> octave), max(1, height >> octave))
        noise = Image.effect_noise(coarse, 64).resize(size, Image.Resampling.BICUBIC)
        octaves = Image.blend(octaves, noise, 0.35)
    return mark_upright(Image.blend(shapes, Image.merge("RGB", (octaves,) * 3), 0.35))


def mark_upright(image: Image.Image) -> Image.Image:
    """Red block top-left, arrow pointing up: the asymmetric marks orientation tests look for."""
    width, height = image.size
    side = max(1, min(width, height) // 5)
    draw = ImageDraw.Draw(image)
    fill = MARKER if image.mode in ("RGB", "RGBA") else 96
    draw.rectangle((0, 0, side - 1, side - 1), fill=fill)
    cx, top = width // 2, height // 10
    draw.polygon([(cx, top), (cx - side // 2, top + side), (cx + side // 2, top + side)], fill=fill)
    return image


def store_with_orientation(upright: Image.Image, orientation: int) -> tuple[Image.Image, Image.Exif]:
    """The pixels a camera would store, and the EXIF that says how to turn them upright."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = upright.transpose(_STORE[orientation]) if orientation in _STORE else upright.copy()
    return stored, exif


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = BytesIO()
    image.save(buffer, format=image_format, **options)
    return buffer.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, body, CRC over type and body."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def sixteen_bits(value: int) -> int:
    """v -> a 16-bit sample whose high byte is v and whose low byte differs from it, so that a
    reader comparing only one of the two bytes with a tRNS key is caught out."""
    return value << 8 | (value ^ 0xA5)


def rgb16_png(image: Image.Image, key: tuple[int, int, int] | None = None, exif: Image.Exif | None = None) -> bytes:
    """An 8-bit RGB image written as a 16-bit RGB PNG, each sample v as sixteen_bits(v), with a
    tRNS colour key given in 16 bits, and EXIF in an eXIf chunk. Pillow writes no 16-bit RGB
    PNG, and reads one back as 8-bit RGB."""
    width, height = image.size
    row_bytes = 3 * width
    raw = image.convert("RGB").tobytes()
    rows = b"".join(
        b"\x00" + b"".join(struct.pack(">H", sixteen_bits(value)) for value in raw[y * row_bytes : (y + 1) * row_bytes])
        for y in range(height)
    )
    chunks = [png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0))]
    if key is not None:
        chunks.append(png_chunk(b"tRNS", struct.pack(">HHH", *key)))
    if exif is not None:
        chunks.append(png_chunk(b"eXIf", exif.tobytes()))
    chunks += [png_chunk(b"IDAT", zlib.compress(rows)), png_chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def heif_bytes(image: Image.Image, exif: Image.Exif | None = None, **options: object) -> bytes:
    """A HEIC, made with pillow-heif's x265 encoder (a dev tool; the function ships pi-heif, which
    only decodes). It writes EXIF orientation as the HEIF transform a decoder applies."""
    import pillow_heif

    buffer = BytesIO()
    extra = {"exif": exif.tobytes()} if exif is not None else {}
    pillow_heif.from_pillow(image).save(buffer, quality=95, **extra, **options)
    return buffer.getvalue()


def two_discs(size: tuple[int, int] = (300, 200)) -> Image.Image:
    """A plain scene with a red disc at a fifth of the width and a blue one at 85%: attention
    takes the red one (more saturated), a focal point may ask for the blue."""
    image = Image.new("RGB", size, (150, 150, 140))
    draw = ImageDraw.Draw(image)
    width, height = size
    radius = height // 8
    for x, colour in ((width // 5, (230, 20, 20)), (width * 85 // 100, (90, 110, 200))):
        draw.ellipse((x - radius, height // 2 - radius, x + radius, height // 2 + radius), fill=colour)
    return image


def spinner_gif(frames: int = 8, side: int = 240) -> bytes:
    """An animated GIF of a bar turning through half a circle."""
    images = []
    for index in range(frames):
        image = Image.new("RGB", (side, side), (245, 240, 220))
        bar = Image.new("RGBA", (side * 3 // 4, side // 8), (30, 90, 200, 255))
        bar = bar.rotate(index * 180 / frames, expand=True)
        image.paste(bar, ((side - bar.width) // 2, (side - bar.height) // 2), bar)
        images.append(image)
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=120, loop=0)


def transparent_logo(size: tuple[int, int] = (1200, 800)) -> Image.Image:
    image = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.ellipse((width // 4, height // 6, 3 * width // 4, 5 * height // 6), fill=(30, 120, 220, 255))
    draw.rectangle((width // 3, height // 3, 2 * width // 3, 2 * height // 3), fill=(250, 200, 0, 160))
    return mark_upright(image)


def _sixteen_bit_ramp(size: tuple[int, int]) -> Image.Image:
    """Dark to light across the full 16-bit range: clipped to 8 bits it would be almost all white."""
    ramp = Image.linear_gradient("L").rotate(90).resize(size).convert("I").point(lambda v: v * 257)
    return mark_upright(ramp.convert("I;16"))


def demo_samples() -> list[Sample]:
    from local_run.inputs.camera_raw import dng  # it builds on this module: imported once both exist

    portrait = photo((1200, 1600), seed=2)
    stored, exif = store_with_orientation(portrait, 6)
    palette = mark_upright(photo((1000, 500), seed=3)).quantize(colors=64)
    return [
        Sample("photos/harbour-12mp.jpg", encode(photo((4000, 3000), seed=1), "JPEG", quality=90),
               "image/jpeg", "created", "12 MP camera-sized JPEG"),
        Sample("photos/portrait-exif6.jpg", encode(stored, "JPEG", quality=90, exif=exif),
               "image/jpeg", "created", "stored sideways, EXIF orientation 6"),
        Sample("graphics/logo-transparent.png", encode(transparent_logo(), "PNG"),
               "image/png", "created", "RGBA PNG with a transparent background"),
        Sample("graphics/palette-diagram.png", encode(palette, "PNG"),
               "image/png", "created", "64-colour palette PNG"),
        Sample("photos/Summer 2026/café + friends.JPG",
               encode(photo((2000, 1500), seed=4), "JPEG", quality=88),
               "image/jpeg", "created", "key with spaces, '+', non-ASCII, upper-case .JPG"),
        Sample("photos/adobe-rgb.jpg",
               encode(photo((2400, 1600), seed=5), "JPEG", quality=90,
                      icc_profile=rgb_profile("Adobe RGB (1998)", ADOBE_RGB)),
               "image/jpeg", "created", "Adobe RGB (1998) profile, converted to sRGB"),
        Sample("print/cmyk-with-profile.jpg",
               encode(photo((1600, 1200), seed=6).convert("CMYK"), "JPEG", quality=90,
                      icc_profile=cmyk_profile()),
               "image/jpeg", "created", "CMYK JPEG with a printer profile"),
        Sample("scans/16-bit-grey.png", encode(_sixteen_bit_ramp((1200, 800)), "PNG"),
               "image/png", "created", "16-bit grey ramp, scaled to 8 bits"),
        Sample("photos/two-discs.jpg", encode(two_discs((1800, 1200)), "JPEG", quality=90),
               "image/jpeg", "created", "cover box: attention finds the red disc"),
        Sample("photos/two-discs-focal.jpg", encode(two_discs((1800, 1200)), "JPEG", quality=90),
               "image/jpeg", "created", "cover box: x-amz-meta-focal-point on the blue disc",
               (("focal-point", "0.85,0.5"),)),
        Sample("phone/IMG_0001.heic", heif_bytes(photo((1512, 2016), seed=8)),
               "image/heic", "created", "a phone's HEIC, made a JPEG thumbnail"),
        Sample("graphics/spinner.gif", spinner_gif(), "image/gif", "created", "animated GIF, kept animated"),
        Sample("docs/chapter-with-photo.pdf", PDF_SAMPLE.read(), "application/pdf", "created",
               "A4 PDF, text and a photo: its first page, a JPEG thumbnail", credit=PDF_SAMPLE.credit),
        Sample("graphics/arbelos.svg", SVG_SAMPLE.read(), "image/svg+xml", "created",
               "SVG illustration, gradients and paths: rendered, a PNG thumbnail", credit=SVG_SAMPLE.credit),
        Sample("clips/phone-portrait-4k.mp4", VIDEO_SAMPLE.read(), "video/mp4", "created",
               "a phone's 4K clip, index after the media: its first frame, upright", credit=VIDEO_SAMPLE.credit),
        Sample("photos/bicycles.jxl", JXL_SAMPLE.read(), "image/jxl", "created",
               "JPEG XL photo, decoded by libjxl: a JPEG thumbnail", credit=JXL_SAMPLE.credit),
        # The real RAWs in the fixtures are stripped of whole previews (their README): none serves.
        Sample("photos/portrait-exif6.dng", dng((1200, 1600), 6, preview=(1200, 1600), picture=portrait),
               "image/x-adobe-dng", "created", "camera RAW, orientation 6: its full-size preview, turned upright",
               made_here="a DNG made here, its embedded preview being the demo's photo photos/portrait-exif6.jpg"),
        Sample("docs/notes.txt", b"Thumbnails land in the resized bucket.\n",
               "text/plain", "skipped", "not an image key"),
        Sample("uploads/error-page.jpg", b"<html><body>502 Bad Gateway</body></html>\n",
               "image/jpeg", "failed", "HTML saved as .jpg"),
    ]
