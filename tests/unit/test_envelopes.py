"""The same pipeline behind every envelope: what each invoking service gets back, deletes, and
events that arrive out of order. In-memory storage; the sequencers are what S3 would assign."""

from __future__ import annotations

import itertools
import json
import random

import pytest
from local_run.backfill.plan import batch_event
from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import eventbridge_event, load_event, put_event, put_record

from create_thumbnail.errors import StorageUnavailable
from create_thumbnail.pipeline import handle_event
from tests.fakes import InMemoryStorage
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
    storage.failures[("read", SOURCE, "throttled.jpg")] = StorageUnavailable("SlowDown (HTTP 503)")
    report = handle_event(event, SETTINGS, storage)
    assert report.reply() == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m3"}]}
    assert not report.raises
    assert storage.keys(RESIZED) == ["128x128/ok.jpg", "64x64/ok.jpg", "manifests/ok.jpg.json"]


def test_batch_operations_reply_has_a_result_per_task(storage):
    for key, data in (("a.jpg", PHOTO), ("b.jpg", b"<html>"), ("c.jpg", PHOTO)):
        storage.add(SOURCE, key, data)
    storage.failures[("read", SOURCE, "c.jpg")] = StorageUnavailable("InternalError (HTTP 500)")
    event = batch_event(SOURCE, ["a.jpg", "b.jpg", "c.jpg", "gone.jpg"], "job-1")
    reply = handle_event(event, SETTINGS, storage).reply()
    assert reply["invocationSchemaVersion"] == "2.0" and reply["invocationId"] == event["invocationId"]
    assert reply["treatMissingKeysAs"] == "PermanentFailure"
    codes = [(r["taskId"], r["resultCode"]) for r in reply["results"]]
    assert codes == [("job-1-0", "Succeeded"), ("job-1-1", "PermanentFailure"),
                     ("job-1-2", "TemporaryFailure"), ("job-1-3", "PermanentFailure")]  # fmt: skip
    assert reply["results"][0]["resultString"] == "created 64x64/a.jpg 128x128/a.jpg"
    assert reply["results"][3]["resultString"].startswith("failed: SourceMissing")


def test_direct_event_still_raises_for_a_transient_failure(storage):
    event = put_event(storage.upload(SOURCE, "a.jpg", PHOTO))
    storage.failures[("read", SOURCE, "a.jpg")] = StorageUnavailable("SlowDown (HTTP 503)")
    assert handle_event(event, SETTINGS, storage).raises


def test_delete_removes_every_thumbnail_of_the_key(storage):
    created = storage.upload(SOURCE, "a.jpg", PHOTO)
    handle_event(put_event(created), SETTINGS, storage)
    storage.objects[(RESIZED, "64x64/a.jpg.png")] = storage.objects[(RESIZED, "64x64/a.jpg")]  # as if once a PNG
    del storage.objects[(SOURCE, "a.jpg")]
    [outcome] = handle_event(_removal("a.jpg", "0065A1B2C3D4E5F699"), SETTINGS, storage).outcomes
    assert outcome.status == "removed"
    assert sorted(outcome.removed) == ["128x128/a.jpg", "64x64/a.jpg", "64x64/a.jpg.png", "manifests/a.jpg.json"]
    assert storage.keys(RESIZED) == []


def test_delete_older_than_the_thumbnails_leaves_them(storage):
    handle_event(put_event(_put(storage, "a.jpg", PHOTO, "0000000000000000B0")), SETTINGS, storage)
    [outcome] = handle_event(_removal("a.jpg", "00000000000000000A"), SETTINGS, storage).outcomes
    assert (outcome.status, outcome.reason) == ("skipped", "thumbnails are from a later upload: kept")
    assert len(storage.keys(RESIZED)) == 3  # two thumbnails and the manifest


def _put(storage: InMemoryStorage, key: str, data: bytes, sequencer: str) -> dict:
    ref = storage.add(SOURCE, key, data)
    return put_record(SOURCE, key, len(data), ref.etag or "", sequencer=sequencer)


def _removal(key: str, sequencer: str) -> dict:
    record = load_event("delete.json")
    record["Records"][0]["s3"]["bucket"]["name"] = SOURCE
    record["Records"][0]["s3"]["object"].update(key=key, sequencer=sequencer)
    return record


def test_a_console_test_event_does_not_make_later_uploads_look_stale(storage):
    """The console's template carries sequencer 0A1B2C3D4E5F678901, after every real one: had
    the thumbnails recorded it, every later real upload of the key would be skipped as stale."""
    console = load_event("console-put.json")
    console["Records"][0]["s3"]["bucket"]["name"] = SOURCE
    storage.add(SOURCE, "photos/HappyFace.jpg", IMAGES["A"])
    assert handle_event(console, SETTINGS, storage).outcomes[0].status == "created"
    later = _put(storage, "photos/HappyFace.jpg", IMAGES["B"], "0065A1B2C3D4E5F6FF")
    assert handle_event(put_event(later), SETTINGS, storage).outcomes[0].status == "created"
    thumbnail = storage.objects[(RESIZED, "128x128/photos/HappyFace.jpg")]
    assert thumbnail.metadata["source-etag"] == storage.objects[(SOURCE, "photos/HappyFace.jpg")].etag


# ---- out of order: any delivery order ends where the last operation says -----------------------

IMAGES = {"A": source_bytes("RGB", (400, 300), "JPEG"), "B": source_bytes("L", (300, 400), "JPEG")}


def _operations(seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(["A", "B", "delete"]) for _ in range(rng.randint(2, 4))]


# Same bytes uploaded twice around a delete: the ETag alone cannot tell the old upload's event
# from the new one's, only the sequencer can.
CRAFTED = [["A", "delete", "A"], ["A", "A", "delete"], ["delete", "A", "B"], ["A", "B", "A", "delete"]]


@pytest.mark.parametrize("operations", CRAFTED + [_operations(seed) for seed in range(12)], ids=str)
def test_shuffled_creates_and_deletes_end_in_the_state_the_latest_event_implies(operations):
    orders = list(itertools.permutations(range(len(operations))))
    for order in random.Random(str(operations)).sample(orders, min(len(orders), 8)):
        storage = InMemoryStorage()
        events = []
        for step, operation in enumerate(operations):  # what happened, with S3's sequencers
            sequencer = f"{step + 1:018X}"
            if operation == "delete":
                storage.objects.pop((SOURCE, "k.jpg"), None)
                events.append(_removal("k.jpg", sequencer))
            else:
                events.append(put_event(_put(storage, "k.jpg", IMAGES[operation], sequencer)))
        for index in order:  # the order the events arrive in
            handle_event(events[index], SETTINGS, storage)
        _assert_state(storage, operations[-1], operations, order)


def _assert_state(storage: InMemoryStorage, last: str, operations: list[str], order: tuple) -> None:
    thumbnails = storage.keys(RESIZED)
    context = f"operations {operations}, delivered in order {order}"
    if last == "delete":
        assert thumbnails == [], context
        return
    assert thumbnails == ["128x128/k.jpg", "64x64/k.jpg", "manifests/k.jpg.json"], context
    etag = storage.objects[(SOURCE, "k.jpg")].etag
    for key in thumbnails:
        assert storage.objects[(RESIZED, key)].metadata["source-etag"] == etag, context
    assert json.loads(storage.objects[(RESIZED, "manifests/k.jpg.json")].data)["source"]["etag"] == etag, context


# ---- EventBridge keys: as carried (AWS), or percent-encoded (LocalStack) -----------------------


@pytest.mark.parametrize("spelling", ["photos/a b+c.jpg", "photos/a%20b%2Bc.jpg"], ids=["aws", "percent-encoded"])
def test_eventbridge_key_in_either_spelling_reaches_the_same_object(storage, spelling):
    storage.add(SOURCE, "photos/a b+c.jpg", PHOTO)
    event = eventbridge_event(SOURCE, spelling, len(PHOTO), "")
    [outcome] = handle_event(event, SETTINGS, storage).outcomes
    assert (outcome.status, outcome.key) == ("created", "photos/a b+c.jpg")
    assert storage.keys(RESIZED) == ["128x128/photos/a b+c.jpg", "64x64/photos/a b+c.jpg", "manifests/photos/a b+c.jpg.json"]


def test_eventbridge_key_that_exists_as_carried_is_not_decoded(storage):
    """'100%20off.jpg' is a legal key: read literally first, it is found, and its twin is not."""
    storage.add(SOURCE, "100%20off.jpg", PHOTO)
    storage.add(SOURCE, "100 off.jpg", IMAGES["B"])
    [outcome] = handle_event(eventbridge_event(SOURCE, "100%20off.jpg", len(PHOTO), ""), SETTINGS, storage).outcomes
    assert outcome.key == "100%20off.jpg"
    assert storage.keys(RESIZED) == ["128x128/100%20off.jpg", "64x64/100%20off.jpg", "manifests/100%20off.jpg.json"]


def test_eventbridge_removal_with_a_percent_encoded_key_removes_the_decoded_keys_thumbnails(storage):
    storage.add(SOURCE, "photos/a b.jpg", PHOTO)
    handle_event(eventbridge_event(SOURCE, "photos/a b.jpg", len(PHOTO), ""), SETTINGS, storage)
    removal = load_event("eventbridge-object-deleted.json")
    removal["detail"]["bucket"]["name"] = SOURCE
    removal["detail"]["object"]["key"] = "photos/a%20b.jpg"
    [outcome] = handle_event(removal, SETTINGS, storage).outcomes
    assert (outcome.status, outcome.key) == ("removed", "photos/a b.jpg")
    assert storage.keys(RESIZED) == []


def test_a_key_missing_in_both_spellings_is_source_missing(storage):
    [outcome] = handle_event(eventbridge_event(SOURCE, "gone%20away.jpg", 10, ""), SETTINGS, storage).outcomes
    assert outcome.status == "failed" and outcome.reason.startswith("SourceMissing")
