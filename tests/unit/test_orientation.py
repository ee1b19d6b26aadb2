"""The orientation is read the same way on every decoder path: Pillow's reading (the EXIF block,
else XMP's tiff:Orientation) of whatever the format carries it in, wherever in the file. A PNG
is decoded by libvips, which reads only an eXIf chunk before the pixels and no XMP: its metadata
is read by Pillow too, the chunks after the pixels included, without decoding them.

Each source is the grid's asymmetric picture (a block in its top-left third), stored turned as
a camera would store it and saying so in one place; the thumbnail must stand upright, at the
upright shape."""

from __future__ import annotations

import pytest
from local_run.inputs.grid import decode, upright
from local_run.inputs.samples import encode, heif_bytes, png_chunk, store_with_orientation
from PIL import Image, TiffImagePlugin

from create_thumbnail.config import ALL_SOURCE_FORMATS, Box
from create_thumbnail.imaging import make_thumbnails
from create_thumbnail.imaging.readers.registry import load_source
from tests.unit.test_imaging import _assert_marker_top_left

BOX = Box(100, 100)
SIZE = (300, 200)  # upright: wide


def _xmp(orientation: int) -> bytes:
    return (
        b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
        b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about=""'
        b' xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="%d"/></rdf:RDF></x:xmpmeta>'
        b'<?xpacket end="w"?>' % orientation
    )


def _png_with(stored: Image.Image, chunk: bytes, after_pixels: bool) -> bytes:
    """stored as a PNG with chunk before its first IDAT, or after its last."""
    data = encode(stored, "PNG")
    at = data.index(b"IEND") - 4 if after_pixels else data.index(b"IDAT") - 4
    return data[:at] + chunk + data[at:]


def _exif_chunk(exif: Image.Exif) -> bytes:
    return png_chunk(b"eXIf", exif.tobytes()[len(b"Exif\x00\x00") :])  # the chunk holds the TIFF header on


def _xmp_chunk(orientation: int) -> bytes:
    return png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + _xmp(orientation))


def _raw_profile_chunk(exif: Image.Exif) -> bytes:
    """ImageMagick's way: the EXIF block in hex, in a tEXt chunk."""
    payload = exif.tobytes()
    return png_chunk(b"tEXt", b"Raw profile type exif\x00\nexif\n%8d\n%s\n" % (len(payload), payload.hex().encode()))


def _tiff_with_xmp(stored: Image.Image, orientation: int) -> bytes:
    tags = TiffImagePlugin.ImageFileDirectory_v2()
    tags[700] = _xmp(orientation)  # XMP
    tags.tagtype[700] = 1  # BYTE
    return encode(stored, "TIFF", tiffinfo=tags)


def _source(path: str, orientation: int) -> bytes:
    """The upright picture stored turned, the orientation carried as path says."""
    stored, exif = store_with_orientation(upright("RGB", SIZE), orientation)
    return {
        "jpeg-exif": lambda: encode(stored, "JPEG", exif=exif, quality=95),
        "jpeg-xmp": lambda: encode(stored, "JPEG", xmp=_xmp(orientation), quality=95),
        "png-exif-before-pixels": lambda: _png_with(stored, _exif_chunk(exif), after_pixels=False),
        "png-exif-after-pixels": lambda: _png_with(stored, _exif_chunk(exif), after_pixels=True),
        "png-xmp-before-pixels": lambda: _png_with(stored, _xmp_chunk(orientation), after_pixels=False),
        "png-xmp-after-pixels": lambda: _png_with(stored, _xmp_chunk(orientation), after_pixels=True),
        "png-raw-profile-exif": lambda: _png_with(stored, _raw_profile_chunk(exif), after_pixels=False),
        "webp-exif": lambda: encode(stored, "WEBP", exif=exif, quality=95),
        "webp-xmp": lambda: encode(stored, "WEBP", xmp=_xmp(orientation), quality=95),
        "tiff-tag": lambda: encode(stored, "TIFF", exif=exif),
        "tiff-xmp": lambda: _tiff_with_xmp(stored, orientation),
        "avif-exif": lambda: encode(stored, "AVIF", exif=exif, quality=95),
        "avif-xmp": lambda: encode(stored, "AVIF", xmp=_xmp(orientation), quality=95),
        # HEIF turns by its own transform boxes, which libheif applies; pillow-heif writes EXIF
        # and XMP orientation as those, and pi-heif hands the image over upright.
        "heif-exif": lambda: heif_bytes(stored, exif),
        "heif-xmp": lambda: heif_bytes(stored, None, xmp=_xmp(orientation)),
    }[path]()


PATHS = [
    "jpeg-exif", "jpeg-xmp", "png-exif-before-pixels", "png-exif-after-pixels", "png-xmp-before-pixels",
    "png-xmp-after-pixels", "png-raw-profile-exif", "webp-exif", "webp-xmp", "tiff-tag", "tiff-xmp",
    "avif-exif", "avif-xmp", "heif-exif", "heif-xmp",
]  # fmt: skip


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("path", PATHS)
def test_every_decoder_path_stands_the_picture_upright(path, orientation):
    data = _source(path, orientation)
    [thumbnail] = make_thumbnails(data, [BOX], 50_000_000, source_formats=ALL_SOURCE_FORMATS)
    image = decode(thumbnail.data)
    assert image.size == (100, 67), "the upright shape: wide"
    _assert_marker_top_left(image, "RGB")


@pytest.mark.parametrize("path", ["png-exif-after-pixels", "png-xmp-after-pixels"])
def test_a_png_turned_by_a_chunk_after_its_pixels_is_shrunk_against_the_turned_boxes(path):
    """Known before the pixels are decoded, so the shrink-on-load sizes the stored pixels against
    the box turned with them: stored 240 x 1200, shown 1200 x 240, for a 400 x 100 box, they are
    shrunk by 2 (to 1.5 times the 400 x 80 target, turned back); against the box as given, by 8,
    to 30 x 150, and the thumbnail would be blown up from a sixth of the pixels it needs."""
    stored, _ = store_with_orientation(upright("RGB", (1200, 240)), 6)
    exif = Image.Exif()
    exif[0x0112] = 6
    chunk = _exif_chunk(exif) if path == "png-exif-after-pixels" else _xmp_chunk(6)
    loaded = load_source(_png_with(stored, chunk, after_pixels=True), [Box(400, 100)], 50_000_000)
    assert loaded.size == (1200, 240)
    assert loaded.image.size == (600, 120)


@pytest.mark.parametrize(
    "chunk",
    [
        png_chunk(b"zTXt", b"Raw profile type exif\x00\x00" + b"\x78\x9c" + b"\xff" * 40),  # not zlib
        png_chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x01\x00\x00\x00" + b"not zlib"),
        png_chunk(b"eXIf", b"XX\x00\x2a\xff\xff\xff\xff"),  # no byte order
        png_chunk(b"eXIf", b"MM\x00\x2a\x00\x00\x00\x08")[:-4] + b"\x00\x00\x00\x00",  # bad CRC
    ],
    ids=["ztxt-not-zlib", "itxt-not-zlib", "exif-no-byte-order", "exif-bad-crc"],
)
def test_metadata_after_the_pixels_that_cannot_be_read_is_metadata_we_do_not_have(chunk):
    """The pixels are good, as with a broken EXIF block: the PNG is made, taken as upright."""
    data = _png_with(upright("RGB", SIZE), chunk, after_pixels=True)
    [thumbnail] = make_thumbnails(data, [BOX], 50_000_000)
    _assert_marker_top_left(decode(thumbnail.data), "RGB")
