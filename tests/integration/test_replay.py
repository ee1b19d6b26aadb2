"""thumbnail-replay against moto's SQS (and Lambda, for the CLI): a failed event goes back to the
function and out of the queue; anything that cannot be replayed stays, visible at once."""

from __future__ import annotations

import io
import json
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from failed_events.replay import main, parse_failed_event, replay
from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import put_event
from local_run.shared import LocalContext

from create_thumbnail.errors import RetryableRecordsFailed
from tests.integration.faults import Fault
from tests.integration.uploads import keys, upload

JPEG = source_bytes("RGB", (400, 300), "JPEG")


def destination_record(event: dict[str, Any], error: Exception, attempts: int = 3) -> str:
    """What Lambda sends to the OnFailure destination once its retries are exhausted (the shape
    of the Lambda Developer Guide's "Capturing records of Lambda asynchronous invocations")."""
    return json.dumps({
        "version": "1.0",
        "timestamp": "2026-11-23T15:00:00.000Z",
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:create-thumbnail:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorMessage": str(error), "errorType": type(error).__name__, "stackTrace": []},
    })  # fmt: skip


@pytest.fixture
def queue(s3_endpoint: str) -> tuple[Any, str]:
    sqs = boto3.client("sqs", endpoint_url=s3_endpoint)
    return sqs, sqs.create_queue(QueueName=f"failed-{uuid.uuid4().hex[:12]}")["QueueUrl"]


def bodies(sqs: Any, url: str) -> list[str]:
    """What the queue holds and shows right now (a left message must be visible again)."""
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [message["Body"] for message in received.get("Messages", [])]


def test_a_failed_event_is_replayed_to_the_function_and_leaves_the_queue(
    s3, buckets, handler, faults, queue, lambda_context
):
    sqs, url = queue
    event = put_event(upload(s3, buckets.source, "a.jpg", JPEG))
    faults.add(Fault("GET", "a.jpg", 503, "SlowDown", times=None))  # S3 trouble outlasting the retries
    with pytest.raises(RetryableRecordsFailed) as raised:
        handler(event, lambda_context)
    sqs.send_message(QueueUrl=url, MessageBody=destination_record(event, raised.value))
    faults.clear()  # the trouble is over; someone replays
    out = io.StringIO()

    tally = replay(sqs, url, lambda payload: handler(payload, LocalContext()), out=out)

    assert (tally.replayed, tally.left) == (1, [])
    assert keys(s3, buckets.resized) == ["256x256/a.jpg", "64x64/a.jpg", "manifests/a.jpg.json"]
    assert bodies(sqs, url) == []
    assert "RetriesExhausted after 3 attempts: RetryableRecordsFailed" in out.getvalue()
    assert f"s3://{buckets.source}/a.jpg" in out.getvalue()


def test_an_event_whose_replay_is_refused_stays_in_the_queue(s3, buckets, queue):
    sqs, url = queue
    record = destination_record(put_event(upload(s3, buckets.source, "a.jpg", JPEG)), TimeoutError("slow"))
    sqs.send_message(QueueUrl=url, MessageBody=record)

    def refuse(payload: dict[str, Any]) -> None:
        raise PermissionError("not authorized to perform lambda:InvokeFunction")

    tally = replay(sqs, url, refuse, out=io.StringIO())
    assert tally.replayed == 0 and "PermissionError" in tally.left[0]
    assert bodies(sqs, url) == [record]


def test_dry_run_lists_every_event_and_changes_nothing(s3, buckets, queue):
    sqs, url = queue
    records = [
        destination_record(put_event(upload(s3, buckets.source, f"{name}.jpg", JPEG)), RuntimeError(name))
        for name in ("a", "b")
    ]
    for record in records:
        sqs.send_message(QueueUrl=url, MessageBody=record)
    out = io.StringIO()

    def never(payload: dict[str, Any]) -> None:
        raise AssertionError("a dry run invoked the function")

    tally = replay(sqs, url, never, dry_run=True, out=out)
    assert tally.replayed == 0 and len(tally.left) == 2
    assert out.getvalue().count("would replay: RetriesExhausted") == 2
    assert sorted(bodies(sqs, url)) == sorted(records)


def test_a_message_that_is_not_a_destination_record_is_left_alone(queue):
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody='{"Records": []}')
    tally = replay(sqs, url, lambda payload: None, out=io.StringIO())
    assert tally.left == ["unreadable: no requestContext and requestPayload: not a Lambda destination record"]
    assert bodies(sqs, url) == ['{"Records": []}']


def test_max_stops_after_that_many_messages(s3, buckets, queue):
    sqs, url = queue
    event = put_event(upload(s3, buckets.source, "a.jpg", JPEG))
    for _ in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=destination_record(event, RuntimeError("x")))
    seen: list[dict] = []
    tally = replay(sqs, url, seen.append, limit=2, out=io.StringIO())
    assert (tally.replayed, len(seen), len(bodies(sqs, url))) == (2, 2, 1)


def test_an_event_too_old_to_run_has_no_error_but_is_replayable():
    record = json.loads(destination_record(put_event(), RuntimeError()))
    record["requestContext"]["condition"] = "EventAgeExceeded"
    del record["responseContext"], record["responsePayload"]
    failed = parse_failed_event(json.dumps(record))
    assert failed.condition == "EventAgeExceeded" and failed.payload == {"Records": []}
    assert "no error recorded" in failed.error


@pytest.fixture
def moto_lambda(s3_endpoint: str) -> Iterator[str]:
    """A function in moto's Lambda, run without Docker (moto answers invocations itself)."""

    def set_config(use_docker: bool) -> None:
        request = urllib.request.Request(
            f"{s3_endpoint}/moto-api/config", json.dumps({"lambda": {"use_docker": use_docker}}).encode(),
            method="POST",
        )  # fmt: skip
        urllib.request.urlopen(request, timeout=10).close()

    set_config(False)
    role = boto3.client("iam", endpoint_url=s3_endpoint).create_role(
        RoleName=f"replay-{uuid.uuid4().hex[:8]}",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    name = f"create-thumbnail-{uuid.uuid4().hex[:8]}"
    boto3.client("lambda", endpoint_url=s3_endpoint).create_function(
        FunctionName=name, Runtime="python3.13", Role=role, Handler="app.handler",
        Code={"ZipFile": code.getvalue()},
    )  # fmt: skip
    yield name
    set_config(True)


def test_the_command_invokes_the_function_asynchronously(s3, buckets, queue, moto_lambda, capsys):
    """The CLI's own clients (endpoint from AWS_ENDPOINT_URL, as in the session): moto answers
    202 only to InvocationType=Event, so a synchronous invoke would leave the message."""
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody=destination_record(put_event(), RuntimeError("x")))
    assert main(["--queue-url", url, "--function", moto_lambda]) == 0
    assert "1 replayed, 0 left in the queue" in capsys.readouterr().out
    assert bodies(sqs, url) == []


def test_the_command_fails_when_something_was_left(queue, moto_lambda):
    sqs, url = queue
    sqs.send_message(QueueUrl=url, MessageBody="not json")
    assert main(["--queue-url", url, "--function", moto_lambda]) == 1
    assert main(["--queue-url", url, "--function", moto_lambda, "--dry-run"]) == 0
