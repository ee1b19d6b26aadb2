"""What a decoder says about the bytes is NotAnImage (or ImageTooLarge for a bomb); anything else
raised in the image path (our code, a library's bug, an encoder or libvips failing on pixels we
made) is not bad input. It propagates, so that the pipeline retries it and counts it as a bug, or
it is ImagingFailed, a transient error of ours."""

from __future__ import annotations

import struct
from io import BytesIO

import pytest
from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import put_event
from local_run.inputs.samples import encode, photo
from PIL import Image

from create_thumbnail.config import ALL_SOURCE_FORMATS, Box, Encoding, Settings
from create_thumbnail.errors import ImageTooLarge, ImagingFailed, NotAnImage, UnexpectedError
from create_thumbnail.imaging import make_thumbnails
from create_thumbnail.imaging.libvips import resample_rgb, vips
from create_thumbnail.imaging.readers.decoding import decoding
from create_thumbnail.pipeline import handle_event
from tests.fakes import InMemoryStorage

BOX = Box(100, 100)
MAX_PIXELS = 50_000_000
ANIMATED = Encoding(formats=("source",), animated=True)


def _make(data: bytes, encoding: Encoding = Encoding()) -> None:
    make_thumbnails(data, [BOX], MAX_PIXELS, encoding, source_formats=ALL_SOURCE_FORMATS)


def _ifd_entry(data: bytes, tag: int, value: int, field_type: int = 4, count: int = 1) -> bytes:
    """A little-endian TIFF with tag's entry in the first IFD rewritten (LONG, one value)."""
    patched = bytearray(data)
    ifd = struct.unpack_from("<I", patched, 4)[0]
    for entry in range(ifd + 2, ifd + 2 + 12 * struct.unpack_from("<H", patched, ifd)[0], 12):
        if struct.unpack_from("<H", patched, entry)[0] == tag:
            struct.pack_into("<HII", patched, entry + 2, field_type, count, value)
            return bytes(patched)
    raise LookupError(f"no tag {tag}")


def _palette_tiff_with_colormap_entry(value: int) -> bytes:
    image = Image.new("P", (64, 64))
    image.putpalette(list(range(256)) * 3)
    return _ifd_entry(encode(image, "TIFF"), 320, value)  # ColorMap


def _tiled_tiff_with_tile_width(value: int) -> bytes:
    tiled = (vips().Image.black(64, 64, bands=3) + 100).cast("uchar")
    return _ifd_entry(tiled.tiffsave_buffer(tile=True, tile_width=16, tile_height=16), 322, value)  # TileWidth


def _animated_gif(frames: int = 3) -> bytes:
    images = [Image.new("P", (8, 8), index) for index in range(frames)]
    for image in images:
        image.putpalette([v for i in range(256) for v in (i, 255 - i, i // 2)])
    return encode(images[0], "GIF", save_all=True, append_images=images[1:], duration=100, disposal=2)


def _second_graphic_control(data: bytes) -> int:
    return data.index(b"\x21\xf9\x04", data.index(b"\x21\xf9\x04") + 1)


def _gif_with_short_graphic_control_block() -> bytes:
    """The second frame's graphic control block is one byte long: Pillow unpacks its delay
    from bytes that are not there (struct.error) while it counts the frames."""
    data = _animated_gif()
    at = _second_graphic_control(data)
    return data[:at] + b"\x21\xf9\x01\x00\x00" + data[at + 8 :]


def _gif_cut_after_second_descriptor() -> bytes:
    """Cut right after the second frame's image descriptor: Pillow indexes the missing byte
    that should follow it (IndexError) while it counts the frames."""
    data = _animated_gif()
    descriptor = data.index(b"\x2c", _second_graphic_control(data))
    return data[: descriptor + 10]


def _truncated(image_format: str) -> bytes:
    """The last 30 bytes of the pixels missing: the header still reads, the decoder then fails."""
    return source_bytes("RGB", (64, 48), image_format)[:-30]


# (bytes, encoding, what the decoder raised about them): each must end as NotAnImage naming it.
DECODER_COMPLAINTS = {
    "tiff-colormap-0xfffffffe": (_palette_tiff_with_colormap_entry(0xFFFF_FFFE), Encoding(), "OverflowError"),
    "tiff-tile-width-2^31-1": (_tiled_tiff_with_tile_width(2**31 - 1), Encoding(), "OverflowError"),
    "gif-short-graphic-control": (_gif_with_short_graphic_control_block(), ANIMATED, "error"),  # struct.error
    "gif-cut-after-descriptor": (_gif_cut_after_second_descriptor(), ANIMATED, "IndexError"),
    "avif-truncated": (_truncated("AVIF"), Encoding(), "SyntaxError"),
    "heif-truncated": (_truncated("HEIF"), Encoding(), "ValueError"),
    "jpeg-truncated": (_truncated("JPEG"), Encoding(), "OSError"),
    "webp-truncated": (_truncated("WEBP"), Encoding(), "OSError"),
}


@pytest.mark.parametrize(("data", "encoding", "raised"), DECODER_COMPLAINTS.values(), ids=DECODER_COMPLAINTS)
def test_what_a_decoder_says_about_the_bytes_is_not_an_image(data, encoding, raised):
    with pytest.raises(NotAnImage, match=f"could not decode the image: {raised}: ") as caught:
        _make(data, encoding)
    assert type(caught.value.__cause__).__name__ == raised


@pytest.mark.parametrize("error", [TypeError, KeyError, ValueError, RuntimeError, OverflowError])
def test_an_error_of_a_library_call_on_our_own_pixels_is_no_bad_input(monkeypatch, error):
    """Resizing the decoded image is no decoder reading the bytes: what it raises propagates
    as itself, for the pipeline to retry and count as a bug."""

    data = encode(photo((300, 200)), "JPEG")

    def broken_resize(self, *args, **kwargs):
        raise error("raised by resize, not by a decoder")

    monkeypatch.setattr(Image.Image, "resize", broken_resize)
    with pytest.raises(error, match="raised by resize"):
        _make(data)


def test_a_type_error_from_our_own_code_is_no_bad_input():
    """A box whose width is a string (a bug in whatever built it) fails in our own arithmetic."""
    data = encode(photo((300, 200)), "JPEG")
    with pytest.raises(TypeError):
        make_thumbnails(data, [Box("100", 100)], MAX_PIXELS)  # type: ignore[arg-type]


def test_a_bug_in_the_image_path_is_retried_and_counted_not_skipped_as_bad_input(monkeypatch):
    """End to end: the record is retryable as UnexpectedError, whose error is the TypeError."""
    data = source_bytes("RGB", (300, 200), "JPEG", orientation=6)  # stored turned: made upright

    def broken_transpose(self, method):
        raise TypeError("a bug")

    monkeypatch.setattr(Image.Image, "transpose", broken_transpose)
    storage = InMemoryStorage()
    settings = Settings(destination_bucket="photos-resized", sizes=(BOX,))
    [outcome] = handle_event(put_event(storage.upload("photos-source", "a.jpg", data)), settings, storage).outcomes
    assert outcome.status == "retryable"
    assert isinstance(outcome.error, UnexpectedError) and isinstance(outcome.error.error, TypeError)


def test_libvips_failing_to_resample_our_pixels_is_imaging_failed(monkeypatch):
    image = photo((1200, 900))

    def broken_reduce(self, *args, **kwargs):
        raise vips().Error("unable to call reduce", "reduce: out of memory\n")

    monkeypatch.setattr(vips().Image, "reduce", broken_reduce)
    with pytest.raises(ImagingFailed, match="libvips failed resampling: unable to call reduce; reduce: out of memory"):
        resample_rgb(image, (1024, 768))


def test_libvips_failing_to_write_a_png_thumbnail_is_imaging_failed_not_bad_input(monkeypatch):
    def broken_write(self, *args, **kwargs):
        raise vips().Error("unable to call VipsForeignSavePngTarget")

    data = encode(photo((300, 200)), "PNG")
    monkeypatch.setattr(vips().Image, "write_to_buffer", broken_write)
    with pytest.raises(ImagingFailed, match="libvips failed writing a PNG"):
        _make(data)


def test_libvips_failing_to_build_a_pngs_shrink_is_imaging_failed_not_bad_input(monkeypatch):
    """The shrink is ours; only libvips reading the bytes (the header, the streamed pixels) is the
    PNG's fault."""

    data = encode(photo((1200, 900)), "PNG")

    def broken_shrink(self, *args, **kwargs):
        raise vips().Error("unable to call shrink")

    monkeypatch.setattr(vips().Image, "shrink", broken_shrink)
    with pytest.raises(ImagingFailed, match="libvips failed shrinking a PNG"):
        _make(data)


@pytest.mark.parametrize("cut", [0.5, 0.9])
def test_a_png_libvips_cannot_read_is_not_an_image(cut):
    data = encode(photo((600, 400)), "PNG")
    with pytest.raises(NotAnImage, match="could not decode the PNG: ") as caught:
        _make(data[: int(len(data) * cut)])
    assert type(caught.value.__cause__).__name__ == "Error"  # pyvips.Error


def test_a_bomb_a_decoder_finds_is_too_large_not_an_image():
    """A GIF whose screen is small, but whose first frame claims 60000 x 60000: Pillow's own
    bomb check fires while it opens it."""
    data = bytearray(_animated_gif())
    descriptor = data.index(b"\x2c")
    struct.pack_into("<HH", data, descriptor + 5, 60_000, 60_000)
    with pytest.raises(ImageTooLarge, match="decompression bomb"):
        _make(bytes(data))


def test_decoding_passes_any_other_error_as_itself():
    """decoding() names the decoder's complaints; any other type raised inside it is no complaint
    about the bytes. (That nothing but one decoder call runs inside it is for review to hold.)"""
    with pytest.raises(TypeError), decoding():
        raise TypeError("ours")
    with pytest.raises(NotAnImage), decoding():
        Image.open(BytesIO(b"GIF89a" + b"\x00" * 20)).load()
