"""One upload, announced through every envelope the function accepts, over moto's HTTP S3:
the thumbnails must be byte-identical and at the same keys whichever way the news came."""

from __future__ import annotations

import pytest
from local_run.backfill.plan import batch_event
from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import (
    eventbridge_event,
    put_event,
    put_record,
    sns_event,
    sqs_event,
)

KEY = "photos/Summer 2026/café + friends.JPG"


def _thumbnails(s3, bucket: str) -> dict[str, bytes]:
    """The thumbnails' bytes (not the manifests', which record when they were written)."""
    listing = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {item["Key"]: s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            for item in listing if not item["Key"].startswith("manifests/")}  # fmt: skip


def test_every_envelope_yields_the_same_thumbnails(s3, buckets, handler, lambda_context):
    s3.put_object(Bucket=buckets.source, Key=KEY, Body=source_bytes("RGB", (600, 400), "JPEG", orientation=6))
    head = s3.head_object(Bucket=buckets.source, Key=KEY)
    size, etag = head["ContentLength"], head["ETag"]
    notification = put_event(put_record(buckets.source, KEY, size, etag, sequencer="00000000000000000A"))
    envelopes = {
        "s3": notification,
        "sns": sns_event(notification),
        "sqs": sqs_event(notification),
        "sqs+sns": sqs_event(notification, via_sns=True),
        "eventbridge": eventbridge_event(buckets.source, KEY, size, etag, "00000000000000000A"),
        "batch": batch_event(buckets.source, [KEY], "job-1"),
    }
    results = {}
    for name, event in envelopes.items():
        reply = handler(event, lambda_context)
        results[name] = _thumbnails(s3, buckets.resized)
        assert results[name], f"{name}: no thumbnails; reply {reply}"
        for key in results[name]:  # start the next envelope from nothing
            s3.delete_object(Bucket=buckets.resized, Key=key)
    first = results["s3"]
    assert sorted(first) == [f"256x256/{KEY}", f"64x64/{KEY}"]
    for name, thumbnails in results.items():
        assert thumbnails == first, f"{name} differs from the direct S3 notification"


def test_a_poisoned_message_is_the_only_sqs_item_reported(s3, buckets, handler, lambda_context):
    bodies = []
    for index in range(3):
        key = f"batch/{index}.jpg"
        s3.put_object(Bucket=buckets.source, Key=key, Body=source_bytes("RGB", (300, 200), "JPEG"))
        head = s3.head_object(Bucket=buckets.source, Key=key)
        bodies.append(put_event(put_record(buckets.source, key, head["ContentLength"], head["ETag"])))
    bodies.insert(1, '{"Records": [{"eventSource": "aws:s3", "s3": {}}]}')  # no bucket, no key
    reply = handler(sqs_event(*bodies), lambda_context)
    assert reply == {"batchItemFailures": [{"itemIdentifier": "message-1"}]}
    assert len(_thumbnails(s3, buckets.resized)) == 6


@pytest.mark.parametrize("schema", ["1.0", "2.0"])
def test_batch_operations_schemas_both_work(s3, buckets, handler, lambda_context, schema):
    s3.put_object(Bucket=buckets.source, Key="a.jpg", Body=source_bytes("RGB", (300, 200), "JPEG"))
    event = batch_event(buckets.source, ["a.jpg", "missing.jpg"], "job-2")
    if schema == "1.0":
        event["invocationSchemaVersion"] = "1.0"
        for task in event["tasks"]:
            task["s3BucketArn"] = f"arn:aws:s3:::{task.pop('s3Bucket')}"
    reply = handler(event, lambda_context)
    assert [r["resultCode"] for r in reply["results"]] == ["Succeeded", "Succeeded"]
    # a key deleted since the job's manifest was made: nothing to make, which is what it needs
    assert reply["results"][1]["resultString"] == "skipped: no current object and no thumbnails: nothing to do"
