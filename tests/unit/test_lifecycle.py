"""The lifecycle of one key's thumbnails against the in-memory storage, with other invocations and
users acting between its steps (InMemoryStorage.before): the interleavings a storm produces,
one at a time and by name."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote

import pytest
from local_run.inputs.grid import source_bytes

from create_thumbnail.config import Box, Settings
from create_thumbnail.errors import SharedDestination, WriteConflict
from create_thumbnail.lifecycle import MAX_ATTEMPTS, Destination, reconcile
from create_thumbnail.pipeline import renderer
from create_thumbnail.storage import Stored
from tests.fakes import InMemoryStorage

SOURCE, RESIZED = "photos-source", "photos-resized"
SETTINGS = Settings(destination_bucket=RESIZED, sizes=(Box(64, 64), Box(128, 128)))
JPEG = source_bytes("RGB", (400, 300), "JPEG")
PNG = source_bytes("RGB", (300, 400), "PNG")


def destination(storage: InMemoryStorage, settings: Settings = SETTINGS) -> Destination:
    return Destination(settings, storage, renderer(settings))


def manifest(storage: InMemoryStorage, key: str) -> dict:
    return json.loads(storage.objects[(RESIZED, f"manifests/{key}.json")].data)


def assert_current(storage: InMemoryStorage, key: str, names: list[str]) -> None:
    """Exactly these thumbnails and the manifest, each recording the key's current object."""
    current = storage.objects[(SOURCE, key)]
    assert storage.keys(RESIZED) == sorted([*names, f"manifests/{key}.json"])
    for name in names:
        stored = storage.objects[(RESIZED, name)]
        assert (stored.metadata["source-key"], stored.metadata["source-etag"]) == (quote(key), current.etag)
    listed = manifest(storage, key)["renditions"]
    assert sorted(r["key"] for r in listed) == sorted(names)
    assert all(r["etag"] == storage.objects[(RESIZED, r["key"])].etag for r in listed)


def test_an_upload_is_made_and_its_manifest_records_each_thumbnails_etag(storage):
    storage.add(SOURCE, "a.jpg", JPEG)
    result = reconcile(SOURCE, "a.jpg", destination(storage))
    assert (result.status, result.manifest_key) == ("created", "manifests/a.jpg.json")
    assert_current(storage, "a.jpg", ["128x128/a.jpg", "64x64/a.jpg"])


def test_a_video_replaced_while_its_frames_are_read_gets_its_successors_thumbnails_only(storage):
    """The ranged GET after the first finds another object under the key (its If-Match fails):
    the attempt starts over on the object there now, and no byte of the first reaches a thumbnail
    of the second."""
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "video"
    settings = replace(SETTINGS, source_formats=("jpeg", "video"))
    storage.add(SOURCE, "a.mp4", (fixtures / "h264-4k-phone-portrait.mp4").read_bytes())

    def replace_on_the_first_ranged_get() -> None:  # the open's GET has passed; the next is ranged
        storage.before[("GET", SOURCE, "a.mp4")] = lambda: storage.add(
            SOURCE, "a.mp4", (fixtures / "h264-landscape.mp4").read_bytes())

    storage.before[("GET", SOURCE, "a.mp4")] = replace_on_the_first_ranged_get
    result = reconcile(SOURCE, "a.mp4", destination(storage, settings))
    assert result.status == "created"
    assert_current(storage, "a.mp4", ["128x128/a.mp4.jpg", "64x64/a.mp4.jpg"])
    assert (manifest(storage, "a.mp4")["source"]["width"], manifest(storage, "a.mp4")["source"]["height"]) == (1080, 720)


def test_a_source_deleted_before_the_manifest_is_committed_leaves_nothing(storage):
    """The attempt's HEAD after its commit finds the key gone: the next attempt clears it."""
    storage.add(SOURCE, "a.jpg", JPEG)
    storage.before[("PUT", RESIZED, "manifests/a.jpg.json")] = lambda: storage.remove(SOURCE, "a.jpg")
    result = reconcile(SOURCE, "a.jpg", destination(storage))
    assert result.status == "removed" and storage.keys(RESIZED) == []


def test_a_delete_reconciled_while_an_older_upload_is_made_cannot_be_undone_by_it(storage):
    """The resurrection race: the upload's invocation read the photo; the photo is deleted and
    that delete fully reconciled (nothing there yet) before the upload's invocation writes."""
    storage.add(SOURCE, "a.jpg", JPEG)

    def deleted_and_reconciled() -> None:
        storage.remove(SOURCE, "a.jpg")
        assert reconcile(SOURCE, "a.jpg", destination(storage)).status == "skipped"

    storage.before[("PUT", RESIZED, "64x64/a.jpg")] = deleted_and_reconciled
    assert reconcile(SOURCE, "a.jpg", destination(storage)).status == "removed"
    assert storage.keys(RESIZED) == []


def test_an_overwrite_during_the_writes_ends_with_the_new_objects_thumbnails_only(storage):
    """A JPEG overwritten by a PNG under the same key: the PNG's names, the JPEG's gone."""
    storage.add(SOURCE, "a.jpg", JPEG)
    storage.before[("PUT", RESIZED, "64x64/a.jpg")] = lambda: storage.add(SOURCE, "a.jpg", PNG)
    assert reconcile(SOURCE, "a.jpg", destination(storage)).status == "created"
    assert_current(storage, "a.jpg", ["128x128/a.jpg.png", "64x64/a.jpg.png"])


def test_a_commit_that_finds_another_invocations_manifest_starts_over_and_finds_the_work_done(storage):
    """Another invocation made and committed the same key between our read and our commit:
    the next attempt finds every thumbnail recording the current object, and stops there."""
    storage.add(SOURCE, "a.jpg", JPEG)
    storage.before[("PUT", RESIZED, "manifests/a.jpg.json")] = lambda: reconcile(SOURCE, "a.jpg", destination(storage))
    assert reconcile(SOURCE, "a.jpg", destination(storage)).status == "duplicate"
    assert_current(storage, "a.jpg", ["128x128/a.jpg", "64x64/a.jpg"])


def test_what_an_earlier_attempt_wrote_for_another_object_is_deleted_when_the_work_is_done(storage):
    """Our first attempt wrote the PNG's names; meanwhile a JPEG replaced it and another
    invocation made and committed the JPEG's: ours are strays, and go."""
    storage.add(SOURCE, "a.jpg", PNG)

    def replaced_and_made() -> None:
        storage.add(SOURCE, "a.jpg", JPEG)
        assert reconcile(SOURCE, "a.jpg", destination(storage)).status == "created"

    storage.before[("PUT", RESIZED, "manifests/a.jpg.json")] = replaced_and_made
    result = reconcile(SOURCE, "a.jpg", destination(storage))
    assert result.status == "duplicate"
    assert_current(storage, "a.jpg", ["128x128/a.jpg", "64x64/a.jpg"])


def test_an_older_upload_finishing_after_a_newer_one_is_undone_by_itself(storage):
    """The newer upload's invocation finishes first; the older one's writes land after, and its
    HEAD then sees that its object is no longer current, so it makes the current one's."""
    storage.add(SOURCE, "a.jpg", PNG)

    def newer_upload_made() -> None:
        storage.add(SOURCE, "a.jpg", JPEG)
        assert reconcile(SOURCE, "a.jpg", destination(storage)).status == "created"

    storage.before[("PUT", RESIZED, "64x64/a.jpg.png")] = newer_upload_made
    reconcile(SOURCE, "a.jpg", destination(storage))
    assert_current(storage, "a.jpg", ["128x128/a.jpg", "64x64/a.jpg"])


class ChangingStorage(InMemoryStorage):
    """Every HEAD of the source finds it overwritten: a key rewritten without pause."""

    def head(self, bucket: str, key: str) -> Stored | None:
        if bucket == SOURCE:
            self.add(SOURCE, key, source_bytes("RGB", (40 + self.requests["HEAD"], 30), "JPEG"))
        return super().head(bucket, key)


def test_a_key_that_never_stops_changing_fails_as_retryable_after_the_attempts():
    storage = ChangingStorage()
    storage.add(SOURCE, "a.jpg", JPEG)
    with pytest.raises(WriteConflict, match=f"each of {MAX_ATTEMPTS} attempts"):
        reconcile(SOURCE, "a.jpg", destination(storage))


def test_a_thumbnail_a_crashed_invocation_overwrote_is_made_again_not_taken_for_a_duplicate(storage):
    storage.add(SOURCE, "a.jpg", JPEG)
    reconcile(SOURCE, "a.jpg", destination(storage))
    stale = storage.objects[(RESIZED, "64x64/a.jpg")]
    storage.objects[(RESIZED, "64x64/a.jpg")] = replace(stale, metadata={**stale.metadata, "source-etag": "0ld"})
    assert reconcile(SOURCE, "a.jpg", destination(storage)).status == "created"
    assert_current(storage, "a.jpg", ["128x128/a.jpg", "64x64/a.jpg"])


def test_a_listed_thumbnail_written_again_since_is_deleted_only_if_it_names_the_key(storage):
    """The ETag the manifest recorded no longer matches: the object's own metadata decides."""
    storage.add(SOURCE, "a.jpg", JPEG)
    reconcile(SOURCE, "a.jpg", destination(storage))
    for name, owner in (("64x64/a.jpg", "a.jpg"), ("128x128/a.jpg", "b.jpg")):
        stored = storage.objects[(RESIZED, name)]
        storage.objects[(RESIZED, name)] = replace(stored, data=b"again", metadata={**stored.metadata, "source-key": owner})
    storage.remove(SOURCE, "a.jpg")
    result = reconcile(SOURCE, "a.jpg", destination(storage))
    assert sorted(result.removed) == ["64x64/a.jpg", "manifests/a.jpg.json"]
    assert storage.keys(RESIZED) == ["128x128/a.jpg"]


def test_a_manifest_from_before_etags_were_recorded_removes_only_what_names_its_key(storage):
    """Written by an earlier version: 'a.png' (JPEG bytes) and 'a.png.jpg' then shared
    64x64/a.png.jpg, and the last one written, a.png.jpg's, holds it."""
    storage.objects[(RESIZED, "64x64/a.png.jpg")] = _legacy_thumbnail("a.png.jpg")
    storage.objects[(RESIZED, "128x128/a.png.jpg")] = _legacy_thumbnail("a.png")
    body = {"source": {"bucket": SOURCE, "key": "a.png"},
            "renditions": [{"key": "64x64/a.png.jpg"}, {"key": "128x128/a.png.jpg"}]}  # fmt: skip
    storage.write(RESIZED, "manifests/a.png.json", json.dumps(body).encode(), "application/json",
                  {"source-bucket": SOURCE, "source-key": "a.png"})  # fmt: skip
    result = reconcile(SOURCE, "a.png", destination(storage))  # a.png is gone from the source
    assert sorted(result.removed) == ["128x128/a.png.jpg", "manifests/a.png.json"]
    assert storage.keys(RESIZED) == ["64x64/a.png.jpg"]


def _legacy_thumbnail(owner: str):
    from tests.fakes import StoredObject

    return StoredObject(b"thumbnail of " + owner.encode(), "image/jpeg", {"source-bucket": SOURCE, "source-key": owner})


def test_a_rule_change_replaces_the_old_boxes_and_a_removal_finds_them_all(storage):
    storage.add(SOURCE, "a.jpg", JPEG)
    reconcile(SOURCE, "a.jpg", destination(storage))
    resized = replace(SETTINGS, sizes=(Box(96, 96),))
    assert reconcile(SOURCE, "a.jpg", destination(storage, resized)).status == "created"
    assert_current(storage, "a.jpg", ["96x96/a.jpg"])
    storage.add(SOURCE, "b.jpg", JPEG)
    reconcile(SOURCE, "b.jpg", destination(storage))  # 64 and 128, then the sizes change and it goes
    storage.remove(SOURCE, "b.jpg")
    result = reconcile(SOURCE, "b.jpg", destination(storage, resized))
    assert sorted(result.removed) == ["128x128/b.jpg", "64x64/b.jpg", "manifests/b.jpg.json"]


@pytest.mark.parametrize(("data", "status", "reason"), [
    (b"<html>not an image</html>", "failed", "NotAnImage"), (b"", "skipped", "empty object (0 bytes)"),
])  # fmt: skip
def test_an_image_overwritten_by_something_that_is_not_one_loses_its_thumbnails(storage, data, status, reason):
    storage.add(SOURCE, "a.jpg", JPEG)
    reconcile(SOURCE, "a.jpg", destination(storage))
    storage.add(SOURCE, "a.jpg", data)
    result = reconcile(SOURCE, "a.jpg", destination(storage))
    assert (result.status, result.reason.split(":")[0]) == (status, reason.split(":")[0])
    assert sorted(result.removed) == ["128x128/a.jpg", "64x64/a.jpg", "manifests/a.jpg.json"]
    assert storage.keys(RESIZED) == []


def test_a_key_another_source_bucket_made_is_refused_not_overwritten(storage):
    storage.add("other-source", "a.jpg", JPEG)
    reconcile("other-source", "a.jpg", destination(storage))
    storage.add(SOURCE, "a.jpg", PNG)
    with pytest.raises(SharedDestination, match="two source buckets"):
        reconcile(SOURCE, "a.jpg", destination(storage))
    assert manifest(storage, "a.jpg")["source"]["bucket"] == "other-source"


def test_without_manifests_a_removal_finds_the_thumbnails_by_name_and_by_owner(storage):
    settings = replace(SETTINGS, manifest=False)
    storage.add(SOURCE, "a.jpg", PNG)  # a PNG named .jpg: its names are the .png ones
    assert reconcile(SOURCE, "a.jpg", destination(storage, settings)).status == "created"
    assert storage.keys(RESIZED) == ["128x128/a.jpg.png", "64x64/a.jpg.png"]
    storage.objects[(RESIZED, "64x64/a.jpg")] = _legacy_thumbnail("a.jpg.jpg")  # not a.jpg's
    storage.remove(SOURCE, "a.jpg")
    result = reconcile(SOURCE, "a.jpg", destination(storage, settings))
    assert sorted(result.removed) == ["128x128/a.jpg.png", "64x64/a.jpg.png"]
    assert storage.keys(RESIZED) == ["64x64/a.jpg"]


def test_keys_that_are_never_sources_cost_no_request(storage):
    for key in ("notes.txt", "photos/"):
        assert reconcile(SOURCE, key, destination(storage)).status == "skipped"
    assert storage.requests == {}
