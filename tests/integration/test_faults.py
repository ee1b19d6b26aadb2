"""Faults on the wire between the function and S3 (moto behind tests/integration/faults.py).

Each test breaks chosen requests the way S3 or the network does, then checks what the client
retried, what the invocation did with the other records, what was left in the buckets, and that
nothing was dropped silently: a transient fault always ends in a raised error.
"""

from __future__ import annotations

import time
import uuid

import boto3
import pytest
from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import put_event
from local_run.shared import LocalContext, environment

from create_thumbnail.errors import RetryableRecordsFailed, WriteConflict
from create_thumbnail.storage import CLIENT_CONFIG, S3Storage
from tests.corpus import png_declaring
from tests.emf import metrics_of
from tests.integration.faults import Fault, fault_proxy
from tests.integration.uploads import keys, upload

JPEG = source_bytes("RGB", (400, 300), "JPEG")
BOXES = ("64x64", "256x256")  # the handler fixture's THUMBNAIL_SIZES


def thumbnails_of(*sources: str) -> list[str]:
    """What a created record leaves in the resized bucket: a thumbnail per box, the manifest."""
    return sorted([f"{box}/{source}" for source in sources for box in BOXES] + [f"manifests/{s}.json" for s in sources])


def test_throttled_read_succeeds_on_botocores_retry(s3, buckets, handler, faults, lambda_context):
    event = put_event(upload(s3, buckets.source, "a.jpg", JPEG))
    faults.add(Fault("GET", "a.jpg", 503, "SlowDown", times=2))
    reply = handler(event, lambda_context)
    assert reply["created"] == 1
    assert faults.statuses("GET", "a.jpg") == [503, 503, 200]
    assert keys(s3, buckets.resized) == thumbnails_of("a.jpg")


def test_persistent_500_fails_only_its_record_and_the_invocation_raises_after_the_others(
    s3, buckets, handler, faults, lambda_context, function_log, capsys
):
    event = put_event(*(upload(s3, buckets.source, key, JPEG) for key in ("a.jpg", "b.jpg", "c.jpg")))
    faults.add(Fault("GET", "b.jpg", 500, "InternalError", "We encountered an internal error.", times=None))
    with pytest.raises(RetryableRecordsFailed, match=r"1 record\(s\).*b\.jpg.*InternalError \(HTTP 500\)"):
        handler(event, lambda_context)
    assert faults.statuses("GET", "b.jpg") == [500, 500, 500]  # botocore's 3 attempts
    assert keys(s3, buckets.resized) == thumbnails_of("a.jpg", "c.jpg")
    [line] = [line for line in function_log() if line.get("key") == "b.jpg"]
    assert (line["level"], line["message"]) == ("ERROR", "record failed, the invocation will raise for a retry")
    assert line["function_request_id"] == lambda_context.aws_request_id
    counted = metrics_of(capsys.readouterr().out)
    assert counted[("RecordsRetryable", (("Error", "StorageUnavailable"),))] == [1.0]
    assert counted[("ThumbnailsCreated", ())] == [2.0, 2.0]


PUT_FAULTS = {
    "500": {"status": 500, "code": "InternalError"},
    "connection-dropped": {"drop": True},  # the request read whole, then no answer at all
}


@pytest.mark.parametrize("kind", PUT_FAULTS)
def test_failed_put_leaves_no_object_behind_and_the_retry_completes(
    s3, buckets, handler, faults, lambda_context, kind
):
    event = put_event(upload(s3, buckets.source, "a.jpg", JPEG))
    faults.add(Fault("PUT", "256x256/a.jpg", times=None, **PUT_FAULTS[kind]))
    with pytest.raises(RetryableRecordsFailed, match="a.jpg"):
        handler(event, lambda_context)
    assert faults.statuses("PUT", "256x256/a.jpg") == [PUT_FAULTS[kind].get("status")] * 3
    assert keys(s3, buckets.resized) == ["64x64/a.jpg"]  # written before; the failed one is absent

    faults.clear()  # what Lambda's retry a minute later would meet
    reply = handler(event, LocalContext())
    assert reply["created"] == 1
    assert keys(s3, buckets.resized) == thumbnails_of("a.jpg")


def test_invocation_running_out_of_time_leaves_the_rest_for_the_retry(s3, buckets, handler, faults):
    event = put_event(*(upload(s3, buckets.source, key, JPEG) for key in ("a.jpg", "b.jpg", "c.jpg")))
    faults.add(Fault("GET", "a.jpg", status=None, delay=0.8))  # a slow read, then the object
    with environment({"DEADLINE_MARGIN_MS": "1000"}):
        from create_thumbnail import app

        app.wiring.cache_clear()
        app.wiring()  # built now, so that none of the 1.6 s below goes to making the S3 client
        # 1.6 s: a.jpg starts with 1.6 s left; after its 0.8 s read, under 1 s is left for b.jpg.
        with pytest.raises(RetryableRecordsFailed, match=r"2 record\(s\).*DEADLINE_MARGIN_MS") as raised:
            handler(event, LocalContext(timeout_s=1.6))
    assert [key for _, key, _ in raised.value.failures] == ["b.jpg", "c.jpg"]
    assert faults.requests_for("b.jpg") == faults.requests_for("c.jpg") == []  # never touched
    assert keys(s3, buckets.resized) == thumbnails_of("a.jpg")

    reply = handler(event, LocalContext())  # Lambda's retry, with a whole timeout again
    assert [r["status"] for r in reply["records"]] == ["duplicate", "created", "created"]
    assert keys(s3, buckets.resized) == thumbnails_of("a.jpg", "b.jpg", "c.jpg")


def test_poisoned_records_fail_alone_and_the_invocation_succeeds(s3, buckets, handler, faults, lambda_context):
    bomb = upload(s3, buckets.source, "bomb.png", png_declaring(50_000, 50_000))
    gone = upload(s3, buckets.source, "gone.jpg", JPEG)
    s3.delete_object(Bucket=buckets.source, Key="gone.jpg")
    records = [
        upload(s3, buckets.source, "a.jpg", JPEG),
        {"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {"bucket": {}}},
        bomb,
        gone,
        upload(s3, buckets.source, "fake.jpg", b"<html>502 Bad Gateway</html>"),
        upload(s3, buckets.source, "b.jpg", JPEG),
    ]
    reply = handler(put_event(*records), lambda_context)
    assert [r["status"] for r in reply["records"]] == ["created", "failed", "failed", "skipped", "failed", "created"]
    reasons = [r.get("reason", "").split(":")[0] for r in reply["records"]]
    assert reasons == ["", "InvalidRecord", "ImageTooLarge", "no current object and no thumbnails", "NotAnImage", ""]
    assert keys(s3, buckets.resized) == thumbnails_of("a.jpg", "b.jpg")
    assert faults.requests_for("bomb.png") == ["GET"]  # read once, never retried


def test_duplicate_delivery_reads_no_body_and_writes_nothing(
    s3, buckets, handler, faults, lambda_context
):
    event = put_event(upload(s3, buckets.source, "a.jpg", JPEG))
    handler(event, lambda_context)
    written = {k: s3.head_object(Bucket=buckets.resized, Key=k)["LastModified"] for k in thumbnails_of("a.jpg")}
    time.sleep(1.0)  # S3's LastModified has whole seconds: a rewrite would show
    seen = len(faults.log)

    reply = handler(event, LocalContext())

    assert (reply["duplicate"], reply["created"]) == (1, 0)
    second = [(e.method, e.key) for e in faults.log[seen:]]
    # the source's GET is closed unread; then the manifest, and a HEAD per thumbnail it lists
    assert second == [("GET", "a.jpg"), ("GET", "manifests/a.jpg.json"), ("HEAD", "256x256/a.jpg"), ("HEAD", "64x64/a.jpg")]
    assert {k: s3.head_object(Bucket=buckets.resized, Key=k)["LastModified"] for k in written} == written


def test_a_fresh_upload_pays_one_request_more_than_its_read_and_writes(s3, buckets, handler, faults, lambda_context):
    """The manifest's 404 needs s3:ListBucket on the resized bucket in the real policy (without
    it, a 403); the HEAD after the writes is the one request a reconcile adds."""
    handler(put_event(upload(s3, buckets.source, "a.jpg", JPEG)), lambda_context)
    assert [(e.method, e.key, e.status) for e in faults.log] == [
        ("GET", "a.jpg", 200), ("GET", "manifests/a.jpg.json", 404),
        ("PUT", "64x64/a.jpg", 200), ("PUT", "256x256/a.jpg", 200), ("PUT", "manifests/a.jpg.json", 200),
        ("HEAD", "a.jpg", 200),
    ]  # fmt: skip


def test_forbidden_duplicate_check_is_retried_later_not_taken_for_absence(
    s3, buckets, handler, faults, lambda_context
):
    """A 403 on the manifest means the role lacks s3:GetObject/ListBucket on the resized bucket."""
    event = put_event(upload(s3, buckets.source, "a.jpg", JPEG))
    faults.add(Fault("GET", "manifests/a.jpg.json", 403, "AccessDenied", times=None))
    with pytest.raises(RetryableRecordsFailed, match="access denied"):
        handler(event, lambda_context)
    assert faults.requests_for("a.jpg") == ["GET"]  # its headers: the body was never read
    assert faults.statuses("GET", "manifests/a.jpg.json") == [403]  # not retried by botocore
    assert [e.method for e in faults.log if e.method in ("PUT", "DELETE")] == []


def test_an_s3_without_conditional_deletes_gets_a_head_and_a_plain_delete(s3, s3_endpoint):
    """LocalStack and older S3-compatible stores answer If-Match on DeleteObject with 501
    NotImplemented: the ETag is then compared by a HEAD, once learnt for the adapter's life."""
    bucket = f"deletes-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    etags = {key: s3.put_object(Bucket=bucket, Key=key, Body=key.encode())["ETag"].strip('"') for key in "abc"}
    with fault_proxy(s3_endpoint) as proxy:
        storage = S3Storage(boto3.client("s3", endpoint_url=proxy.endpoint, config=CLIENT_CONFIG))
        proxy.add(Fault("DELETE", "a", 501, "NotImplemented", "A header you provided implies functionality "
                        "that is not implemented"))  # fmt: skip
        storage.delete(bucket, "a", if_match=etags["a"])
        with pytest.raises(WriteConflict):
            storage.delete(bucket, "b", if_match=etags["c"])
        storage.delete(bucket, "c", if_match=etags["c"])
        assert [(e.method, e.key, e.status) for e in proxy.log] == [
            ("DELETE", "a", 501), ("HEAD", "a", 200), ("DELETE", "a", 204), ("HEAD", "b", 200),
            ("HEAD", "c", 200), ("DELETE", "c", 204),
        ]  # fmt: skip
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["b"]
