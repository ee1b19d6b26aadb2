"""The judge: does the resized bucket match the source bucket's current state, whatever order
the events came in? Read both buckets once the storm is over, then judge plain values.

It depends only on what the function promises to write, not on how it names thumbnails, so it
judges any version of the function. Each thumbnail carries user metadata source-bucket,
source-key (percent-encoded: unquote it), source-etag (no quotes), source-version-id (versioned
sources) and thumbnail-box; each live key has manifests/<key>.json, whose source records
bucket, key, etag, version_id and size, and whose renditions list every thumbnail (key, box).

  live:    a key whose current object is an image has its manifest, recording the current
           ETag, size (and VersionId, when versioned); every rendition listed exists and
           records that key and that ETag (and version); every configured box has one.
  deleted: a key with no current object (deleted, or a delete marker on top) has no manifest,
           and no object records it as its source.
  orphan:  nothing else is in the resized bucket: every object is a live key's manifest or a
           thumbnail its manifest lists (objects under _backfill/ are the backfill's own).

Every violation names the key and what is wrong, so a failing storm says what went wrong.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

MANIFESTS = "manifests/"
IGNORED = ("_backfill/",)
_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"))

Rule = Literal["live", "deleted", "orphan"]


@dataclass(frozen=True, slots=True)
class Current:
    """A key's current object in the source bucket. version_id: None when unversioned."""

    key: str
    etag: str
    version_id: str | None
    size: int
    is_image: bool


@dataclass(frozen=True, slots=True)
class Stored:
    """An object in the resized bucket: its user metadata and, for a manifest, its body parsed
    (or why it could not be)."""

    key: str
    metadata: Mapping[str, str]
    manifest: Any = None
    unreadable: str | None = None


@dataclass(frozen=True, slots=True)
class Violation:
    key: str  # the source key concerned
    rule: Rule
    detail: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.key!r}: {self.detail}"


# ---- reading the buckets ---------------------------------------------------------------------


def read_source(s3: Any, bucket: str, versioned: bool) -> dict[str, Current]:
    """The current objects: on a versioned bucket the latest version of each key, unless the
    latest is a delete marker (then the key has none)."""
    found: dict[str, tuple[str, str | None, int]] = {}
    if versioned:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            for version in page.get("Versions", []):
                if version["IsLatest"]:
                    found[version["Key"]] = (version["ETag"], version["VersionId"], version["Size"])
    else:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for item in page.get("Contents", []):
                found[item["Key"]] = (item["ETag"], None, item["Size"])
    return {
        key: Current(key, etag.strip('"'), version, size, _is_image(s3, bucket, key, version))
        for key, (etag, version, size) in found.items()
    }


def _is_image(s3: Any, bucket: str, key: str, version: str | None) -> bool:
    request = {"Bucket": bucket, "Key": key, "Range": "bytes=0-7"}
    if version:
        request["VersionId"] = version
    head = s3.get_object(**request)["Body"].read()
    return any(head.startswith(magic) for magic, _ in _MAGIC)


def read_destination(s3: Any, bucket: str) -> dict[str, Stored]:
    stored = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.startswith(MANIFESTS):
                answer = s3.get_object(Bucket=bucket, Key=key)
                manifest, unreadable = _parse(answer["Body"].read())
                stored[key] = Stored(key, answer.get("Metadata", {}), manifest, unreadable)
            else:
                stored[key] = Stored(key, s3.head_object(Bucket=bucket, Key=key)["Metadata"])
    return stored


def _parse(body: bytes) -> tuple[Any, str | None]:
    try:
        return json.loads(body), None
    except ValueError as error:
        return None, f"not JSON: {error}"


# ---- judging ---------------------------------------------------------------------------------


@dataclass
class _Verdict:
    violations: list[Violation] = field(default_factory=list)
    accounted: set[str] = field(default_factory=set)  # destination keys judged already

    def add(self, key: str, rule: Rule, detail: str) -> None:
        self.violations.append(Violation(key, rule, detail))


def judge(
    source: Mapping[str, Current], destination: Mapping[str, Stored], keys: Iterable[str],
    boxes: Sequence[str], source_bucket: str, versioned: bool,
) -> list[Violation]:  # fmt: skip
    """keys: every key the storm touched, so a key deleted before the end is judged too."""
    destination = {k: v for k, v in destination.items() if not k.startswith(IGNORED)}
    verdict = _Verdict()
    live = {key for key, current in source.items() if current.is_image}
    for key in sorted(live):
        _judge_live(source[key], destination, boxes, source_bucket, versioned, verdict)
    recorded = {name for stored in destination.values() if (name := source_key(stored))}
    for key in sorted((set(keys) | set(source) | recorded) - live):
        _judge_gone(key, source.get(key), destination, verdict)
    for key, stored in sorted(destination.items()):
        if key not in verdict.accounted:
            verdict.add(source_key(stored) or "", "orphan",
                        f"{key} is neither a live key's manifest nor listed by one "
                        f"({_identity(stored)})")  # fmt: skip
    return verdict.violations


def source_key(stored: Stored) -> str | None:
    """Whose object this says it is: the source-key metadata, percent-decoded."""
    raw = stored.metadata.get("source-key")
    return unquote(raw) if raw is not None else None


def _judge_live(
    current: Current, destination: Mapping[str, Stored], boxes: Sequence[str],
    source_bucket: str, versioned: bool, verdict: _Verdict,
) -> None:  # fmt: skip
    key = current.key
    manifest_key = f"{MANIFESTS}{key}.json"
    stored = destination.get(manifest_key)
    if stored is None:
        verdict.add(key, "live", f"no manifest {manifest_key} for the current object (etag "
                                 f"{current.etag}, version {current.version_id})")  # fmt: skip
        return
    verdict.accounted.add(manifest_key)
    manifest = stored.manifest
    if not isinstance(manifest, dict):
        why = stored.unreadable or "not a JSON object"
        verdict.add(key, "live", f"{manifest_key} is unreadable: {why}")
        return
    wrong = _wrong_fields(manifest.get("source") or {}, {
        "bucket": source_bucket, "key": key, "etag": current.etag, "size": current.size,
        **({"version_id": current.version_id} if versioned else {}),
    })  # fmt: skip
    if wrong:
        verdict.add(key, "live", f"{manifest_key} records {wrong}")
    renditions = manifest.get("renditions")
    if not isinstance(renditions, list):
        verdict.add(key, "live", f"{manifest_key} has no renditions list")
        return
    for rendition in renditions:
        _judge_rendition(current, rendition, destination, boxes, source_bucket, versioned, verdict)
    listed = {r.get("box") for r in renditions if isinstance(r, dict)}
    for box in boxes:
        if box not in listed:
            verdict.add(key, "live", f"{manifest_key} lists no rendition for box {box}")


def _judge_rendition(
    current: Current, rendition: Any, destination: Mapping[str, Stored], boxes: Sequence[str],
    source_bucket: str, versioned: bool, verdict: _Verdict,
) -> None:  # fmt: skip
    key = current.key
    if not isinstance(rendition, dict) or not isinstance(rendition.get("key"), str):
        verdict.add(key, "live", f"a rendition without a key: {rendition!r}")
        return
    thumbnail, box = rendition["key"], rendition.get("box")
    if box not in boxes:
        verdict.add(key, "live", f"rendition {thumbnail} is for box {box!r}, not one of {boxes}")
    stored = destination.get(thumbnail)
    if stored is None:
        verdict.add(key, "live", f"the manifest lists {thumbnail}, which does not exist")
        return
    verdict.accounted.add(thumbnail)
    recorded = {
        "source-bucket": stored.metadata.get("source-bucket"), "source-key": source_key(stored),
        "source-etag": stored.metadata.get("source-etag"),
        "source-version-id": stored.metadata.get("source-version-id"),
        "thumbnail-box": stored.metadata.get("thumbnail-box"),
    }  # fmt: skip
    wrong = _wrong_fields(recorded, {
        "source-bucket": source_bucket, "source-key": key, "source-etag": current.etag,
        "thumbnail-box": box, **({"source-version-id": current.version_id} if versioned else {}),
    })  # fmt: skip
    if wrong:
        verdict.add(key, "live", f"thumbnail {thumbnail} records {wrong}")


def _judge_gone(
    key: str, current: Current | None, destination: Mapping[str, Stored], verdict: _Verdict
) -> None:
    state = "not an image" if current else "no current object"
    manifest_key = f"{MANIFESTS}{key}.json"
    if manifest_key in destination:
        verdict.accounted.add(manifest_key)
        stored = destination[manifest_key]
        recorded = stored.manifest.get("source") if isinstance(stored.manifest, dict) else None
        verdict.add(key, "deleted", f"{state}, but {manifest_key} is there (source {recorded})")
    for name, stored in sorted(destination.items()):
        if name not in verdict.accounted and source_key(stored) == key:
            verdict.accounted.add(name)
            verdict.add(key, "deleted", f"{state}, but {name} records it ({_identity(stored)})")


def _wrong_fields(recorded: Mapping[str, Any], expected: Mapping[str, Any]) -> str:
    """'field VALUE, not EXPECTED; ...' for each field that differs, '' when all agree."""
    return "; ".join(
        f"{name} {recorded.get(name)!r}, not {value!r}"
        for name, value in expected.items()
        if recorded.get(name) != value
    )


def _identity(stored: Stored) -> str:
    meta = stored.metadata
    return (f"source-key {source_key(stored)!r}, etag {meta.get('source-etag')!r}, "
            f"version {meta.get('source-version-id')!r}")  # fmt: skip
