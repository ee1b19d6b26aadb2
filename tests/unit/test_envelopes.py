"""The same pipeline behind every envelope: what each invoking service gets back, deletes, and
events that arrive out of order, duplicated, or about versions that are no longer current.
In-memory storage, with versions and delete markers."""

from __future__ import annotations

import itertools
import json
import random

import pytest
from local_run.backfill.plan import batch_event
from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import eventbridge_event, load_event, put_event

from create_thumbnail.errors import StorageUnavailable
from create_thumbnail.pipeline import handle_event
from tests.fakes import DeleteMarker, InMemoryStorage
from tests.unit.test_pipeline import PHOTO, RESIZED, SETTINGS, SOURCE


def sqs(*bodies: dict | str) -> dict:
    template = load_event("sqs-s3.json")["Records"][0]
    return {"Records": [
        {**template, "messageId": f"m{i}", "body": body if isinstance(body, str) else json.dumps(body)}
        for i, body in enumerate(bodies)
    ]}  # fmt: skip


def test_sqs_reply_names_transient_and_poisoned_messages_only(storage):
    event = sqs(
        put_event(storage.upload(SOURCE, "ok.jpg", PHOTO)),
        put_event(storage.upload(SOURCE, "throttled.jpg", PHOTO)),
        put_event(storage.upload(SOURCE, "corrupt.jpg", b"<html>")),  # permanent: not retried
        "not json at all",  # poison: to the dead-letter queue after maxReceiveCount
        put_event(storage.upload(SOURCE, "notes.txt", b"text")),
    )
    storage.failures[("GET", SOURCE, "throttled.jpg")] = StorageUnavailable("SlowDown (HTTP 503)")
    report = handle_event(event, SETTINGS, storage)
    assert report.reply() == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]}
    assert not report.raises
    assert storage.keys(RESIZED) == ["128x128/ok.jpg", "64x64/ok.jpg", "manifests/ok.jpg.json"]


def test_batch_operations_reply_has_a_result_per_task(storage):
    for key, data in (("a.jpg", PHOTO), ("b.jpg", b"<html>"), ("c.jpg", PHOTO)):
        storage.add(SOURCE, key, data)
    storage.failures[("GET", SOURCE, "c.jpg")] = StorageUnavailable("InternalError (HTTP 500)")
    event = batch_event(SOURCE, ["a.jpg", "b.jpg", "c.jpg", "gone.jpg"], "job-1")
    reply = handle_event(event, SETTINGS, storage).reply()
    assert reply["invocationSchemaVersion"] == "2.0" and reply["invocationId"] == event["invocationId"]
    assert reply["treatMissingKeysAs"] == "PermanentFailure"
    codes = [(r["taskId"], r["resultCode"]) for r in reply["results"]]
    assert codes == [("job-1-0", "Succeeded"), ("job-1-1", "PermanentFailure"),
                     ("job-1-2", "TemporaryFailure"), ("job-1-3", "Succeeded")]  # fmt: skip
    assert reply["results"][0]["resultString"] == "created 64x64/a.jpg 128x128/a.jpg"
    # deleted since the job's manifest was listed: nothing to make is what the key needs
    assert reply["results"][3]["resultString"] == "skipped: no current object and no thumbnails: nothing to do"


def test_direct_event_still_raises_for_a_transient_failure(storage):
    event = put_event(storage.upload(SOURCE, "a.jpg", PHOTO))
    storage.failures[("GET", SOURCE, "a.jpg")] = StorageUnavailable("SlowDown (HTTP 503)")
    assert handle_event(event, SETTINGS, storage).raises


def test_delete_removes_every_thumbnail_of_the_key(storage):
    created = storage.upload(SOURCE, "a.jpg", PHOTO)
    handle_event(put_event(created), SETTINGS, storage)
    storage.objects[(RESIZED, "64x64/a.jpg.png")] = storage.objects[(RESIZED, "64x64/a.jpg")]  # as if once a PNG
    storage.remove(SOURCE, "a.jpg")
    [outcome] = handle_event(_removal("a.jpg"), SETTINGS, storage).outcomes
    assert outcome.status == "removed"
    assert sorted(outcome.removed) == ["128x128/a.jpg", "64x64/a.jpg", "64x64/a.jpg.png", "manifests/a.jpg.json"]
    assert storage.keys(RESIZED) == []


def test_a_removal_event_for_a_key_that_exists_again_leaves_its_thumbnails(storage):
    """Delivered after the key was uploaded again: what the key holds now decides."""
    handle_event(put_event(storage.upload(SOURCE, "a.jpg", PHOTO)), SETTINGS, storage)
    [outcome] = handle_event(_removal("a.jpg"), SETTINGS, storage).outcomes
    assert outcome.status == "duplicate"
    assert len(storage.keys(RESIZED)) == 3  # two thumbnails and the manifest


def _removal(key: str, version_id: str | None = None, marker: bool = False) -> dict:
    event = load_event("delete.json")
    record = event["Records"][0]
    record["s3"]["bucket"]["name"] = SOURCE
    record["s3"]["object"]["key"] = key
    if version_id:
        record["s3"]["object"]["versionId"] = version_id
    if marker:
        record["eventName"] = "ObjectRemoved:DeleteMarkerCreated"
    return event


def test_a_console_test_event_reads_the_key_as_it_is(storage):
    """Its ETag, size and sequencer are made up; the key as it is now is what is made, and a
    later upload's own event makes its thumbnails in turn."""
    console = load_event("console-put.json")
    console["Records"][0]["s3"]["bucket"]["name"] = SOURCE
    storage.add(SOURCE, "photos/HappyFace.jpg", IMAGES["A"])
    assert handle_event(console, SETTINGS, storage).outcomes[0].status == "created"
    later = storage.upload(SOURCE, "photos/HappyFace.jpg", IMAGES["B"])
    assert handle_event(put_event(later), SETTINGS, storage).outcomes[0].status == "created"
    # a PNG now, under the same key: the JPEG's thumbnails made way for the PNG's
    assert storage.keys(RESIZED) == ["128x128/photos/HappyFace.jpg.png", "64x64/photos/HappyFace.jpg.png",
                                     "manifests/photos/HappyFace.jpg.json"]  # fmt: skip
    thumbnail = storage.objects[(RESIZED, "128x128/photos/HappyFace.jpg.png")]
    assert thumbnail.metadata["source-etag"] == storage.objects[(SOURCE, "photos/HappyFace.jpg")].etag


# ---- out of order: any delivery order ends where the key is now ----------------------------------

IMAGES = {"A": source_bytes("RGB", (400, 300), "JPEG"), "B": source_bytes("L", (300, 400), "PNG")}


def _operations(seed: int, choices: tuple[str, ...]) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(choices) for _ in range(rng.randint(2, 5))]


# Same bytes uploaded twice around a delete: no event's own ETag can tell which upload it was.
CRAFTED = [["A", "delete", "A"], ["A", "A", "delete"], ["delete", "A", "B"], ["A", "B", "A", "delete"]]
PLAIN = ("A", "B", "delete")
# On a versioned bucket: a delete marker, removing the newest marker (undelete), deleting the
# oldest version for good (noncurrent, or the current one if it is the only one).
VERSIONED = ("A", "B", "delete", "undelete", "drop-oldest")


@pytest.mark.parametrize("operations", CRAFTED + [_operations(seed, PLAIN) for seed in range(12)], ids=str)
def test_shuffled_creates_and_deletes_end_in_the_state_of_the_key(operations):
    _deliver_shuffled(operations, versioned=False)


@pytest.mark.parametrize("operations", [_operations(100 + seed, VERSIONED) for seed in range(16)], ids=str)
def test_shuffled_version_changes_end_in_the_state_of_the_key(operations):
    _deliver_shuffled(operations, versioned=True)


def _deliver_shuffled(operations: list[str], versioned: bool) -> None:
    orders = list(itertools.permutations(range(len(operations))))
    for order in random.Random(str(operations)).sample(orders, min(len(orders), 8)):
        storage = InMemoryStorage()
        if versioned:
            storage.versioned.add(SOURCE)
        events = [_perform(storage, operation) for operation in operations]
        for index in order:  # the order the events arrive in
            handle_event(events[index], SETTINGS, storage)
        _assert_state(storage, operations, order)


def _perform(storage: InMemoryStorage, operation: str) -> dict:
    """Does it to k.jpg, and returns the event S3 would send for it."""
    versions = storage.history.get((SOURCE, "k.jpg"), [])
    if operation == "delete":
        return _removal("k.jpg", storage.remove(SOURCE, "k.jpg"), marker=SOURCE in storage.versioned)
    if operation in ("undelete", "drop-oldest"):
        markers = [v for v in versions if isinstance(v, DeleteMarker)]
        chosen = (markers[-1:] if operation == "undelete" else versions[:1]) or [None]
        if chosen[0] is not None:
            storage.remove_version(SOURCE, "k.jpg", chosen[0].version_id)
        return _removal("k.jpg", chosen[0].version_id if chosen[0] else None)
    return put_event(storage.upload(SOURCE, "k.jpg", IMAGES[operation]))


def _assert_state(storage: InMemoryStorage, operations: list[str], order: tuple) -> None:
    thumbnails = storage.keys(RESIZED)
    context = f"operations {operations}, delivered in order {order}"
    current = storage.objects.get((SOURCE, "k.jpg"))
    if current is None:
        assert thumbnails == [], context
        return
    name = "k.jpg" if current.data == IMAGES["A"] else "k.jpg.png"
    assert thumbnails == [f"128x128/{name}", f"64x64/{name}", "manifests/k.jpg.json"], context
    for key in thumbnails:
        stored = storage.objects[(RESIZED, key)].metadata
        assert (stored["source-etag"], stored.get("source-version-id")) == (current.etag, current.version_id), context
    recorded = json.loads(storage.objects[(RESIZED, "manifests/k.jpg.json")].data)["source"]
    assert (recorded["etag"], recorded["version_id"]) == (current.etag, current.version_id), context


# ---- EventBridge keys: as carried (AWS), or percent-encoded (LocalStack) -----------------------


@pytest.mark.parametrize("spelling", ["photos/a b+c.jpg", "photos/a%20b%2Bc.jpg"], ids=["aws", "percent-encoded"])
def test_eventbridge_key_in_either_spelling_reaches_the_same_object(storage, spelling):
    storage.add(SOURCE, "photos/a b+c.jpg", PHOTO)
    event = eventbridge_event(SOURCE, spelling, len(PHOTO), "")
    [outcome] = handle_event(event, SETTINGS, storage).outcomes
    assert (outcome.status, outcome.key) == ("created", "photos/a b+c.jpg")
    assert storage.keys(RESIZED) == ["128x128/photos/a b+c.jpg", "64x64/photos/a b+c.jpg", "manifests/photos/a b+c.jpg.json"]


def test_eventbridge_key_is_reconciled_in_both_spellings(storage):
    """'100%20off.jpg' is a legal key, and so is '100 off.jpg': each ends with its own
    thumbnails, whichever the event meant."""
    storage.add(SOURCE, "100%20off.jpg", PHOTO)
    storage.add(SOURCE, "100 off.jpg", IMAGES["A"])
    [outcome] = handle_event(eventbridge_event(SOURCE, "100%20off.jpg", len(PHOTO), ""), SETTINGS, storage).outcomes
    assert outcome.key == "100%20off.jpg"
    assert storage.keys(RESIZED) == ["128x128/100 off.jpg", "128x128/100%20off.jpg", "64x64/100 off.jpg",
                                     "64x64/100%20off.jpg", "manifests/100 off.jpg.json", "manifests/100%20off.jpg.json"]


def test_eventbridge_removal_with_a_percent_encoded_key_removes_the_decoded_keys_thumbnails(storage):
    storage.add(SOURCE, "photos/a b.jpg", PHOTO)
    handle_event(eventbridge_event(SOURCE, "photos/a b.jpg", len(PHOTO), ""), SETTINGS, storage)
    storage.remove(SOURCE, "photos/a b.jpg")
    removal = load_event("eventbridge-object-deleted.json")
    removal["detail"]["bucket"]["name"] = SOURCE
    removal["detail"]["object"]["key"] = "photos/a%20b.jpg"
    [outcome] = handle_event(removal, SETTINGS, storage).outcomes
    assert (outcome.status, outcome.key) == ("removed", "photos/a b.jpg")
    assert storage.keys(RESIZED) == []


def test_a_key_missing_in_both_spellings_makes_nothing(storage):
    [outcome] = handle_event(eventbridge_event(SOURCE, "gone%20away.jpg", 10, ""), SETTINGS, storage).outcomes
    assert (outcome.status, outcome.key) == ("skipped", "gone%20away.jpg")
