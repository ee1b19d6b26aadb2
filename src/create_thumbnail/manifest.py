"""manifests/{source key}.json: what exists for a source, for the application that shows it.

Written after the thumbnails, so a manifest names only thumbnails that are there. It is all a
page needs to build a <picture> with srcset, and to paint a placeholder first:

    {"source": {"bucket", "key", "etag", "version_id", "size", "width", "height"},
     "renditions": [{"box", "fit", "format", "key", "etag", "width", "height", "bytes",
                     "content_type"}],
     "placeholder": {"blurhash", "thumbhash", "dominant_color"},
     "rule": "<digest>", "created": "<ISO time>"}

Formats are lower case (jpeg, png, webp, avif, gif); box is as THUMBNAIL_SIZES spells it.

It is also the function's own record of what belongs to a source: the lifecycle (lifecycle.py)
reads it to find every thumbnail a source has, under whatever rule made them, and deletes each
with If-Match on the ETag recorded here, so it can only ever delete what it wrote.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from create_thumbnail.config import Rule
from create_thumbnail.errors import DestinationKeyTooLong
from create_thumbnail.imaging import Rendered, Thumbnail
from create_thumbnail.naming import MAX_KEY_BYTES, SourceIdentity

PREFIX = "manifests/"
CONTENT_TYPE = "application/json"


def manifest_key(source_key: str) -> str:
    key = f"{PREFIX}{source_key}.json"
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise DestinationKeyTooLong(f"manifest key for a {len(source_key.encode())}-byte source key exceeds S3's limit")
    return key


@dataclass(frozen=True, slots=True)
class Written:
    """One thumbnail as stored: its key and the ETag S3 gave it."""

    key: str
    etag: str
    thumbnail: Thumbnail


def build_manifest(
    source: SourceIdentity, rendered: Rendered, written: Sequence[Written], rule: Rule, created: datetime | None = None
) -> dict[str, Any]:
    """source: the object as read (its ETag, version and size)."""
    width, height = rendered.source_size
    return {
        "source": {"bucket": source.bucket, "key": source.key, "etag": source.etag, "version_id": source.version_id,
                   "size": source.size, "width": width, "height": height},  # fmt: skip
        "renditions": [
            {"box": f"{t.box.width}x{t.box.height}", "fit": t.box.fit, "format": t.format.lower(), "key": w.key,
             "etag": w.etag, "width": t.width, "height": t.height, "bytes": len(t.data),
             "content_type": t.content_type}  # fmt: skip
            for w in written
            for t in (w.thumbnail,)
        ],
        "placeholder": {"blurhash": rendered.placeholder.blurhash, "thumbhash": rendered.placeholder.thumbhash,
                        "dominant_color": rendered.placeholder.dominant_color},  # fmt: skip
        "rule": rule.digest,
        "created": (created or datetime.now(UTC)).isoformat(timespec="seconds").replace("+00:00", "Z"),
    }


@dataclass(frozen=True, slots=True)
class Listed:
    """A rendition a manifest lists. etag is None in manifests written before it was recorded:
    such a thumbnail is HEADed, and deleted only if it still names this source."""

    key: str
    etag: str | None


def listed_renditions(body: bytes) -> tuple[Listed, ...]:
    """The renditions a manifest lists. A manifest that does not parse (edited by hand, cut
    short) lists nothing: its source's thumbnails are then found by name."""
    try:
        renditions = json.loads(body).get("renditions")
        return tuple(
            Listed(r["key"], r.get("etag") if isinstance(r.get("etag"), str) else None)
            for r in renditions
            if isinstance(r, Mapping) and isinstance(r.get("key"), str)
        )
    except (ValueError, AttributeError, TypeError):
        return ()
