"""One rehearsal, per TriggerMode: deploy, upload, let the function work through what the queue
holds, delete one image, again, then read the end state. Run once per mode by conftest.py; the
tests only read what it recorded.

Uploads and the deletion are two phases, as they would be in life: the deleted image first gets
its thumbnail, so its removal has something to remove.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_run.inputs.grid import source_bytes
from local_run.runtime.function import LocalFunction
from local_run.runtime.function_env import function_environment
from local_run.runtime.rie import Emulator
from local_run.runtime.sam_transform import Template, load_template, sam_translate
from rehearsal.event_source import (
    Delivery,
    EventBridgeTarget,
    QueueReader,
    SqsEventSource,
    SqsMapping,
)
from rehearsal.localstack import LocalStack
from rehearsal.stack import EVENTS_QUEUE, Stack, create_stack, rehearsal_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"
BOX = "256x256"  # the template's default ThumbnailSizes
# The SQS event source's batching window, shortened from the template's 5 s: every message is
# queued before the first receive, so waiting longer for a batch to fill only costs time.
SQS_WINDOW_S = 1.0


@dataclass(frozen=True)
class Upload:
    key: str
    data: bytes
    content_type: str


# Keys S3 must encode in a notification: a space and a plus (form-encoding tells them apart only
# as %20/+ and %2B), non-ASCII in two path segments, and a percent sign, which a decoder that
# runs twice would eat.
UPLOADS = (
    Upload("photos/a b+c.jpg", source_bytes("RGB", (640, 480), "JPEG"), "image/jpeg"),
    Upload("Ünïcødé/ça va.png", source_bytes("RGBA", (300, 500), "PNG"), "image/png"),
    Upload("100%.jpg", source_bytes("RGB", (800, 300), "JPEG"), "image/jpeg"),
    Upload("notes.txt", b"Not an image: no thumbnail.\n", "text/plain"),
)
DELETED = "100%.jpg"
IMAGES = tuple(u for u in UPLOADS if u.content_type.startswith("image/"))
KEPT_IMAGES = tuple(u for u in IMAGES if u.key != DELETED)

# The function's per-record log messages (pipeline.py): the SQS reply names no outcome, so in
# SQS mode the log is the only place that says what happened to each record.
LOG_STATUS = {
    "thumbnails written": "created",
    "thumbnails already there": "duplicate",
    "thumbnails removed": "removed",
    "record skipped": "skipped",
    "record failed permanently": "failed",
    "record failed, the invocation will raise for a retry": "retryable",
}


@dataclass
class Rehearsal:
    """What one mode's rehearsal saw: the stack as deployed, every delivery, the end state."""

    mode: str
    template: Template  # what LocalStack's CloudFormation was given
    stack: Stack
    account: str
    region: str
    source_bucket: str
    resized_bucket: str
    queue: str  # the logical ID of the queue the function is fed from
    queue_attributes: dict[str, str]
    notification: dict[str, Any]
    rule: dict[str, Any] | None
    rule_targets: list[dict[str, Any]] = field(default_factory=list)
    uploads: list[Delivery] = field(default_factory=list)
    removal: list[Delivery] = field(default_factory=list)
    thumbnails: dict[str, dict[str, Any]] = field(default_factory=dict)
    queue_counts: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def deliveries(self) -> list[Delivery]:
        return self.uploads + self.removal

    def messages(self) -> list[Any]:
        """Every message body the queue delivered, parsed, in delivery order."""
        return [json.loads(body) for delivery in self.deliveries for body in delivery.bodies]

    def write_messages(self, path: Path) -> Path:
        """The bodies verbatim, for a person comparing them with AWS's documented shapes."""
        bodies = [body for delivery in self.deliveries for body in delivery.bodies]
        path.write_text("\n".join(bodies) + "\n", encoding="utf-8")
        return path


def outcomes(deliveries: list[Delivery]) -> list[dict[str, Any]]:
    """Each record's log line, with its status: the same in both modes, where only the
    EventBridge reply also lists them."""
    found = []
    for delivery in deliveries:
        for line in delivery.invocation.logs:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("message") in LOG_STATUS:
                found.append({**entry, "status": LOG_STATUS[entry["message"]]})
    return found


def queue_count(sqs: Any, url: str) -> int:
    """Messages in the queue, visible or not: one received and never deleted counts."""
    names = [
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesDelayed",
    ]
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    return sum(int(attributes[name]) for name in names)


def deploy(localstack: LocalStack, mode: str) -> tuple[Template, Stack, SqsMapping | None]:
    """The stack for mode, from the template as the SAM transform expands it. The transform's
    output is the same for every TriggerMode (its conditions stay unresolved): LocalStack's
    CloudFormation decides them from the parameter, as AWS's would."""
    translated = sam_translate(load_template(TEMPLATE), {"TriggerMode": mode})
    mapping = SqsMapping.from_template(translated, "UploadsQueue") if mode == "SQS" else None
    template = rehearsal_template(translated)
    stack = create_stack(
        localstack.client("cloudformation"),
        f"rehearsal-{mode.lower()}",
        template,
        {"TriggerMode": mode},
    )
    return template, stack, mapping


def rehearse(localstack: LocalStack, function: LocalFunction, mode: str, work: Path) -> Rehearsal:
    started = time.monotonic()
    template, stack, mapping = deploy(localstack, mode)
    s3, sqs = localstack.client("s3"), localstack.client("sqs")
    account = localstack.client("sts").get_caller_identity()["Account"]
    region = sqs.meta.region_name
    queue = "UploadsQueue" if mode == "SQS" else EVENTS_QUEUE
    reader = QueueReader(sqs, stack.resources[queue])
    source = f"{stack.name}-source-{account}-{region}"  # the name the template gives it
    notification = s3.get_bucket_notification_configuration(Bucket=source)
    notification.pop("ResponseMetadata", None)
    result = Rehearsal(
        mode, template, stack, account, region, source, stack.outputs["ResizedBucketName"], queue,
        sqs.get_queue_attributes(QueueUrl=reader.queue_url, AttributeNames=["All"])["Attributes"],
        notification, rule=None,
    )  # fmt: skip
    if mode == "EventBridge":
        events, rule = localstack.client("events"), stack.resources["SourceBucketEventsRule"]
        result.rule = events.describe_rule(Name=rule)
        result.rule_targets = events.list_targets_by_rule(Rule=rule)["Targets"]
    result.seconds["stack created"] = stack.create_s

    source_events = (
        SqsEventSource(reader, mapping, window_s=SQS_WINDOW_S)
        if mapping
        else EventBridgeTarget(reader)
    )
    environment = function_environment(
        function.spec,
        {function.spec.logical_id: {"DESTINATION_BUCKET": result.resized_bucket}},
        localstack.endpoint,
        shell={},  # the template's values, whatever this shell exports
    )
    with Emulator(
        function.spec, function.built.function_dir, environment.variables, work / "emulator"
    ) as emulator:  # one warm environment for the whole mode, as Lambda would keep it
        phase = time.monotonic()
        for upload in UPLOADS:
            s3.put_object(
                Bucket=source, Key=upload.key, Body=upload.data, ContentType=upload.content_type
            )
        # SQS mode: S3's test events from stack creation are queued too; drain takes them.
        result.uploads = source_events.drain(emulator.invoke, expect=len(UPLOADS))
        result.seconds["uploads delivered"] = time.monotonic() - phase
        phase = time.monotonic()
        s3.delete_object(Bucket=source, Key=DELETED)
        result.removal = source_events.drain(emulator.invoke, expect=1)
        result.seconds["removal delivered"] = time.monotonic() - phase

    result.thumbnails = read_bucket(s3, result.resized_bucket)
    result.queue_counts = {queue: queue_count(sqs, reader.queue_url)}
    if mode == "SQS":
        dead_letters = stack.resources["UploadsDeadLetterQueue"]
        result.queue_counts["UploadsDeadLetterQueue"] = queue_count(sqs, dead_letters)
    result.seconds["total"] = time.monotonic() - started
    return result


def read_bucket(s3: Any, bucket: str) -> dict[str, dict[str, Any]]:
    """key -> content type, metadata and bytes, for every object in the bucket."""
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            answer = s3.get_object(Bucket=bucket, Key=item["Key"])
            found[item["Key"]] = {
                "content_type": answer["ContentType"],
                "metadata": answer["Metadata"],
                "data": answer["Body"].read(),
            }
    return found
