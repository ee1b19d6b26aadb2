"""bytes -> the source format they announce (Pillow's name), whatever the key's extension says."""

from __future__ import annotations

from create_thumbnail.errors import NotAnImage
from create_thumbnail.imaging.formats import AVIF, GIF, HEIF, JPEG, PDF, PNG, RAW, SVG, TIFF, WEBP
from create_thumbnail.imaging.readers.raw_layout import is_camera_raw

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}


def sniff_format(data: bytes) -> str:
    """The format the bytes say they are (Pillow's name). Raises NotAnImage for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith((b"II*\x00", b"MM\x00*")):
        # DNG, CR2, NEF and ARW are TIFF too: their IFDs tell (raw_layout.py). Without raw in
        # SOURCE_FORMATS such a file is refused, never decoded as the small TIFF its first IFD is.
        return RAW if is_camera_raw(data) else TIFF
    if data[4:8] == b"ftyp":
        return _iso_media_format(data)
    if data.startswith(b"%PDF-"):  # at the very start: bytes before the header are not taken
        return PDF
    from create_thumbnail.imaging.readers.svg import looks_like_svg  # XML text: after every binary magic

    if looks_like_svg(data):
        return SVG
    raise NotAnImage(f"not an image format we read: the data starts with {data[:8]!r}")


def _iso_media_format(data: bytes) -> str:
    """HEIF and AVIF share the ISO media file: its ftyp box names the major brand and the
    compatible ones; an AVIF may declare the generic 'mif1' first."""
    size = int.from_bytes(data[:4], "big")
    brands = {data[8:12]} | {data[i : i + 4] for i in range(16, min(size, 64), 4)}
    if brands & _AVIF_BRANDS:
        return AVIF
    if brands & _HEIF_BRANDS:
        return HEIF
    raise NotAnImage(f"an ISO media file of brand {data[8:12]!r}, not HEIF or AVIF")
