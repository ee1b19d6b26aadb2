"""Lambda's side of a queue, imitated: what the event source mapping (TriggerMode SQS) and the
EventBridge target (TriggerMode EventBridge, through a stand-in queue) would hand the function.

SQS, as the event source mapping does it: receive up to BatchSize messages, waiting up to
MaximumBatchingWindowInSeconds for the batch to fill; wrap them as Lambda's SQS event; invoke
once; with ReportBatchItemFailures, delete every message the reply does not list in
batchItemFailures (without it, all of them); if the function raised, or the reply names an item
that is empty or not in the batch (Lambda then fails the whole batch), delete none. A message
not deleted stays invisible for the queue's VisibilityTimeout, as on AWS, so it shows up in the
queue's not-visible count instead of being handed over again within the rehearsal.

EventBridge: each message of the rule's target queue is one event; it is one asynchronous
invocation, and the message is deleted only if the function did not raise (where Lambda would
have retried the event and then sent it to the failed-events queue).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from local_run.runtime.rie import Invocation

Invoke = Callable[[Any], Invocation]
TEST_EVENT = "s3:TestEvent"


def is_test_event(body: str) -> bool:
    """S3's message when a notification is configured: no Records, it announces no object."""
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return isinstance(message, dict) and message.get("Event") == TEST_EVENT


@dataclass(frozen=True)
class Delivery:
    """One invocation: the event handed over, what came back, which messages were deleted."""

    event: Any
    invocation: Invocation
    message_ids: tuple[str, ...]
    deleted: tuple[str, ...]
    bodies: tuple[str, ...]  # the messages' bodies as the queue held them


@dataclass(frozen=True)
class SqsMapping:
    """The event source mapping's settings that change what the function is handed."""

    batch_size: int = 10
    window_s: float = 0.0
    report_batch_item_failures: bool = False

    @classmethod
    def from_template(cls, template: dict[str, Any], queue: str) -> SqsMapping:
        """The settings of the AWS::Lambda::EventSourceMapping reading `queue` (a logical ID),
        as the transformed template gives them (before rehearsal_template removes it)."""
        for resource in template["Resources"].values():
            properties = resource.get("Properties", {})
            if (
                resource["Type"] == "AWS::Lambda::EventSourceMapping"
                and properties.get("EventSourceArn") == {"Fn::GetAtt": [queue, "Arn"]}
            ):
                return cls(
                    batch_size=int(properties.get("BatchSize", 10)),
                    window_s=float(properties.get("MaximumBatchingWindowInSeconds", 0)),
                    report_batch_item_failures="ReportBatchItemFailures"
                    in properties.get("FunctionResponseTypes", []),
                )
        raise LookupError(f"no event source mapping reads {queue}")


def _message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """SQS's MessageAttributes in the camelCase Lambda's SQS event uses."""
    return {
        name: {
            "stringValue": value.get("StringValue"),
            "binaryValue": value.get("BinaryValue"),
            "stringListValues": value.get("StringListValues", []),
            "binaryListValues": value.get("BinaryListValues", []),
            "dataType": value.get("DataType"),
        }
        for name, value in attributes.items()
    }


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """Lambda's SQS event for these received messages (boto3's receive_message shapes)."""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": _message_attributes(message.get("MessageAttributes", {})),
                "md5OfBody": message["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


class QueueReader:
    """Receives from one queue until the expected number of messages has been handled."""

    def __init__(self, sqs: Any, queue_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
        self.queue_arn: str = attributes["Attributes"]["QueueArn"]
        self.region: str = sqs.meta.region_name

    def receive(self, most: int, wait_s: int) -> list[dict[str, Any]]:
        """With every system and message attribute: Lambda's SQS event carries them all."""
        answer = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=most,
            WaitTimeSeconds=wait_s,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return answer.get("Messages", [])

    def gather(self, batch_size: int, window_s: float) -> list[dict[str, Any]]:
        """Up to batch_size messages: the first within a second, the rest while the batching
        window, counted from the first, lasts."""
        batch = self.receive(min(batch_size, 10), wait_s=1)
        closes = time.monotonic() + window_s
        while batch and len(batch) < batch_size and time.monotonic() < closes:
            more = self.receive(min(batch_size - len(batch), 10), wait_s=0)
            if not more:
                time.sleep(0.1)
            batch += more
        return batch

    def delete(self, messages: list[dict[str, Any]]) -> None:
        """One call per message: an entry failing inside a batch call is easy to miss."""
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def drain(
        self, deliver: Callable[[list[dict[str, Any]]], list[Delivery]], batch_size: int,
        window_s: float, expect: int, limit_s: float,
    ) -> list[Delivery]:  # fmt: skip
        """Delivers batches until `expect` messages announcing an object were handled and one
        more receive finds nothing, so that a surplus message (S3's test events, which do not
        count) is handled too. S3 and EventBridge deliver asynchronously: messages may still be
        on their way when the first receive comes back empty."""
        deliveries: list[Delivery] = []
        handled = 0
        deadline = time.monotonic() + limit_s
        while True:
            batch = self.gather(batch_size, window_s)
            if batch:
                deliveries += deliver(batch)
                handled += sum(not is_test_event(message["Body"]) for message in batch)
            elif handled >= expect:
                return deliveries
            elif time.monotonic() > deadline:
                raise TimeoutError(
                    f"{self.queue_url}: {handled} of {expect} expected messages "
                    f"within {limit_s:.0f} s"
                )


def kept_by_reply(reply: Any, batch: Collection[str]) -> set[str]:
    """The messages a ReportBatchItemFailures reply hands back, by Lambda's documented rule: no
    reply (null), an empty object or an empty or null batchItemFailures fails none; a reply that
    is not a JSON object, or an itemIdentifier that is missing, empty or not a message of the
    batch, fails the whole batch."""
    if reply is None:
        return set()
    if not isinstance(reply, dict):
        return set(batch)
    failures = reply.get("batchItemFailures")
    if not failures:
        return set()
    kept = {f.get("itemIdentifier") if isinstance(f, dict) else None for f in failures}
    return set(batch) if any(not item or item not in batch for item in kept) else kept


class SqsEventSource:
    """The event source mapping: batches of the uploads queue to the function."""

    def __init__(
        self, reader: QueueReader, mapping: SqsMapping, window_s: float | None = None
    ) -> None:
        """window_s, if given, replaces the mapping's batching window (a rehearsal whose messages
        are all queued already gains nothing by waiting the full window)."""
        self.reader = reader
        self.mapping = mapping
        self.window_s = mapping.window_s if window_s is None else window_s

    def drain(self, invoke: Invoke, expect: int, limit_s: float = 30.0) -> list[Delivery]:
        """One invocation per batch until `expect` object messages were handed over."""
        return self.reader.drain(
            lambda batch: [self._deliver(batch, invoke)],
            self.mapping.batch_size, self.window_s, expect, limit_s,
        )  # fmt: skip

    def _deliver(self, batch: list[dict[str, Any]], invoke: Invoke) -> Delivery:
        event = sqs_event(batch, self.reader.queue_arn, self.reader.region)
        invocation = invoke(event)
        ids = [m["MessageId"] for m in batch]
        if invocation.error is not None:
            keep = set(ids)
        elif self.mapping.report_batch_item_failures:
            keep = kept_by_reply(invocation.response, ids)
        else:
            keep = set()
        done = [m for m in batch if m["MessageId"] not in keep]
        self.reader.delete(done)
        return Delivery(
            event, invocation, tuple(ids),
            tuple(m["MessageId"] for m in done), tuple(m["Body"] for m in batch),
        )  # fmt: skip


class EventBridgeTarget:
    """The rule's target: each message of its queue is one event, one asynchronous invocation."""

    def __init__(self, reader: QueueReader) -> None:
        self.reader = reader

    def drain(self, invoke: Invoke, expect: int, limit_s: float = 30.0) -> list[Delivery]:
        """One invocation per message until `expect` events were handed over."""
        return self.reader.drain(
            lambda batch: [self._deliver(message, invoke) for message in batch],
            10, 0.0, expect, limit_s,
        )  # fmt: skip

    def _deliver(self, message: dict[str, Any], invoke: Invoke) -> Delivery:
        event = json.loads(message["Body"])
        invocation = invoke(event)
        done = [message] if invocation.error is None else []
        self.reader.delete(done)
        return Delivery(
            event, invocation, (message["MessageId"],),
            tuple(m["MessageId"] for m in done), (message["Body"],),
        )  # fmt: skip
