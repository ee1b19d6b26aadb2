"""thumbnail-replay: send the events in the failed-events queue back to the function.

Each message is the record Lambda writes to an asynchronous invocation's OnFailure destination
once it gives up (retries exhausted, or the event grew older than MaximumEventAgeInSeconds):

    {"requestContext": {"condition": "RetriesExhausted", "approximateInvokeCount": 3, ...},
     "requestPayload": <the S3 event, as S3 sent it>,
     "responsePayload": {"errorType": "RetryableRecordsFailed", "errorMessage": "..."}, ...}

Replaying invokes the function asynchronously (InvocationType=Event) with requestPayload, as S3
did: Lambda's retries and the failure destination apply again, so an event that fails once more
comes back to the queue instead of being lost. Records already done cost one HeadObject each
(the duplicate check). A message is deleted only once Lambda has accepted its event (HTTP 202);
anything else, and every message in a --dry-run, is put back as it was, visible at once.

    thumbnail-replay --queue-url URL --function NAME_OR_ARN [--dry-run] [--max N]

Credentials and region are the SDK's usual ones (AWS_PROFILE, AWS_REGION, ...). The caller needs
sqs:ReceiveMessage, sqs:DeleteMessage and sqs:ChangeMessageVisibility on the queue, and
lambda:InvokeFunction on the function.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import unquote_plus

# Long enough that a message being replayed cannot come round again within one run.
VISIBILITY_TIMEOUT_S = 300

Invoke = Callable[[dict[str, Any]], None]


class NotAFailedEvent(ValueError):
    """The message is not a Lambda destination record carrying an event."""


class InvokeRefused(RuntimeError):
    """Lambda did not accept the event for asynchronous invocation."""


@dataclass(frozen=True)
class FailedEvent:
    condition: str  # RetriesExhausted, EventAgeExceeded
    attempts: int | None
    error: str
    payload: dict[str, Any]
    objects: tuple[str, ...]  # s3://bucket/key, keys decoded

    def describe(self) -> str:
        tries = f" after {self.attempts} attempts" if self.attempts else ""
        return f"{self.condition}{tries}: {self.error}; {', '.join(self.objects) or 'no S3 records'}"


@dataclass
class Tally:
    replayed: int = 0
    left: list[str] = field(default_factory=list)  # why each message stayed


def parse_failed_event(body: str) -> FailedEvent:
    try:
        record = json.loads(body)
    except json.JSONDecodeError as error:
        raise NotAFailedEvent(f"not JSON: {error}") from None
    payload = record.get("requestPayload") if isinstance(record, dict) else None
    context = record.get("requestContext") if isinstance(record, dict) else None
    if not isinstance(payload, dict) or not isinstance(context, dict):
        raise NotAFailedEvent("no requestContext and requestPayload: not a Lambda destination record")
    response = record.get("responsePayload")
    if isinstance(response, dict) and response.get("errorType"):
        error = f"{response['errorType']}: {response.get('errorMessage', '')}"
    else:
        error = "no error recorded (the event was never run, or ran out of age)"
    return FailedEvent(
        condition=str(context.get("condition", "unknown")),
        attempts=context.get("approximateInvokeCount"),
        error=error,
        payload=payload,
        objects=tuple(_objects(payload)),
    )


def _objects(payload: dict[str, Any]) -> list[str]:
    found = []
    for record in payload.get("Records", []) if isinstance(payload.get("Records"), list) else []:
        try:
            found.append(f"s3://{record['s3']['bucket']['name']}/{unquote_plus(record['s3']['object']['key'])}")
        except (KeyError, TypeError):
            found.append("(a record without s3.bucket.name / s3.object.key)")
    return found


def replay(
    sqs: Any, queue_url: str, invoke: Invoke, *, dry_run: bool = False, limit: int | None = None,
    out: TextIO | None = None,
) -> Tally:  # fmt: skip
    """Every message the queue holds (up to limit), each replayed or put back. out: stdout."""
    out = out or sys.stdout
    tally, put_back = Tally(), []
    while limit is None or tally.replayed + len(tally.left) < limit:
        wanted = 10 if limit is None else min(10, limit - tally.replayed - len(tally.left))
        messages = sqs.receive_message(
            QueueUrl=queue_url, MaxNumberOfMessages=wanted, WaitTimeSeconds=1,
            VisibilityTimeout=VISIBILITY_TIMEOUT_S,
        ).get("Messages", [])  # fmt: skip
        if not messages:
            break
        for message in messages:
            replayed, what = _replay_one(message["Body"], invoke, dry_run)
            if replayed:
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                tally.replayed += 1
            else:
                put_back.append(message["ReceiptHandle"])
                tally.left.append(what)
            print(f"{'replayed' if replayed else 'left':8}  {message['MessageId']}  {what}", file=out)
    for receipt in put_back:  # visible again now, not in VISIBILITY_TIMEOUT_S
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
    print(f"{tally.replayed} replayed, {len(tally.left)} left in the queue", file=out)
    return tally


def _replay_one(body: str, invoke: Invoke, dry_run: bool) -> tuple[bool, str]:
    """(whether Lambda now has the event, what the message held or why it stays)."""
    try:
        failed = parse_failed_event(body)
    except NotAFailedEvent as error:
        return False, f"unreadable: {error}"
    if dry_run:
        return False, f"would replay: {failed.describe()}"
    try:
        invoke(failed.payload)
    except Exception as error:  # noqa: BLE001 - any failure keeps the message; it is reported
        return False, f"invoke failed ({type(error).__name__}: {error}); was {failed.describe()}"
    return True, failed.describe()


def lambda_invoker(client: Any, function: str) -> Invoke:
    def invoke(payload: dict[str, Any]) -> None:
        response = client.invoke(
            FunctionName=function, InvocationType="Event", Payload=json.dumps(payload).encode()
        )
        if response["StatusCode"] != 202:
            raise InvokeRefused(f"Lambda answered {response['StatusCode']}, not 202 Accepted")

    return invoke


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="thumbnail-replay", description=__doc__.splitlines()[0])
    parser.add_argument("--queue-url", required=True, help="the stack's FailedEventsQueueUrl output")
    parser.add_argument("--function", required=True, help="name or ARN (CreateThumbnailFunctionArn)")
    parser.add_argument("--dry-run", action="store_true", help="list the events, replay nothing")
    parser.add_argument("--max", type=int, default=None, help="stop after this many messages")
    args = parser.parse_args(argv)

    import boto3

    invoke = lambda_invoker(boto3.client("lambda"), args.function)
    tally = replay(boto3.client("sqs"), args.queue_url, invoke, dry_run=args.dry_run, limit=args.max)
    return 0 if args.dry_run or not tally.left else 1


if __name__ == "__main__":
    raise SystemExit(main())
