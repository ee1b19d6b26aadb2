"""manifests/{source key}.json: what exists for a source, for the application that shows it.

Written after the thumbnails, so a manifest names only thumbnails that are there. It is all a
page needs to build a <picture> with srcset, and to paint a placeholder first:

    {"source": {"bucket", "key", "etag", "version_id", "size", "width", "height"},
     "renditions": [{"box", "fit", "format", "key", "etag", "width", "height", "bytes",
                     "content_type", "url"}],
     "placeholder": {"blurhash", "thumbhash", "dominant_color"},
     "rule": "<digest>", "created": "<ISO time>", "base_url": "<DELIVERY_BASE_URL> or null"}

Formats are lower case (jpeg, png, webp, avif, gif); box is as THUMBNAIL_SIZES spells it. "url"
is there only when DELIVERY_BASE_URL is set: the rendition's key under it, percent-encoded as a
browser needs it; "base_url" records what the urls were built from, so a change of the setting
is seen (lifecycle.py rewrites the manifest, not the thumbnails).

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
from urllib.parse import quote

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


def delivery_url(base_url: str, key: str) -> str | None:
    """Where a browser finds the object under key: each path segment percent-encoded (a space,
    '+', '%', '#', '?' and non-ASCII all mean something else in a URL), '/' kept between them.
    None for a key with a '.' or '..' segment: a browser resolves those away before asking
    (even written %2E), so no URL reaches the object."""
    if any(segment in (".", "..") for segment in key.split("/")):
        return None
    return f"{base_url}/{quote(key, safe='/')}"


@dataclass(frozen=True, slots=True)
class Written:
    """One thumbnail as stored: its key and the ETag S3 gave it."""

    key: str
    etag: str
    thumbnail: Thumbnail


def build_manifest(
    source: SourceIdentity, rendered: Rendered, written: Sequence[Written], rule: Rule, created: datetime | None = None,
    base_url: str | None = None,
) -> dict[str, Any]:
    """source: the object as read (its ETag, version and size). base_url: DELIVERY_BASE_URL,
    which gives every rendition its url."""
    width, height = rendered.source_size
    manifest = {
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
    return with_base_url(manifest, base_url)


def with_base_url(manifest: Mapping[str, Any], base_url: str | None) -> dict[str, Any]:
    """The manifest with every rendition's url under base_url (none when it is None), and
    base_url recorded: what a change of DELIVERY_BASE_URL rewrites, the rest kept as it was."""
    renditions = []
    for rendition in manifest.get("renditions", []):
        if isinstance(rendition, Mapping):  # anything else (a hand edit) is kept as it is
            rendition = {name: value for name, value in rendition.items() if name != "url"}
            if base_url is not None and isinstance(rendition.get("key"), str):
                rendition["url"] = delivery_url(base_url, rendition["key"])
        renditions.append(rendition)
    return {**manifest, "renditions": renditions, "base_url": base_url}


@dataclass(frozen=True, slots=True)
class Listed:
    """A rendition a manifest lists. etag is None in manifests written before it was recorded:
    such a thumbnail is HEADed, and deleted only if it still names this source."""

    key: str
    etag: str | None


@dataclass(frozen=True, slots=True)
class Contents:
    """A manifest as read back. document is None for one that does not parse (edited by hand,
    cut short): it lists nothing, and its source's thumbnails are then found by name."""

    listed: tuple[Listed, ...]
    base_url: str | None  # None in manifests written without DELIVERY_BASE_URL, or before it existed
    document: dict[str, Any] | None


def read_manifest(body: bytes) -> Contents:
    try:
        document = json.loads(body)
        listed = tuple(
            Listed(r["key"], r.get("etag") if isinstance(r.get("etag"), str) else None)
            for r in document.get("renditions")
            if isinstance(r, Mapping) and isinstance(r.get("key"), str)
        )
    except (ValueError, AttributeError, TypeError):
        return Contents((), None, None)
    base_url = document.get("base_url")
    return Contents(listed, base_url if isinstance(base_url, str) else None, document)
