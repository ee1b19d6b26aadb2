"""Every payload in events/ has a case listing what it must yield: these are the same files
users pass to `sam local invoke -e` and paste into the console."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from local_run.inputs.s3_events import event_files, load_event

from create_thumbnail.errors import InvalidEvent, InvalidRecord
from create_thumbnail.events import (
    Change,
    Skip,
    Unreadable,
    parse_event,
    parse_record,
)

SRC = "example-source-bucket"
CONSOLE_BUCKET = "create-thumbnail-source-123456789012-us-east-1"
FOREIGN_EVENTS = Path(__file__).resolve().parents[1] / "fixtures" / "foreign-events"
CAFE = "photos/Summer 2026/café + friends.JPG"
EXPECTED = {
    # The Lambda console's S3 Put template as is, but for the bucket and the key.
    "console-put.json": ("s3", [Change(CONSOLE_BUCKET, "photos/HappyFace.jpg", etag="0123456789abcdef0123456789abcdef", size=1024, sequencer="0A1B2C3D4E5F678901")]),
    "put.json": ("s3", [Change(SRC, "photos/sample.jpg", etag="d41d8cd98f00b204e9800998ecf8427e", size=1024, sequencer="0065A1B2C3D4E5F601")]),
    "put-multiple.json": ("s3", [
        Change(SRC, "photos/beach.jpg", etag="0f343b0931126a20f133d67c2b018a3b", size=2483712, sequencer="0065A1B2C3D4E5F601"),
        Change(SRC, "graphics/logo.png", etag="9b2cf535f27731c974343645a3985328", size=48213, sequencer="0065A1B2C3D4E5F602"),
        Change(SRC, "docs/notes.txt", etag="b1946ac92492d2347c6235b4d2611184", size=312, sequencer="0065A1B2C3D4E5F603"),
    ]),
    "put-encoded-key.json": ("s3", [Change(SRC, CAFE, etag="5d41402abc4b2a76b9719d911017c592", size=1843200, sequencer="0065A1B2C3D4E5F601")]),
    "put-non-image.json": ("s3", [Change(SRC, "docs/report.pdf", etag="7215ee9c7d9dc229d2921a40e899ec5f", size=88412, sequencer="0065A1B2C3D4E5F601")]),
    "delete.json": ("s3", [Change(SRC, "photos/sample.jpg", removed=True, sequencer="0065A1B2C3D4E5F601")]),
    "delete-marker.json": ("s3", [Change(SRC, "photos/sample.jpg", removed=True, version_id="1Gk8pRFZFXjMdm1ZLMpVWLjNfJnkV7mn", sequencer="0065A1B2C3D4E5F602")]),
    # AWS's own sample of this event, with its eventVersion 2.3 and lifecycleEventData.
    "lifecycle-expiration.json": ("s3", [Change(SRC, "photos/old.jpg", removed=True, etag="0f343b0931126a20f133d67c2b018a3b", size=1048576, version_id="hJ1vQR5Cc2EwWmAsFdNfbk7IX0zy2oHR", sequencer="0065A1B2C3D4E5F610")]),
    "s3-test-event.json": ("s3", [Skip("s3:TestEvent", SRC)]),
    "sqs-s3.json": ("sqs", [
        Change(SRC, "photos/beach.jpg", etag="0f343b0931126a20f133d67c2b018a3b", size=2483712, sequencer="0065A1B2C3D4E5F601", origin="sqs:s3", receipt="059f36b4-87a3-44ab-83d2-661975830a7d"),
        Change(SRC, "photos/old.jpg", removed=True, sequencer="0065A1B2C3D4E5F602", origin="sqs:s3", receipt="2e1424d4-f796-459a-8184-9c92662be6da"),
        Skip("s3:TestEvent", SRC, receipt="3a4c2d5e-0b1f-4c8e-9d7a-6f5e4d3c2b1a"),
    ]),
    "sqs-sns-s3.json": ("sqs", [Change(SRC, CAFE, etag="5d41402abc4b2a76b9719d911017c592", size=1843200, sequencer="0065A1B2C3D4E5F603", origin="sqs:sns:s3", receipt="c80e8021-a70a-42c7-a470-796e1186f753")]),
    "sns-s3.json": ("sns", [Change(SRC, "graphics/logo.png", etag="9b2cf535f27731c974343645a3985328", size=48213, sequencer="0065A1B2C3D4E5F604", origin="sns:s3", receipt="95df01b4-ee98-5cb9-9903-4c221d41eb5e")]),
    "eventbridge-object-created.json": ("eventbridge", [
        # EventBridge keys are taken literally: ':' and '+' are not encodings there.
        Change(SRC, "photos/2026-11-23T12:00:00 a+b.jpg", etag="4e68adba0abe2dc8653dc3354e14c01d", size=184662, sequencer="006408CAD69598B05E", origin="eventbridge", receipt="f5f1e65c-dc3a-93ca-6c1e-b1647eac7963"),
    ]),
    "eventbridge-object-deleted.json": ("eventbridge", [
        Change(SRC, "photos/2026-11-23T12:00:00 a+b.jpg", removed=True, sequencer="006408CAD69598B060", origin="eventbridge", receipt="2ee9cc15-d022-99ea-1fb8-1b1bac4850f9"),
    ]),
    "batch-operations-v1.json": ("batch", [Change(SRC, CAFE, origin="batch", receipt="dGFza2lkZ29lc2hlcmUK")]),
    "batch-operations-v2.json": ("batch", [
        Change(SRC, "photos/beach.jpg", origin="batch", receipt="dGFza2lkZ29lc2hlcmUK"),
        Change(SRC, "graphics/logo.png", version_id="3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", origin="batch", receipt="dGFza2lkZ29lc2hlcmUL"),
    ]),
}  # fmt: skip


def test_every_event_file_has_expectations():
    assert [path.name for path in event_files()] == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event_file_yields_expected_items(name):
    parsed = parse_event(load_event(name))
    assert (parsed.kind, list(parsed.items)) == EXPECTED[name]


def test_batch_operations_invocation_is_kept_for_the_reply():
    assert parse_event(load_event("batch-operations-v2.json")).invocation == {
        "invocationSchemaVersion": "2.0",
        "invocationId": "YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo",
    }


def test_poisoned_sqs_message_is_unreadable_and_named_others_still_parse():
    event = load_event("sqs-s3.json")
    event["Records"][1]["body"] = "this is not json"
    event["Records"][2]["body"] = json.dumps({"hello": "world"})
    items = parse_event(event).items
    assert isinstance(items[0], Change)
    assert items[1] == Unreadable("sqs message body is not a JSON object", "2e1424d4-f796-459a-8184-9c92662be6da")
    assert items[2] == Unreadable("sqs message is not an S3 event notification", "3a4c2d5e-0b1f-4c8e-9d7a-6f5e4d3c2b1a")


def test_other_s3_event_types_are_skipped_and_lifecycle_expiry_is_a_removal():
    event = load_event("put.json")
    event["Records"].append(json.loads(json.dumps(event["Records"][0])))
    event["Records"][0]["eventName"] = "ObjectRestore:Completed"
    event["Records"][1]["eventName"] = "LifecycleExpiration:Delete"
    first, second = parse_event(event).items
    assert isinstance(first, Skip) and "ObjectRestore:Completed" in first.reason
    assert isinstance(second, Change) and second.removed


def test_other_eventbridge_detail_types_are_skipped():
    event = load_event("eventbridge-object-created.json")
    event["detail-type"] = "Object Restore Completed"
    [item] = parse_event(event).items
    assert isinstance(item, Skip)


@pytest.mark.parametrize(
    "event",
    [{"Records": "nope"}, {"source": "aws.ec2"}, {"invocationSchemaVersion": "3.0", "tasks": []}],
    ids=["records-not-a-list", "unknown", "batch-schema-3"],
)
def test_unknown_payloads_are_invalid_events(event):
    with pytest.raises(InvalidEvent):
        parse_event(event)


def test_broken_batch_task_is_unreadable():
    event = load_event("batch-operations-v2.json")
    del event["tasks"][0]["s3Key"]
    assert isinstance(parse_event(event).items[0], Unreadable)


def test_keys_are_form_decoded_plus_is_space_and_percent2b_is_plus():
    key = "a b+c/ü%.jpg"
    record = load_event("put.json")["Records"][0]
    record["s3"]["object"]["key"] = quote_plus(key, safe="/")
    assert parse_record(record).key == key


def test_event_without_records_is_invalid_with_its_keys_named():
    with pytest.raises(InvalidEvent, match=r"got an object with keys \['detail', 'source'\]"):
        parse_event({"source": "aws.s3", "detail": {}})


def test_non_object_payload_is_invalid():
    with pytest.raises(InvalidEvent, match="got list"):
        parse_event([])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.update(eventSource="aws:sqs"), "eventSource 'aws:sqs' is not 'aws:s3'"),
        (lambda r: r["s3"].pop("object"), "lacks s3.bucket.name or s3.object.key"),
        (lambda r: r["s3"]["bucket"].update(name=""), "must be non-empty strings"),
    ],
)
def test_broken_record_is_invalid(mutate, message):
    record = load_event("put.json")["Records"][0]
    mutate(record)
    with pytest.raises(InvalidRecord, match=message):
        parse_record(record)


@pytest.mark.parametrize("size", ["1024", -1, True, None])
def test_implausible_size_is_unknown_not_trusted(size):
    record = load_event("put.json")["Records"][0]
    record["s3"]["object"]["size"] = size
    assert parse_record(record).size is None


def test_version_id_is_kept_for_versioned_buckets():
    record = load_event("put.json")["Records"][0]
    record["s3"]["object"]["versionId"] = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    assert parse_record(record).version_id == "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"


@pytest.mark.parametrize("name", ["go-s3-event.json", "rust-example-s3-event.json"])
def test_other_runtimes_sample_events_parse_and_their_sequencer_is_not_trusted(name):
    """The Go and Rust runtimes' S3 sample events: key 'Happy%20Face.jpg' (bucket and key
    edited), versionId "version", sequencer "Happy Sequencer", which is no hex and cannot be
    ordered against a real one."""
    event = json.loads((FOREIGN_EVENTS / name).read_text())
    [change] = parse_event(event).items
    assert change == Change(
        CONSOLE_BUCKET, "photos/Happy Face.jpg", etag="d41d8cd98f00b204e9800998ecf8427e",
        version_id="version", size=1024, sequencer=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("key", "decoded"),
    [("a%20b.jpg", "a b.jpg"), ("a+b%2Bc.jpg", "a+b+c.jpg"), ("%C3%A7a.png", "ça.png"), ("a b+c.jpg", None), ("100%.jpg", None)],
)
def test_eventbridge_key_with_escapes_carries_its_percent_decoded_spelling(key, decoded):
    """LocalStack percent-encodes EventBridge keys and AWS does not: the key is read as carried
    first, then as decoded; '+' is literal in both."""
    event = load_event("eventbridge-object-created.json")
    event["detail"]["object"]["key"] = key
    [change] = parse_event(event).items
    assert (change.key, change.decoded_key) == (key, decoded)
