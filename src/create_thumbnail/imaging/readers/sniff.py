"""bytes -> the source format they announce (Pillow's name), whatever the key's extension says."""

from __future__ import annotations

from collections.abc import Iterable

from create_thumbnail.errors import NotAnImage
from create_thumbnail.imaging.formats import AVIF, GIF, HEIF, JPEG, JXL, PDF, PNG, RAW, SVG, TIFF, VIDEO, WEBP, enabled

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
EBML = b"\x1a\x45\xdf\xa3"  # Matroska and WebM
# JPEG XL: a bare codestream starts FF 0A; the container with its signature box, "JXL ".
JXL_CODESTREAM, JXL_CONTAINER = b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n"
# The first box of a QuickTime movie written before ftyp existed (old cameras, QuickTime 6).
_QUICKTIME_BOXES = {b"moov", b"mdat", b"wide", b"pnot", b"skip", b"free"}


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
        from create_thumbnail.imaging.readers.raw_layout import is_camera_raw  # with the first TIFF

        return RAW if is_camera_raw(data) else TIFF
    if data.startswith((JXL_CODESTREAM, JXL_CONTAINER)):  # a bare codestream, or the ISO container
        return JXL
    if data[4:8] == b"ftyp":
        return _iso_media_format(data)
    if movie_demuxer(data) is not None:
        return VIDEO
    if data.startswith(b"%PDF-"):  # at the very start: bytes before the header are not taken
        return PDF
    from create_thumbnail.imaging.readers.svg import looks_like_svg  # XML text: after every binary magic

    if looks_like_svg(data):
        return SVG
    raise NotAnImage(f"not an image format we read: the data starts with {data[:8]!r}")


def read_in_ranges(head: bytes, source_formats: Iterable[str]) -> bool:
    """Whether a source is read in ranges (a video, when SOURCE_FORMATS takes them) rather
    than whole: decided from its first bytes, before the rest is read. Only a head a movie's
    demuxer would take is sniffed whole (a TIFF is not walked, nor is an SVG parsed, twice)."""
    if VIDEO not in enabled(source_formats) or movie_demuxer(head) is None:
        return False
    return sniff_format(head) == VIDEO  # not a GIF or a HEIF that a demuxer would also take


def movie_demuxer(data: bytes) -> str | None:
    """FFmpeg's demuxer for a movie's first bytes, or None: mov for ISO media (MP4, MOV, 3GP)
    and QuickTime before ftyp, matroska for EBML (WebM, MKV), avi, and mpegts for an MPEG
    transport stream, bare (188-byte packets) or as AVCHD writes it (.mts, .m2ts: 192). Only the
    demuxer named here ever runs on the bytes (readers/video.py)."""
    if data[4:8] == b"ftyp" or _quicktime(data):
        return "mov"
    if data.startswith(EBML):
        return "matroska"
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return "avi"
    if _transport_stream(data):
        return "mpegts"
    return None


def _transport_stream(data: bytes) -> bool:
    """Three packets' sync bytes (0x47) in a row: at 0, 188, 376, or after each 192-byte
    packet's 4-byte timestamp (AVCHD's M2TS)."""
    return any(all(data[offset + n * size : offset + n * size + 1] == b"\x47" for n in range(3))
               for offset, size in ((0, 188), (4, 192)))  # fmt: skip


def _quicktime(data: bytes) -> bool:
    """A movie's first box without ftyp: its name, and a size that can be a box's (0: to the
    end, 1: a 64-bit size follows, else at least the 8 bytes of its header)."""
    return data[4:8] in _QUICKTIME_BOXES and int.from_bytes(data[:4], "big") not in range(2, 8)


def _iso_media_format(data: bytes) -> str:
    """HEIF, AVIF and MP4/MOV share the ISO media file: its ftyp box names the major brand and
    the compatible ones; an AVIF may declare the generic 'mif1' first. Any other brand is a
    movie (isom, mp41, mp42, avc1, qt, M4V, 3gp...: brands are many; FFmpeg's demuxer decides)."""
    size = int.from_bytes(data[:4], "big")
    brands = {data[8:12]} | {data[i : i + 4] for i in range(16, min(size, 64), 4)}
    if brands & _AVIF_BRANDS:
        return AVIF
    if brands & _HEIF_BRANDS:
        return HEIF
    return VIDEO
