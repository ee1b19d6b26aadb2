"""The deploy rehearsal: template.yaml's wiring, deployed on LocalStack, driven by LocalStack's S3,
and the built function fed what that S3 produced, the way Lambda would feed it.

Each test reads one mode's recorded rehearsal (conftest.py runs it once). What LocalStack's S3
wrote is never rewritten on the way: the SQS event wraps the queue's messages as they are, and
an EventBridge event is the target queue's message body as it is.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from io import BytesIO
from typing import Any
from urllib.parse import unquote, unquote_plus

import pytest
from PIL import Image
from rehearsal.event_source import TEST_EVENT, is_test_event, kept_by_reply
from rehearsal.stack import EVENTS_QUEUE

from tests.rehearsal.scenario import (
    BOX,
    DELETED,
    IMAGES,
    KEPT_IMAGES,
    UPLOADS,
    Rehearsal,
    Upload,
    outcomes,
)
from tests.template.conftest import resolve_conditions

pytestmark = pytest.mark.rehearsal

Rehearsed = Callable[[str], Rehearsal]
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}


def object_records(rehearsal: Rehearsal) -> list[dict[str, Any]]:
    """{"kind", "raw_key", "key", "detail"} for every message announcing an object, in either
    mode, its key decoded by the source's rule: form-encoding for an S3 notification (AWS's
    documentation), percent-encoding for an EventBridge event (what LocalStack sends; AWS sends
    the key as it is, which unquote leaves alone unless it holds a %XX escape)."""
    found = []
    for message in rehearsal.messages():
        if rehearsal.mode == "SQS":
            if message.get("Event") == TEST_EVENT:
                continue
            for record in message["Records"]:
                raw = record["s3"]["object"]["key"]
                kind = record["eventName"].split(":")[0]
                found.append({"kind": kind, "raw_key": raw, "key": unquote_plus(raw),
                              "detail": record["s3"]["object"]})  # fmt: skip
        else:
            raw = message["detail"]["object"]["key"]
            kind = {"Object Created": "ObjectCreated", "Object Deleted": "ObjectRemoved"}[
                message["detail-type"]
            ]
            found.append({"kind": kind, "raw_key": raw, "key": unquote(raw),
                          "detail": message["detail"]["object"]})  # fmt: skip
    return found


def statuses(rehearsal: Rehearsal) -> Counter[tuple[str, str]]:
    """(key, status) of every record the function logged, test events aside."""
    return Counter(
        (entry["key"], entry["status"])
        for entry in outcomes(rehearsal.deliveries)
        if entry.get("key") is not None
    )


# ---- the stack, as LocalStack's CloudFormation made it from our template -----------------------


def test_every_resource_the_template_declares_for_the_mode_was_created(
    rehearsal: Rehearsal,
) -> None:
    expected = resolve_conditions(rehearsal.template, {"TriggerMode": rehearsal.mode})
    assert set(rehearsal.stack.resources) == set(expected["Resources"])


def test_the_source_bucket_has_the_name_the_template_gives_it(rehearsal: Rehearsal) -> None:
    assert rehearsal.stack.outputs["SourceBucketName"] == rehearsal.source_bucket
    assert rehearsal.source_bucket == (
        f"rehearsal-{rehearsal.mode.lower()}-source-{rehearsal.account}-{rehearsal.region}"
    )


def test_sqs_mode_notifies_the_uploads_queue_of_creations_and_removals(
    rehearsed: Rehearsed,
) -> None:
    rehearsal = rehearsed("SQS")
    queue_arn = rehearsal.queue_attributes["QueueArn"]
    configured = sorted(
        (event, config["QueueArn"])
        for config in rehearsal.notification["QueueConfigurations"]
        for event in config["Events"]
    )
    assert configured == [(event, queue_arn) for event in ("s3:LifecycleExpiration:*", "s3:ObjectCreated:*", "s3:ObjectRemoved:*")]
    assert set(rehearsal.notification) == {"QueueConfigurations"}  # no Lambda, no EventBridge


def test_sqs_mode_queue_policy_lets_only_the_source_bucket_send(rehearsed: Rehearsed) -> None:
    rehearsal = rehearsed("SQS")
    policy = json.loads(rehearsal.queue_attributes["Policy"])
    statements = {statement["Sid"]: statement for statement in policy["Statement"]}
    assert statements["SourceBucketNotifications"] == {
        "Sid": "SourceBucketNotifications",
        "Effect": "Allow",
        "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sqs:SendMessage",
        "Resource": rehearsal.queue_attributes["QueueArn"],
        "Condition": {
            "ArnEquals": {"aws:SourceArn": f"arn:aws:s3:::{rehearsal.source_bucket}"},
            "StringEquals": {"aws:SourceAccount": rehearsal.account},
        },
    }
    assert statements["DenyInsecureTransport"]["Effect"] == "Deny"


def test_sqs_mode_uploads_queue_dead_letters_after_five_receives(rehearsed: Rehearsed) -> None:
    rehearsal = rehearsed("SQS")
    redrive = json.loads(rehearsal.queue_attributes["RedrivePolicy"])
    dead_letter_url = rehearsal.stack.resources["UploadsDeadLetterQueue"]
    assert redrive["deadLetterTargetArn"].rsplit(":", 1)[1] == dead_letter_url.rsplit("/", 1)[1]
    assert int(redrive["maxReceiveCount"]) == 5
    assert rehearsal.queue_attributes["VisibilityTimeout"] == "360"


def test_eventbridge_mode_sends_the_buckets_events_to_eventbridge_only(
    rehearsed: Rehearsed,
) -> None:
    assert rehearsed("EventBridge").notification == {"EventBridgeConfiguration": {}}


def test_eventbridge_mode_rule_matches_the_source_buckets_creations_and_deletions(
    rehearsed: Rehearsed,
) -> None:
    rehearsal = rehearsed("EventBridge")
    assert rehearsal.rule is not None
    assert json.loads(rehearsal.rule["EventPattern"]) == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created", "Object Deleted"],
        "detail": {"bucket": {"name": [rehearsal.source_bucket]}},
    }
    assert rehearsal.rule["State"] == "ENABLED"
    assert [target["Arn"] for target in rehearsal.rule_targets] == [
        rehearsal.queue_attributes["QueueArn"]  # the stand-in for the function (stack.py)
    ]
    assert rehearsal.queue == EVENTS_QUEUE


# ---- what LocalStack's S3 sent -----------------------------------------------------------------


def test_s3_sends_its_test_event_when_the_queue_notification_is_configured(
    rehearsed: Rehearsed,
) -> None:
    rehearsal = rehearsed("SQS")
    tests = [m for m in rehearsal.messages() if m.get("Event") == TEST_EVENT]
    assert tests, "no s3:TestEvent reached the uploads queue"
    for message in tests:
        assert (message["Service"], message["Bucket"]) == ("Amazon S3", rehearsal.source_bucket)
        assert "Records" not in message
    skipped = [e for e in outcomes(rehearsal.deliveries) if e.get("reason") == TEST_EVENT]
    assert [e["status"] for e in skipped] == ["skipped"] * len(tests)


def test_every_key_arrives_encoded_and_decodes_to_the_key_uploaded(rehearsal: Rehearsal) -> None:
    records = object_records(rehearsal)
    created = Counter(r["key"] for r in records if r["kind"] == "ObjectCreated")
    removed = [r["key"] for r in records if r["kind"] == "ObjectRemoved"]
    assert created == Counter(upload.key for upload in UPLOADS)
    assert removed == [DELETED]
    for record in records:  # what only an encoded key can look like: no space, all ASCII
        assert record["raw_key"].isascii() and " " not in record["raw_key"], record


def test_a_creation_carries_size_and_etag_and_a_removal_neither(rehearsal: Rehearsal) -> None:
    sizes = {upload.key: len(upload.data) for upload in UPLOADS}
    etag = "eTag" if rehearsal.mode == "SQS" else "etag"
    for record in object_records(rehearsal):
        detail = record["detail"]
        if record["kind"] == "ObjectCreated":
            assert detail["size"] == sizes[record["key"]]
            assert detail[etag]
        else:
            assert "size" not in detail and etag not in detail, detail
        assert detail["sequencer"]


# ---- what the function did with it --------------------------------------------------------------


def test_no_invocation_failed(rehearsal: Rehearsal) -> None:
    failed = [(d.event, d.invocation.error) for d in rehearsal.deliveries if d.invocation.error]
    assert not failed


def test_one_warm_execution_environment_served_the_whole_mode(rehearsal: Rehearsal) -> None:
    cold = [d.invocation.report.init_duration_ms is not None for d in rehearsal.deliveries]
    assert cold == [True] + [False] * (len(cold) - 1)


def test_sqs_batches_hold_at_most_ten_messages_as_lambdas_sqs_event(rehearsed: Rehearsed) -> None:
    rehearsal = rehearsed("SQS")
    for delivery in rehearsal.deliveries:
        records = delivery.event["Records"]
        assert 1 <= len(records) <= 10
        for record in records:
            assert record["eventSource"] == "aws:sqs"
            assert record["eventSourceARN"] == rehearsal.queue_attributes["QueueArn"]
            assert record["awsRegion"] == rehearsal.region
            assert {"messageId", "receiptHandle", "body", "attributes", "messageAttributes",
                    "md5OfBody"} <= record.keys()  # fmt: skip
            assert record["attributes"]["ApproximateReceiveCount"] == "1"


def test_sqs_deletes_exactly_the_messages_the_reply_does_not_hand_back(
    rehearsed: Rehearsed,
) -> None:
    for delivery in rehearsed("SQS").deliveries:
        assert delivery.invocation.response == {"batchItemFailures": []}
        handed_back = kept_by_reply(delivery.invocation.response, delivery.message_ids)
        assert set(delivery.deleted) == set(delivery.message_ids) - handed_back


def test_eventbridge_invokes_once_per_event_and_replies_with_each_outcome(
    rehearsed: Rehearsed,
) -> None:
    rehearsal = rehearsed("EventBridge")
    replies = {}
    for delivery in rehearsal.deliveries:
        assert len(delivery.message_ids) == 1 and not is_test_event(delivery.bodies[0])
        assert delivery.event == json.loads(delivery.bodies[0])  # the body is the event
        (record,) = delivery.invocation.response["records"]
        replies.setdefault(record["key"], []).append(record)
    for upload in KEPT_IMAGES:
        (created,) = replies[upload.key]
        assert created["status"] == "created"
        assert [t["key"] for t in created["thumbnails"]] == [f"{BOX}/{upload.key}"]
    (skipped,) = replies["notes.txt"]
    assert skipped["status"] == "skipped" and skipped["reason"]
    created, removed = replies[DELETED]
    assert created["status"] == "created"
    assert (removed["status"], removed["removed"]) == ("removed", [f"{BOX}/{DELETED}", f"manifests/{DELETED}.json"])


def test_each_record_was_created_skipped_or_removed_once(rehearsal: Rehearsal) -> None:
    expected = Counter({(upload.key, "created") for upload in IMAGES})
    expected[("notes.txt", "skipped")] = 1
    expected[(DELETED, "removed")] = 1
    assert statuses(rehearsal) == expected
    (skip,) = [e for e in outcomes(rehearsal.deliveries) if e.get("key") == "notes.txt"]
    assert skip["reason"], "a skip names its reason"


# ---- the end state -----------------------------------------------------------------------------


def test_each_kept_image_has_one_thumbnail_and_nothing_else_is_there(rehearsal: Rehearsal) -> None:
    """The thumbnail and its manifest, per kept image: the deleted one's are gone too."""
    assert set(rehearsal.thumbnails) == {key for upload in KEPT_IMAGES
                                         for key in (f"{BOX}/{upload.key}", f"manifests/{upload.key}.json")}  # fmt: skip


@pytest.mark.parametrize("upload", KEPT_IMAGES, ids=lambda upload: upload.key)
def test_the_thumbnail_decodes_fits_the_box_and_says_its_type(
    rehearsal: Rehearsal, upload: Upload
) -> None:
    thumbnail = rehearsal.thumbnails[f"{BOX}/{upload.key}"]
    assert thumbnail["content_type"] == upload.content_type
    with Image.open(BytesIO(thumbnail["data"])) as image:
        image.load()
        assert image.format == FORMATS[upload.content_type]
        width, height = image.size
    with Image.open(BytesIO(upload.data)) as source:
        source_width, source_height = source.size
    assert max(width, height) == 256 and width <= 256 and height <= 256
    assert abs(width / height - source_width / source_height) < 0.02  # aspect ratio kept


def test_the_queues_are_empty_at_the_end(rehearsal: Rehearsal) -> None:
    assert rehearsal.queue_counts == dict.fromkeys(rehearsal.queue_counts, 0)
