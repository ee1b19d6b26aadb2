"""Which keys we take, where their thumbnails go, and what each thumbnail says it was made from.

Destination key: ``{box}/{name}`` in the destination bucket, the box being ``256x256`` for a fit
box and ``150x150-cover`` for a cover box, and the name being the source key itself when its
extension already says the thumbnail's format (``256x256/photos/a.jpg`` for a JPEG), else the
source key with the format's extension appended (``256x256/a.jpg.webp``, ``256x256/a.jpg.png``
for a PNG uploaded as ``.jpg``).

The names are one-to-one over (source key, box, format): two sources never share a thumbnail, so
a removal can never delete a neighbour's. Appending alone would not be: the PNG ``a.png`` made
into a JPEG appends ``.jpg`` and would land on ``a.png.jpg``, the name a JPEG uploaded as
``a.png.jpg`` keeps. So a key keeps its name only when what precedes its extension is not itself
a known extension; ``a.png.jpg`` is named ``a.png.jpg.jpg``. Proof, with any appended name ending
in the format's first extension: a kept name and an appended name are equal only if the kept one
is ``k + ext`` for a source key ``k``, and every source key ends in a known extension, which is
exactly what keeping forbids. Known extensions are every format's, enabled or not, so turning a
format on or off never renames anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from urllib.parse import quote

from create_thumbnail.config import MAX_KEY_BYTES, Box, Rule
from create_thumbnail.errors import DestinationKeyTooLong
from create_thumbnail.imaging.formats import FORMATS, SOURCES, claimed_format, output_formats, possible_outputs, suffixes

# Every extension a source key or a thumbnail may end in: the names' rule needs all of them.
KNOWN_SUFFIXES = tuple(sorted(
    {suffix for source in SOURCES.values() for suffix in source.suffixes}
    | {extension for target in FORMATS.values() for extension in target.extensions}
))  # fmt: skip


def skip_reason(key: str, source_formats: Iterable[str]) -> str | None:
    """Why a key is not ours to thumbnail, or None: decided from the key alone, before any I/O.
    Such a key never had thumbnails, so there is nothing to reconcile either."""
    if key.endswith("/"):
        return "folder marker (key ends with '/')"
    if claimed_format(key, source_formats) is None:
        return f"not a {'/'.join(suffixes(source_formats))} key"
    return None


def thumbnail_name(source_key: str, extensions: tuple[str, ...]) -> str:
    """The name below the box: the key kept when its extension is the format's and nothing
    that precedes it is an extension too; else the key plus the format's first extension."""
    lowered = source_key.lower()
    kept = next((e for e in extensions if lowered.endswith(e)), None)
    if kept is not None and not lowered[: -len(kept)].endswith(KNOWN_SUFFIXES):
        return source_key
    return source_key + extensions[0]


def destination_key(source_key: str, box: Box, extensions: tuple[str, ...]) -> str:
    """extensions: the thumbnail format's, the first being the one to append."""
    key = f"{box.prefix}/{thumbnail_name(source_key, extensions)}"
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


def candidate_keys(source_key: str, rule: Rule, source_formats: Iterable[str]) -> list[str]:
    """Every key a thumbnail of source_key may have under this rule, whatever its bytes turn out
    to be (with THUMBNAIL_FORMAT=source a PNG named .jpg is a PNG): what a removal looks for
    when no manifest lists what was written."""
    return sorted(set().union(*(keys for box in rule.sizes for keys in format_candidates(source_key, box, rule, source_formats))))


def format_candidates(source_key: str, box: Box, rule: Rule, source_formats: Iterable[str]) -> list[set[str]]:
    """Per entry of THUMBNAIL_FORMAT, the keys its thumbnail in this box may have: one of each
    set is there when the box is complete."""
    return [
        {destination_key(source_key, box, target.extensions)
         for target in possible_outputs(source_formats, replace(rule.encoding, formats=(entry,)))}
        for entry in rule.encoding.formats
    ]  # fmt: skip


@dataclass(frozen=True, slots=True)
class SourceIdentity:
    """Exactly what a key's thumbnails depend on, besides the rule: the bytes (ETag and size),
    the version holding them, and the focal point set on the object (x-amz-meta-focal-point).
    Two uploads of the same bytes with the same focal point make the same thumbnails."""

    bucket: str
    key: str
    etag: str
    size: int
    version_id: str | None = None
    focal_point: str | None = None


def identity_metadata(source: SourceIdentity, rule: Rule) -> dict[str, str]:
    """Which source and rule an object of ours was made from: the manifest's metadata, and the
    thumbnails' with their box. x-amz-meta-* values travel as HTTP headers, so they must be
    ASCII: the key is percent-encoded (decode with urllib.parse.unquote)."""
    metadata = {
        "source-bucket": source.bucket,
        "source-key": quote(source.key, safe="/"),
        "source-etag": source.etag.strip('"'),
        "source-size": str(source.size),
        "thumbnail-rule": rule.digest,
    }
    if source.version_id:
        metadata["source-version-id"] = source.version_id
    if source.focal_point is not None:
        metadata["source-focal-point"] = quote(source.focal_point, safe=",.")
    return metadata


def thumbnail_metadata(source: SourceIdentity, box: Box, rule: Rule) -> dict[str, str]:
    return {**identity_metadata(source, rule), "thumbnail-box": str(box)}


IDENTITY = ("source-bucket", "source-key", "source-etag", "source-size", "source-version-id",
            "source-focal-point", "thumbnail-rule", "thumbnail-box")  # fmt: skip


def same_identity(stored: Mapping[str, str], expected: Mapping[str, str]) -> bool:
    """Equal on what identifies the source and the rule; other metadata (the placeholders) may
    differ."""
    return all(stored.get(name) == expected.get(name) for name in IDENTITY)


def owned_by(metadata: Mapping[str, str], bucket: str, key: str) -> bool:
    """Whether an object's metadata names this source as the one it was made from: a removal
    deletes nothing else, whatever its name."""
    return metadata.get("source-bucket") == bucket and metadata.get("source-key") == quote(key, safe="/")
