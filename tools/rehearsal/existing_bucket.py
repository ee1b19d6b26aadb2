"""A bucket people already have, made outside any stack: objects, a policy, and another
consumer's notifications (a queue told of .csv creations, a topic of removals under exports/).
Its state is read whole before and after, so that what a deploy and a delete leave alone is
compared exactly, not sampled.

Also an observer of what the bucket sends to EventBridge (a rule of its own, outside every
stack), so that a filter in the stack's rule can be told apart from an event never sent.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

EVENTBRIDGE = "EventBridgeConfiguration"
# The other consumer's two entries, by Id; {queue} and {topic} become their ARNs.
OTHER_CONSUMER = {
    "QueueConfigurations": [{
        "Id": "csv-to-ingest", "QueueArn": "{queue}", "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}},
    }],
    "TopicConfigurations": [{
        "Id": "export-removals", "TopicArn": "{topic}", "Events": ["s3:ObjectRemoved:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "exports/"}]}},
    }],
}  # fmt: skip


@dataclass(frozen=True)
class BucketState:
    """What a deploy or a delete must not change, read whole."""

    notification: dict[str, Any]  # GetBucketNotificationConfiguration, its envelope aside
    policy: dict[str, Any] | None  # None: the bucket has none
    objects: dict[str, str]  # key -> ETag

    def others(self) -> dict[str, Any]:
        """The notification configuration of everyone but EventBridge."""
        return {kind: value for kind, value in self.notification.items() if kind != EVENTBRIDGE}


def read_state(s3: Any, bucket: str) -> BucketState:
    notification = s3.get_bucket_notification_configuration(Bucket=bucket)
    notification.pop("ResponseMetadata", None)
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as error:
        if error.response["Error"]["Code"] != "NoSuchBucketPolicy":
            raise
        policy = None
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    objects = {item["Key"]: item["ETag"] for page in pages for item in page.get("Contents", [])}
    return BucketState(notification, policy, objects)


def queue_arn(sqs: Any, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def _allow(service: str, action: str, resource: str, source: str) -> str:
    return json.dumps({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow", "Principal": {"Service": service}, "Action": action,
            "Resource": resource, "Condition": {"ArnLike": {"aws:SourceArn": source}},
        }],
    })  # fmt: skip


@dataclass(frozen=True)
class OtherConsumer:
    """Another team's use of the bucket: its queue, its topic and the queue reading the topic."""

    queue_url: str
    topic_arn: str
    topic_reader_url: str  # subscribed to the topic: what the topic published lands here
    configuration: dict[str, Any]  # as written with PutBucketNotificationConfiguration


def add_other_consumer(s3: Any, sqs: Any, sns: Any, bucket: str, name: str) -> OtherConsumer:
    """The queue and topic, each with the policy that lets this bucket send to it, and the
    bucket's notification configuration naming them: written as their owner would, with S3's
    destination check on."""
    bucket_arn = f"arn:aws:s3:::{bucket}"
    queue_url = sqs.create_queue(QueueName=f"{name}-csv")["QueueUrl"]
    queue = queue_arn(sqs, queue_url)
    sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={
        "Policy": _allow("s3.amazonaws.com", "sqs:SendMessage", queue, bucket_arn)})  # fmt: skip
    topic = sns.create_topic(Name=f"{name}-exports")["TopicArn"]
    sns.set_topic_attributes(
        TopicArn=topic, AttributeName="Policy",
        AttributeValue=_allow("s3.amazonaws.com", "sns:Publish", topic, bucket_arn),
    )  # fmt: skip
    reader_url = sqs.create_queue(QueueName=f"{name}-exports-reader")["QueueUrl"]
    reader = queue_arn(sqs, reader_url)
    sqs.set_queue_attributes(QueueUrl=reader_url, Attributes={
        "Policy": _allow("sns.amazonaws.com", "sqs:SendMessage", reader, topic)})  # fmt: skip
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=reader)
    configuration = json.loads(json.dumps(OTHER_CONSUMER).replace("{queue}", queue)
                               .replace("{topic}", topic))  # fmt: skip
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=configuration)
    return OtherConsumer(queue_url, topic, reader_url, configuration)


def take_messages(sqs: Any, url: str, count: int = 0, limit_s: float = 10.0) -> list[str]:
    """The bodies of the messages the queue holds, deleted: waits for at least `count` (up to
    limit_s), then takes whatever else is there."""
    bodies: list[str] = []
    deadline = time.monotonic() + limit_s
    while True:
        waiting = len(bodies) < count and time.monotonic() < deadline
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10,
                                     WaitTimeSeconds=1 if waiting else 0)  # fmt: skip
        messages = answer.get("Messages", [])
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if not messages and not waiting:
            return bodies


class EventWitness:
    """Every event the bucket sends to EventBridge, through a rule of ours with no key filter."""

    def __init__(self, sqs: Any, events: Any, bucket: str) -> None:
        self.sqs = sqs
        self.url = sqs.create_queue(QueueName=f"{bucket}-witness")["QueueUrl"]
        arn = queue_arn(sqs, self.url)
        pattern = {"source": ["aws.s3"], "detail": {"bucket": {"name": [bucket]}}}
        name = f"{bucket}-witness"
        rule = events.put_rule(Name=name, EventPattern=json.dumps(pattern))["RuleArn"]
        sqs.set_queue_attributes(QueueUrl=self.url, Attributes={
            "Policy": _allow("events.amazonaws.com", "sqs:SendMessage", arn, rule)})  # fmt: skip
        events.put_targets(Rule=name, Targets=[{"Id": "witness", "Arn": arn}])
        self.seen: list[dict[str, Any]] = []

    def wait_for(self, count: int, limit_s: float = 20.0) -> list[dict[str, Any]]:
        """Every event seen since the witness was made, once there are `count` (or limit_s)."""
        deadline = time.monotonic() + limit_s
        while len(self.seen) < count and time.monotonic() < deadline:
            taken = take_messages(self.sqs, self.url, count - len(self.seen), limit_s=1.0)
            self.seen += [json.loads(body) for body in taken]
        return self.seen
