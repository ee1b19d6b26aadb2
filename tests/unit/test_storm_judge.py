"""The storm's judge on plain values: it accepts a destination that matches the source, and
names the key and the fault for each way one can fail to (tests/integration/test_storm.py
trusts both)."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from storm.judge import Current, Stored, judge

BUCKET = "src"
BOXES = ("64x64", "128x128")


def thumbnails_of(current: Current, versioned: bool) -> dict[str, Stored]:
    """What a correct function leaves for a live key: a manifest and one thumbnail per box."""
    metadata = {"source-bucket": BUCKET, "source-key": quote(current.key, safe="/"),
                "source-etag": current.etag}  # fmt: skip
    if versioned:
        metadata["source-version-id"] = current.version_id or ""
    stored = {
        f"{box}/{current.key}": Stored(f"{box}/{current.key}", {**metadata, "thumbnail-box": box})
        for box in BOXES
    }
    manifest = {
        "source": {"bucket": BUCKET, "key": current.key, "etag": current.etag,
                   "version_id": current.version_id, "size": current.size},
        "renditions": [{"key": f"{box}/{current.key}", "box": box} for box in BOXES],
    }  # fmt: skip
    name = f"manifests/{current.key}.json"
    return {**stored, name: Stored(name, metadata, manifest)}


LIVE = Current("ünï/a b+c.jpg", "e1", "v1", 10, is_image=True)
OTHER = Current("a.png", "e2", "v2", 20, is_image=True)


def run(source: list[Current], destination: dict[str, Stored], versioned: bool = True) -> list:
    keys = [LIVE.key, OTHER.key, "gone.jpg"]
    return judge({c.key: c for c in source}, destination, keys, BOXES, BUCKET, versioned)


@pytest.mark.parametrize("versioned", [False, True])
def test_a_destination_matching_the_source_has_no_violation(versioned: bool) -> None:
    source = [LIVE, OTHER] if versioned else [
        Current(c.key, c.etag, None, c.size, True) for c in (LIVE, OTHER)
    ]  # fmt: skip
    destination = {k: v for c in source for k, v in thumbnails_of(c, versioned).items()}
    destination["_backfill/job.csv"] = Stored("_backfill/job.csv", {})

    assert run(source, destination, versioned) == []


def test_a_live_key_without_its_manifest_or_a_box_is_named() -> None:
    destination = thumbnails_of(LIVE, True)
    del destination[f"manifests/{LIVE.key}.json"]
    violations = run([LIVE], destination)
    expected = [(LIVE.key, "live"), (LIVE.key, "orphan"), (LIVE.key, "orphan")]
    assert [(v.key, v.rule) for v in violations] == expected

    destination = thumbnails_of(LIVE, True)
    manifest = destination[f"manifests/{LIVE.key}.json"].manifest
    manifest["renditions"] = manifest["renditions"][:1]
    violations = run([LIVE], destination)
    assert [str(v) for v in violations][0].endswith("lists no rendition for box 128x128")


def test_a_stale_thumbnail_or_manifest_names_the_field_and_both_values() -> None:
    newer = Current(LIVE.key, "e9", "v9", 11, is_image=True)
    destination = thumbnails_of(LIVE, True)  # made from the version before
    details = [v.detail for v in run([newer], destination)]
    assert details[0] == (f"manifests/{LIVE.key}.json records etag 'e1', not 'e9'; size 10, "
                          "not 11; version_id 'v1', not 'v9'")  # fmt: skip
    assert "source-etag 'e1', not 'e9'; source-version-id 'v1', not 'v9'" in details[1]


def test_a_thumbnail_listed_but_owned_by_another_key_is_named() -> None:
    destination = {**thumbnails_of(LIVE, True), **thumbnails_of(OTHER, True)}
    manifest = destination[f"manifests/{OTHER.key}.json"].manifest
    manifest["renditions"][0]["key"] = f"64x64/{LIVE.key}"  # a name the two keys share
    violations = run([LIVE, OTHER], destination)
    assert (OTHER.key, "live") in [(v.key, v.rule) for v in violations]
    assert any(f"source-key {LIVE.key!r}, not {OTHER.key!r}" in v.detail for v in violations)


def test_whatever_records_a_deleted_key_is_named_and_nothing_is_reported_twice() -> None:
    gone = Current("gone.jpg", "e3", "v3", 5, is_image=True)
    destination = {**thumbnails_of(LIVE, True), **thumbnails_of(gone, True)}
    violations = run([LIVE], destination)
    assert [(v.key, v.rule) for v in violations] == [("gone.jpg", "deleted")] * 3
    assert len({v.detail for v in violations}) == 3


def test_an_object_nobody_lists_is_an_orphan() -> None:
    destination = thumbnails_of(LIVE, True)
    destination["64x64/ünï/a b+c.jpg.png"] = Stored("64x64/ünï/a b+c.jpg.png",
                                                     {"source-key": quote(LIVE.key)})  # fmt: skip
    destination["stray"] = Stored("stray", {})
    violations = run([LIVE], destination)
    assert [(v.key, v.rule) for v in violations] == [(LIVE.key, "orphan"), ("", "orphan")]
