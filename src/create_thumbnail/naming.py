"""Which keys we take, and where their thumbnails go.

Destination key: ``{box}/{source key}``, in the destination bucket, the box being ``256x256``
for a fit box and ``150x150-cover`` for a cover box. It is a pure function of the source key,
the box and the format, so a re-delivered event overwrites the same object instead of adding a
copy, every size has its own prefix to list, and two different sources can never share a
thumbnail (``a.jpg`` and ``a.png`` keep their names). When the thumbnail's format is not what
the key's extension says (THUMBNAIL_FORMAT=webp, or a PNG uploaded as ``.jpg``), the format's
extension is appended instead of replacing the old one, which keeps keys unique:
``256x256/a.jpg.webp``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import quote

from create_thumbnail.config import Box, Rule
from create_thumbnail.errors import DestinationKeyTooLong
from create_thumbnail.events import ObjectRef
from create_thumbnail.formats import claimed_format, output_formats, possible_outputs, suffixes

MAX_KEY_BYTES = 1024  # S3's limit on an object key, in UTF-8 bytes


def skip_reason(ref: ObjectRef, source_formats: Iterable[str]) -> str | None:
    """Why this object is not ours to thumbnail, or None. Cheap checks made before any I/O."""
    if ref.key.endswith("/"):
        return "folder marker (key ends with '/')"
    if claimed_format(ref.key, source_formats) is None:
        return f"not a {'/'.join(suffixes(source_formats))} key"
    if ref.size == 0:
        return "empty object (0 bytes)"
    return None


def destination_key(source_key: str, box: Box, extensions: tuple[str, ...] = ()) -> str:
    """extensions: the thumbnail format's, the first being the one to append if none matches."""
    key = f"{box.prefix}/{source_key}"
    if extensions and not key.lower().endswith(extensions):
        key += extensions[0]
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise DestinationKeyTooLong(
            f"thumbnail key for a {len(source_key.encode())}-byte source key exceeds "
            f"S3's {MAX_KEY_BYTES}-byte limit"
        )
    return key


def expected_keys(source_key: str, rule: Rule, source_formats: Iterable[str]) -> list[tuple[Box, str]]:
    """(box, key) of each thumbnail this rule writes for a source, predicted from its extension
    before the bytes are read (a PNG named .jpg will miss), in the order they are written."""
    claimed = claimed_format(source_key, source_formats)
    if claimed is None:
        return []
    targets = output_formats(claimed, rule.encoding, animated=rule.encoding.animated and claimed == "GIF")
    return [(box, destination_key(source_key, box, target.extensions)) for box in rule.sizes for target in targets]


def destination_key_candidates(source_key: str, box: Box, rule: Rule, source_formats: Iterable[str]) -> set[str]:
    """Every key a thumbnail of source_key may have in this box, without reading the object:
    with THUMBNAIL_FORMAT=source the format is only known from the bytes (a PNG named .jpg)."""
    return set().union(*format_candidates(source_key, box, rule, source_formats))


def format_candidates(source_key: str, box: Box, rule: Rule, source_formats: Iterable[str]) -> list[set[str]]:
    """Per entry of THUMBNAIL_FORMAT, the keys its thumbnail in this box may have: one of each
    set is there when the box is complete."""
    return [
        {destination_key(source_key, box, target.extensions)
         for target in possible_outputs(source_formats, replace(rule.encoding, formats=(entry,)))}
        for entry in rule.encoding.formats
    ]  # fmt: skip


def thumbnail_metadata(ref: ObjectRef, box: Box, rule: Rule) -> dict[str, str]:
    """x-amz-meta-* values travel as HTTP headers, so they must be ASCII: the key is
    percent-encoded (decode with urllib.parse.unquote) and the ETag loses its quotes.

    A thumbnail whose stored identity equals what this returns was made from the same bytes
    (ETag, size, version) by the same event (sequencer) under the same rule (boxes, formats,
    gravity, encoding settings): the pipeline's duplicate check (same_identity). The sequencer
    also lets a late, older event see that it is late; the rule's digest lets backfill --stale
    find what a rule change left behind.
    """
    return {**identity_metadata(ref, rule), "thumbnail-box": str(box)}


def identity_metadata(ref: ObjectRef, rule: Rule) -> dict[str, str]:
    """Which source bytes, event and rule an object of ours was made from: the thumbnails' and
    the manifest's metadata."""
    metadata = {
        "source-bucket": ref.bucket,
        "source-key": quote(ref.key, safe="/"),
        "thumbnail-rule": rule.digest,
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


IDENTITY = ("source-bucket", "source-key", "source-etag", "source-size", "source-version-id",
            "source-sequencer", "thumbnail-rule", "thumbnail-box")  # fmt: skip


def same_identity(stored: dict[str, str], expected: dict[str, str]) -> bool:
    """Equal on what identifies the bytes, event and rule; other metadata (the placeholders)
    may differ."""
    return all(stored.get(name) == expected.get(name) for name in IDENTITY)
