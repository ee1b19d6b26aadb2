"""manifests/{source key}.json: what exists for a source, for the application that shows it.

Written after the thumbnails, so a manifest names only thumbnails that are there. It is all a
page needs to build a <picture> with srcset, and to paint a placeholder first:

    {"source": {"bucket", "key", "etag", "version_id", "size", "width", "height"},
     "renditions": [{"box", "fit", "format", "key", "width", "height", "bytes", "content_type"}],
     "placeholder": {"blurhash", "thumbhash", "dominant_color"},
     "rule": "<digest>", "created": "<ISO time>"}

Formats are lower case (jpeg, png, webp, avif, gif); box is as THUMBNAIL_SIZES spells it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from create_thumbnail.config import Rule
from create_thumbnail.errors import DestinationKeyTooLong
from create_thumbnail.events import ObjectRef
from create_thumbnail.imaging import Rendered, Thumbnail
from create_thumbnail.naming import MAX_KEY_BYTES

PREFIX = "manifests/"
CONTENT_TYPE = "application/json"


def manifest_key(source_key: str) -> str:
    key = f"{PREFIX}{source_key}.json"
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise DestinationKeyTooLong(f"manifest key for a {len(source_key.encode())}-byte source key exceeds S3's limit")
    return key


def build_manifest(
    source: ObjectRef, rendered: Rendered, written: Sequence[tuple[str, Thumbnail]], rule: Rule, created: datetime | None = None
) -> dict[str, Any]:
    """source: the object as read (its ETag, version and size); written: (key, thumbnail)."""
    width, height = rendered.source_size
    return {
        "source": {"bucket": source.bucket, "key": source.key, "etag": source.etag, "version_id": source.version_id,
                   "size": source.size, "width": width, "height": height},  # fmt: skip
        "renditions": [
            {"box": f"{t.box.width}x{t.box.height}", "fit": t.box.fit, "format": t.format.lower(), "key": key,
             "width": t.width, "height": t.height, "bytes": len(t.data), "content_type": t.content_type}  # fmt: skip
            for key, t in written
        ],
        "placeholder": {"blurhash": rendered.placeholder.blurhash, "thumbhash": rendered.placeholder.thumbhash,
                        "dominant_color": rendered.placeholder.dominant_color},  # fmt: skip
        "rule": rule.digest,
        "created": (created or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }
