"""The valid images every mutation starts from, built in code: small (64-400 px) images of every
source format the function reads, in the modes and layouts a thumbnailer meets, some with ICC
profiles, AVIF and HEIF at 10 bits 4:4:4 with alpha (libvips' and pillow-heif's writers: Pillow's
writes 8 bits); camera RAWs in each make's shape (local_run.inputs.camera_raw) and two real
ones whose previews their publishers stripped (tests/fixtures/raw); the three hostile files of
local_run.inputs.hostile, which must end as ImageTooLarge, and a RAW with only sensor data, which
must end as NoUsablePreview.

Adding a seed is one line in SEEDS. Pixels are deterministic by construction (noise from
random.Random, not Image.effect_noise, whose C rand() state depends on what ran before), so
an input is the same bytes in every process and on every run. Videos alone are real files read
from tests/fixtures/video/ (VIDEO_SEEDS).
"""

from __future__ import annotations

import base64
import gzip
import random
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from io import BytesIO
from pathlib import Path

from local_run.inputs import camera_raw
from local_run.inputs.grid import COLOURS, heif_bytes, source_bytes
from local_run.inputs.hostile import PNG_SIGNATURE, scan_bomb_jpeg, tall_palette_png, wide_rgb16_png
from local_run.inputs.icc_profiles import ADOBE_RGB, cmyk_profile, grey_profile, rgb_profile
from local_run.inputs.samples import (
    MARKER,
    encode,
    mark_upright,
    png_chunk,
    rgb16_png,
    sixteen_bits,
    store_with_orientation,
    transparent_logo,
)
from PIL import Image

from create_thumbnail.imaging.formats import AVIF, GIF, HEIF, JPEG, JXL, PDF, PNG, RAW, SVG, TIFF, VIDEO, WEBP
from tests.fuzz import jxl_edits, pdf_edits

RGB_MODES = frozenset({"RGB", "RGBA", "P", "RGB;16", "RGBA;16"})
GREY_MODES = frozenset({"1", "L", "LA", "I;16"})
SIXTEEN_BIT_MODES = frozenset({"I;16", "RGB;16", "RGBA;16"})
TEN_BIT_MODES = frozenset({"RGBA;10"})  # AVIF and HEIF: 10 bits a sample, 4:4:4
# Colours present in the 16-bit seeds, as 16-bit samples: a tRNS key that matches pixels.
MARKER_16 = tuple(sixteen_bits(v) for v in MARKER)  # the marker block of photo()
GREY_MARKER_16 = COLOURS["I;16"][1]  # the marker block of grid.upright("I;16")


@dataclass(frozen=True, slots=True)
class Seed:
    name: str
    format: str  # the container the bytes are (an MPO is a JPEG), so mutations know the walker
    mode: str  # the stored pixels: a Pillow mode, or "RGB;16" etc. for 16 bits per sample
    build: Callable[[], bytes]
    # The same picture saved again with extra save options (icc_profile, exif, tiffinfo): how
    # metadata reaches formats whose containers the fuzzer does not splice by hand.
    resave: Callable[..., bytes] | None = None
    expect: str | None = None  # the one outcome allowed; such a seed is never mutated


def photo(size: tuple[int, int], seed: int, mode: str = "RGB") -> Image.Image:
    """Photo-like: smooth colour fields, per-pixel noise and the upright marker, so JPEG
    coefficients and PNG filters have real work to do."""
    rng = random.Random(seed)
    coarse = Image.new("RGB", (6, 4))
    coarse.putdata([tuple(rng.randrange(30, 230) for _ in range(3)) for _ in range(24)])
    base = coarse.resize(size, Image.Resampling.BICUBIC)
    noise = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    image = mark_upright(Image.blend(base, noise, 0.15))
    if mode in ("RGBA", "LA"):
        alpha = Image.linear_gradient("L").resize(size)
        image = image.convert(mode[0] if mode == "LA" else "RGB")
        image.putalpha(alpha)
        return image
    return image.convert(mode)


def _pillow(
    name: str, image_format: str, mode: str, picture: Callable[[], Image.Image], **options: object
) -> Seed:
    """A seed Pillow writes: its resave adds the fuzzer's metadata to the same options."""

    def resave(**extra: object) -> bytes:
        return encode(picture(), image_format, **{**options, **extra})

    return Seed(name, image_format, mode, resave, resave)


def _heif(name: str, mode: str, picture: Callable[[], Image.Image]) -> Seed:
    """pillow-heif takes the profile from the image's info and EXIF only as an Exif object."""

    def resave(icc_profile: bytes | None = None, exif: Image.Exif | None = None) -> bytes:
        image = picture()
        if icc_profile is not None:
            image.info["icc_profile"] = icc_profile
        return heif_bytes(image, exif)

    return Seed(name, HEIF, mode, resave, resave)


def _orientation_exif(value: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = value
    return exif.tobytes()


def _grey16(image: Image.Image) -> Image.Image:
    return image.convert("L").convert("I").point(lambda v: v * 257).convert("I;16")


def rgba16_png(image: Image.Image, key: tuple[int, ...] | None = None) -> bytes:
    """An RGBA image as a 16-bit RGBA PNG, each sample v as sixteen_bits(v), with a tRNS
    chunk if key is given, which the PNG spec forbids beside alpha (samples.rgb16_png's twin:
    Pillow writes no 16-bit RGBA PNG either)."""
    raw = image.convert("RGBA").tobytes()
    wide = bytearray(2 * len(raw))
    wide[0::2], wide[1::2] = raw, raw.translate(bytes(v ^ 0xA5 for v in range(256)))
    stride = 8 * image.width
    rows = b"".join(b"\0" + wide[y * stride : (y + 1) * stride] for y in range(image.height))
    header = image.width.to_bytes(4) + image.height.to_bytes(4) + bytes((16, 6, 0, 0, 0))
    chunks = [png_chunk(b"IHDR", header)]
    if key is not None:
        chunks.append(png_chunk(b"tRNS", b"".join(v.to_bytes(2) for v in key)))
    chunks += [png_chunk(b"IDAT", zlib.compress(rows)), png_chunk(b"IEND", b"")]
    return PNG_SIGNATURE + b"".join(chunks)


def avif_bytes(image: Image.Image, bits: int, chroma: str = "444") -> bytes:
    """An AVIF from libvips' writer (libheif and aom), which writes 10 and 12 bits where Pillow's
    writes 8 only. chroma "444" or "420"."""
    import pyvips

    bands = len(image.getbands())
    picture = pyvips.Image.new_from_memory(image.tobytes(), image.width, image.height, bands, "uchar")
    picture = picture.copy(interpretation="srgb")
    if bits > 8:
        picture = (picture.cast("ushort") * 257).copy(interpretation="rgb16")
    subsample = "off" if chroma == "444" else "on"
    return picture.heifsave_buffer(compression="av1", bitdepth=bits, Q=60, effort=0, strip=True, subsample_mode=subsample)


def heif_deep_bytes(image: Image.Image, bits: int, chroma: str = "444") -> bytes:
    """A HEIC from pillow-heif's x265 writer at 8 bits, or 10 from 16-bit samples."""
    import pillow_heif

    if bits == 8:
        heif = pillow_heif.from_pillow(image)
    else:
        raw = image.tobytes()
        wide = bytearray(2 * len(raw))
        wide[0::2], wide[1::2] = raw, raw
        heif = pillow_heif.from_bytes(mode=f"{image.mode};16", size=image.size, data=bytes(wide))
    buffer = BytesIO()
    heif.save(buffer, quality=60, chroma=int(chroma))
    return buffer.getvalue()


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<!-- drawn in code -->\n'


def svg_drawing(root: str = 'width="120mm" height="80mm" viewBox="0 0 120 80"', head: str = "") -> str:
    """A small SVG using what renderers spend on: a gradient, a transformed path, a blur, a
    clip path, <use>, an embedded PNG and text."""
    png = base64.b64encode(encode(photo((32, 24), 71), "PNG")).decode()
    return (
        f'{head}<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" {root}>'
        '<defs><linearGradient id="g"><stop offset="0" stop-color="#c33"/><stop offset="1" stop-color="#33c" '
        'stop-opacity="0.4"/></linearGradient><filter id="b"><feGaussianBlur stdDeviation="2"/></filter>'
        '<clipPath id="c"><circle cx="60" cy="40" r="35"/></clipPath><path id="p" d="M0 0 L20 5 L5 20 Z"/></defs>'
        '<rect x="5" y="5" width="110" height="70" rx="8" fill="url(#g)" clip-path="url(#c)"/>'
        '<use xlink:href="#p" transform="translate(70 10) rotate(30)" fill="green" filter="url(#b)"/>'
        f'<image x="10" y="50" width="32" height="24" href="data:image/png;base64,{png}"/>'
        '<text x="60" y="75" font-size="8">text</text></svg>'
    )


def _frames(size: tuple[int, int], count: int, seed: int) -> list[Image.Image]:
    return [photo(size, seed + n) for n in range(count)]


def _animated(image_format: str, frames: list[Image.Image], **options: object) -> bytes:
    return encode(frames[0], image_format, save_all=True, append_images=frames[1:], **options)


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _fixture(folder: str, name: str) -> bytes:
    """A real file, byte for byte (its source and licence: the folder's README)."""
    return (FIXTURES / folder / name).read_bytes()


def _exif_oriented(size: tuple[int, int], orientation: int, image_format: str) -> bytes:
    stored, exif = store_with_orientation(photo(size, 41), orientation)
    return encode(stored, image_format, exif=exif)


_ADOBE = rgb_profile("Adobe RGB (1998)", ADOBE_RGB)
_GREY, _CMYK = grey_profile(), cmyk_profile()

SEEDS: tuple[Seed, ...] = (
    _pillow("jpeg-baseline", JPEG, "RGB", lambda: photo((320, 240), 1), quality=90),
    _pillow("jpeg-progressive", JPEG, "RGB", lambda: photo((400, 300), 2), progressive=True),
    Seed("jpeg-exif-6", JPEG, "RGB", lambda: _exif_oriented((240, 160), 6, JPEG)),
    _pillow("jpeg-cmyk", JPEG, "CMYK", lambda: photo((200, 150), 3, "CMYK")),
    _pillow("jpeg-grey", JPEG, "L", lambda: photo((128, 96), 4, "L")),
    _pillow("jpeg-adobe-rgb", JPEG, "RGB", lambda: photo((300, 200), 5), icc_profile=_ADOBE),
    _pillow("jpeg-cmyk-icc", JPEG, "CMYK", lambda: photo((160, 120), 6, "CMYK"), icc_profile=_CMYK),
    _pillow("jpeg-grey-icc", JPEG, "L", lambda: photo((96, 64), 7, "L"), icc_profile=_GREY),
    Seed("mpo", JPEG, "RGB", lambda: _animated("MPO", _frames((160, 120), 2, 31), quality=90)),
    _pillow("png-rgb", PNG, "RGB", lambda: photo((240, 180), 11)),
    _pillow("png-rgba", PNG, "RGBA", lambda: transparent_logo((300, 200))),
    _pillow("png-palette-trns", PNG, "P", lambda: photo((200, 120), 51).quantize(64),
            transparency=0),
    _pillow("png-grey", PNG, "L", lambda: photo((160, 120), 12, "L")),
    _pillow("png-grey-alpha", PNG, "LA", lambda: photo((128, 128), 13, "LA")),
    _pillow("png-1-bit", PNG, "1", lambda: photo((256, 64), 14, "1")),
    _pillow("png-adobe-rgb", PNG, "RGB", lambda: photo((200, 200), 15), icc_profile=_ADOBE),
    _pillow("png-grey-icc", PNG, "L", lambda: photo((64, 64), 16, "L"), icc_profile=_GREY),
    Seed("png-grey-16", PNG, "I;16", lambda: source_bytes("I;16", (200, 100), PNG)),
    Seed("png-grey-16-trns", PNG, "I;16", lambda: source_bytes("I;16+tRNS", (100, 80), PNG)),
    Seed("png-rgb-16", PNG, "RGB;16", lambda: rgb16_png(photo((120, 90), 17))),
    Seed("png-rgb-16-trns", PNG, "RGB;16", lambda: rgb16_png(photo((150, 100), 18), MARKER_16)),
    Seed("png-rgba-16", PNG, "RGBA;16", lambda: rgba16_png(photo((96, 96), 19, "RGBA"))),
    Seed("png-rgba-16-trns", PNG, "RGBA;16",
         lambda: rgba16_png(photo((80, 64), 20, "RGBA"), MARKER_16)),
    _pillow("webp-lossy", WEBP, "RGB", lambda: photo((300, 200), 21), quality=80),
    _pillow("webp-lossless", WEBP, "RGBA", lambda: transparent_logo((200, 160)), lossless=True),
    Seed("webp-exif-8", WEBP, "RGB", lambda: _exif_oriented((160, 96), 8, WEBP)),
    Seed("webp-animated", WEBP, "RGB",
         lambda: _animated(WEBP, _frames((160, 120), 3, 61), duration=100, loop=0)),
    _pillow("avif-rgb", AVIF, "RGB", lambda: photo((200, 150), 22), quality=60),
    _pillow("avif-rgba", AVIF, "RGBA", lambda: transparent_logo((128, 128)), quality=60),
    Seed("avif-rgba-10-bit", AVIF, "RGBA;10", lambda: avif_bytes(photo((128, 128), 28, "RGBA"), 10)),
    _heif("heif-rgb", "RGB", lambda: photo((200, 150), 23)),
    _heif("heif-rgba", "RGBA", lambda: transparent_logo((128, 96))),
    Seed("heif-rgba-10-bit", HEIF, "RGBA;10", lambda: heif_deep_bytes(photo((128, 96), 29, "RGBA"), 10)),
    _pillow("tiff-rgb-lzw", TIFF, "RGB", lambda: photo((240, 160), 24), compression="tiff_lzw"),
    _pillow("tiff-jpeg", TIFF, "RGB", lambda: photo((160, 128), 26), compression="jpeg"),
    Seed("tiff-multipage", TIFF, "RGB",
         lambda: _animated(TIFF, _frames((160, 120), 3, 64), compression="tiff_adobe_deflate")),
    Seed("tiff-grey-16", TIFF, "I;16", lambda: source_bytes("I;16", (200, 100), TIFF)),
    _pillow("tiff-cmyk-icc", TIFF, "CMYK", lambda: photo((160, 120), 25, "CMYK"),
            compression="tiff_adobe_deflate", icc_profile=_CMYK),
    Seed("gif-palette", GIF, "P", lambda: encode(photo((200, 150), 27).quantize(64), GIF)),
    Seed("gif-transparent", GIF, "P", lambda: source_bytes("P+alpha", (160, 120), GIF)),
    Seed("gif-animated", GIF, "P",
         lambda: _animated(GIF, [f.quantize(32) for f in _frames((120, 90), 3, 67)], duration=100)),
    Seed("pdf-text", PDF, "RGB", pdf_edits.text_page),
    Seed("pdf-image", PDF, "RGB", lambda: pdf_edits.image_page(photo((200, 150), 71))),
    Seed("pdf-rotated-forms", PDF, "RGB", lambda: pdf_edits.rotated_form_page(photo((160, 120), 72))),
    Seed("svg-drawing", SVG, "RGBA", lambda: svg_drawing().encode()),
    Seed("svg-icon-viewbox", SVG, "RGBA", lambda: svg_drawing(root='viewBox="0 0 120 80"').encode()),
    Seed("svgz-drawing", SVG, "RGBA", lambda: gzip.compress(svg_drawing(head=_XML_HEAD).encode(), mtime=0)),
    # Camera RAWs, each make's shape with a preview that serves the 1024 px box, turned by the
    # RAW; two real ones (big-endian DNG, an ARW's SR2Private), which end as NoUsablePreview;
    # and a DNG with only sensor data, which must.
    Seed("raw-dng-preview", RAW, "RGB", lambda: camera_raw.dng((240, 160), 6, preview=(1100, 734), picture=photo((240, 160), 81))),
    Seed("raw-cr2-preview", RAW, "RGB", lambda: camera_raw.cr2_like((1100, 734), 8, picture=photo((1100, 734), 82))),
    Seed("raw-nef-preview", RAW, "RGB", lambda: camera_raw.nef_like((1100, 734), 3, picture=photo((1100, 734), 83))),
    Seed("raw-arw-preview", RAW, "RGB",
         lambda: camera_raw.arw_like((3000, 2000), (1100, 734), 1, picture=photo((1100, 734), 84))),
    Seed("raw-real-dng-big-endian", RAW, "RGB", lambda: _fixture("raw", "exiftool-DNG.dng")),
    Seed("raw-real-arw", RAW, "RGB", lambda: _fixture("raw", "file-type-sony-zv-e10.arw")),
    Seed("hostile-raw-sensor-only", RAW, "RGB", lambda: camera_raw.dng((160, 120), 8, picture=photo((160, 120), 85)),
         expect="NoUsablePreview"),
    Seed("jxl-rgb-lossy", JXL, "RGB", lambda: jxl_edits.jxl_bytes(photo((160, 120), 91), lossless=False)),
    Seed("jxl-rgba-lossless-exif-6", JXL, "RGBA", lambda: jxl_edits.jxl_bytes(
        photo((96, 72), 92, "RGBA"), lossless=True, container=True, exif=_orientation_exif(6))),
    Seed("jxl-grey-16", JXL, "I;16", lambda: jxl_edits.jxl_bytes(_grey16(photo((120, 80), 93)), lossless=True)),
    # Real files (tests/fixtures/jxl): orientation 7, and animations, which the encoder cannot write.
    Seed("jxl-oriented-7", JXL, "RGBA", lambda: jxl_edits.fixture("lossless-alpha-10bit-oriented-7.jxl")),
    Seed("jxl-animated-60", JXL, "RGB", lambda: jxl_edits.fixture("animated-60-frames.jxl")),
    Seed("jxl-animated-cropped", JXL, "RGBA", lambda: jxl_edits.fixture("animated-cropped-frames.jxl")),
    Seed("jxl-animated-in-jxlp-boxes", JXL, "RGBA",
         lambda: jxl_edits.in_jxlp_boxes(jxl_edits.fixture("animated-cropped-frames.jxl"))),
    Seed("hostile-tall-palette-png", PNG, "P", tall_palette_png, expect="ImageTooLarge"),
    Seed("hostile-wide-rgb16-png", PNG, "RGB;16", wide_rgb16_png, expect="ImageTooLarge"),
    Seed("hostile-scan-bomb-jpeg", JPEG, "RGB", scan_bomb_jpeg, expect="ImageTooLarge"),
)  # fmt: skip
# Videos are not made here but taken from real clips (tests/fixtures/video/README.md): an encoder
# to make them would be a test dependency of its own, and these are what phones and sites write.
VIDEO_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "video"
VIDEO_SEEDS = {
    "video-h264-mp4": "h264-landscape.mp4",
    "video-hevc-mp4": "hevc-black-first-frame.mp4",
    "video-h264-mov": "h264-bt601.mov",
    "video-vp9-webm": "vp9-square.webm",
    "video-mpeg2-ts": "mpeg2-transport-stream.ts",
    "video-mpeg4-avi": "mpeg4-part2.avi",
}
SEEDS += tuple(Seed(name, VIDEO, "RGB", lambda file=file: (VIDEO_FIXTURES / file).read_bytes())
               for name, file in VIDEO_SEEDS.items())  # fmt: skip
SEED_BY_NAME = {seed.name: seed for seed in SEEDS}
PDF_IMAGES = frozenset({"pdf-image", "pdf-rotated-forms"})  # the PDF seeds that draw an image


@cache
def seed_bytes(name: str) -> bytes:
    """Built once per process, on first use: a worker builds only the seeds it is given."""
    return SEED_BY_NAME[name].build()
