"""Which keys we take, and where their thumbnails go.

Destination key: ``{width}x{height}/{source key}``, in the destination bucket. It is a pure
function of the source key and the box, so a re-delivered event overwrites the same object
instead of adding a copy, every size has its own prefix to list, and two different sources can
never share a thumbnail (``a.jpg`` and ``a.png`` keep their names). When the thumbnail's format
is not what the key's extension says (THUMBNAIL_FORMAT=webp, or a PNG uploaded as ``.jpg``), the
format's extension is appended instead of replacing the old one, which keeps keys unique:
``256x256/a.jpg.webp``.
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

from create_thumbnail.config import Box, Encoding
from create_thumbnail.errors import DestinationKeyTooLong
from create_thumbnail.events import ObjectRef
from create_thumbnail.formats import FORMATS, JPEG, PNG

SUPPORTED_SUFFIXES = (".jpg", ".jpeg", ".png")
MAX_KEY_BYTES = 1024  # S3's limit on an object key, in UTF-8 bytes


def skip_reason(ref: ObjectRef) -> str | None:
    """Why this object is not ours to thumbnail, or None. Cheap checks made before any I/O."""
    if ref.key.endswith("/"):
        return "folder marker (key ends with '/')"
    if not ref.key.lower().endswith(SUPPORTED_SUFFIXES):
        return f"not a {'/'.join(SUPPORTED_SUFFIXES)} key"
    if ref.size == 0:
        return "empty object (0 bytes)"
    return None


def destination_key(source_key: str, box: Box, extensions: tuple[str, ...] = ()) -> str:
    """extensions: the thumbnail format's, the first being the one to append if none matches."""
    key = f"{box}/{source_key}"
    if extensions and not key.lower().endswith(extensions):
        key += extensions[0]
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise DestinationKeyTooLong(
            f"thumbnail key for a {len(source_key.encode())}-byte source key exceeds "
            f"S3's {MAX_KEY_BYTES}-byte limit"
        )
    return key


def destination_key_candidates(source_key: str, box: Box, encoding: Encoding) -> set[str]:
    """Every key a thumbnail of source_key may have, without reading the object: with
    THUMBNAIL_FORMAT=source the format is only known from the bytes (a PNG named .jpg)."""
    names = (JPEG, PNG) if encoding.format == "source" else (encoding.format.upper(),)
    return {destination_key(source_key, box, FORMATS[name].extensions) for name in names}


def thumbnail_metadata(ref: ObjectRef, box: Box, encoding: Encoding) -> dict[str, str]:
    """x-amz-meta-* values travel as HTTP headers, so they must be ASCII: the key is
    percent-encoded (decode with urllib.parse.unquote) and the ETag loses its quotes.

    A thumbnail whose stored metadata equals what this returns was made from the same bytes
    (ETag, size, version) by the same event (sequencer) with the same encoding settings: the
    pipeline's duplicate check. The sequencer also lets a late, older event see that it is late.
    """
    metadata = {
        "source-bucket": ref.bucket,
        "source-key": quote(ref.key, safe="/"),
        "thumbnail-box": str(box),
        "thumbnail-encoding": encoding_digest(encoding),
    }
    if ref.etag:
        metadata["source-etag"] = ref.etag.strip('"')
    if ref.size is not None:
        metadata["source-size"] = str(ref.size)
    if ref.version_id:
        metadata["source-version-id"] = ref.version_id
    if ref.sequencer:
        metadata["source-sequencer"] = ref.sequencer
    return metadata


def encoding_digest(encoding: Encoding) -> str:
    """Changes whenever an encoding setting does (format, a quality, the background), so a
    re-delivered event after such a change makes its thumbnails again instead of skipping."""
    return hashlib.sha256(repr(encoding).encode()).hexdigest()[:16]
