"""Completion events on moto's EventBridge: a rule sends the bus's create-thumbnail events to an
SQS queue, and the queue's messages are what a consumer of the application would receive."""

from __future__ import annotations

import json
import uuid

import boto3
import pytest
from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import load_event, put_event
from local_run.shared import environment

from create_thumbnail.errors import RetryableRecordsFailed
from tests.integration.uploads import upload


@pytest.fixture
def bus(s3_endpoint):
    """A bus, a rule for our events on it, and the queue the rule delivers to."""
    events = boto3.client("events", endpoint_url=s3_endpoint)
    sqs = boto3.client("sqs", endpoint_url=s3_endpoint)
    name = f"thumbnails-{uuid.uuid4().hex[:8]}"
    events.create_event_bus(Name=name)
    queue_url = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="completions", EventBusName=name, EventPattern=json.dumps({"source": ["create-thumbnail"]}))
    events.put_targets(Rule="completions", EventBusName=name, Targets=[{"Id": "queue", "Arn": queue_arn}])

    def received() -> list[dict]:
        messages = []
        while batch := sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []):
            messages += [json.loads(m["Body"]) for m in batch]
            sqs.delete_message_batch(QueueUrl=queue_url, Entries=[{"Id": m["MessageId"], "ReceiptHandle": m["ReceiptHandle"]} for m in batch])
        return messages

    return name, received


def _handler_with(bus_name: str | None):
    from create_thumbnail import app

    app.wiring.cache_clear()
    return environment({"EVENT_BUS_NAME": bus_name or ""})


def test_one_event_per_record_with_the_manifest_as_detail(s3, buckets, handler, lambda_context, bus):
    name, received = bus
    records = [upload(s3, buckets.source, key, source_bytes("RGB", (300, 200), "JPEG")) for key in ("a.jpg", "b c.jpg")]
    records.append(upload(s3, buckets.source, "broken.jpg", b"<html>"))
    records.append(upload(s3, buckets.source, "notes.txt", b"text"))  # skipped: no event
    with _handler_with(name):
        handler(put_event(*records), lambda_context)
        events = received()
        assert sorted(e["detail-type"] for e in events) == ["Thumbnails Created", "Thumbnails Created", "Thumbnails Failed"]
        created = {e["detail"]["source"]["key"]: e for e in events if e["detail-type"] == "Thumbnails Created"}
        for key, event in created.items():
            assert event["source"] == "create-thumbnail"
            stored = s3.get_object(Bucket=buckets.resized, Key=f"manifests/{key}.json")["Body"].read()
            assert event["detail"] == json.loads(stored)
        [failed] = [e["detail"] for e in events if e["detail-type"] == "Thumbnails Failed"]
        assert failed["source"] == {"bucket": buckets.source, "key": "broken.jpg"}
        assert (failed["error"], failed["retryable"]) == ("NotAnImage", False)

        handler(put_event(*records[:2]), lambda_context)  # re-delivered: duplicates tell nothing new
        assert received() == []

        s3.delete_object(Bucket=buckets.source, Key="a.jpg")
        removal = load_event("delete.json")
        removal["Records"][0]["s3"]["bucket"]["name"] = buckets.source
        removal["Records"][0]["s3"]["object"]["key"] = "a.jpg"
        handler(removal, lambda_context)
        [removed] = received()
        assert removed["detail-type"] == "Thumbnails Removed"
        assert sorted(removed["detail"]["removed"]) == ["256x256/a.jpg", "64x64/a.jpg", "manifests/a.jpg.json"]


def test_a_transient_failure_is_a_retryable_failed_event(s3, buckets, handler, lambda_context, bus):
    name, received = bus
    event = put_event(upload(s3, buckets.source, "a.jpg", source_bytes("RGB", (300, 200), "JPEG")))
    s3.delete_bucket(Bucket=buckets.resized)
    with _handler_with(name), pytest.raises(RetryableRecordsFailed):
        handler(event, lambda_context)
    [failed] = received()
    assert (failed["detail-type"], failed["detail"]["retryable"], failed["detail"]["error"]) == (
        "Thumbnails Failed", True, "StorageUnavailable")


def test_no_events_without_a_bus(s3, buckets, handler, lambda_context, bus):
    _, received = bus
    with _handler_with(None):
        handler(put_event(upload(s3, buckets.source, "a.jpg", source_bytes("RGB", (300, 200), "JPEG"))), lambda_context)
    assert received() == []
