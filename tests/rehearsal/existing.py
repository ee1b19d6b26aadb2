"""The rehearsal of deploying onto a bucket people already have, on LocalStack, step by step:

1. a bucket made outside any stack: images under uploads/ and elsewhere, a text file, a policy,
   and another consumer's notifications (a queue for .csv creations, a topic for removals under
   exports/); its state read whole ("before");
2. `thumbnail-local enable-eventbridge`, run as a user runs it; and, on a scratch bucket, the
   naive one-line write it replaces, to show what that would have cost;
3. the stack, with ExistingSourceBucket, SourceKeyPrefix=uploads/ and TriggerMode=EventBridge;
4. uploads through LocalStack's own S3 -> EventBridge -> the stack's rule -> the built function,
   one inside the prefix and one outside; a .csv created and removed for the other consumer;
5. `thumbnail-local backfill` for what was there before, with the function's deployed settings;
6. the stack deleted: the bucket as before, plus the uploads;
then the same deploy with ExistingResizedBucket too, and the one template Rule that matters most
(ExistingResizedBucket equal to the source).

Run once by conftest.py; test_existing_bucket.py reads what it recorded. Each step appends a few
lines to `lines`, the evidence printed in the terminal summary.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError
from local_run.inputs.grid import source_bytes
from local_run.runtime.function import LocalFunction
from local_run.runtime.function_env import function_environment
from local_run.runtime.rie import Emulator
from local_run.runtime.sam_transform import load_template, sam_translate
from local_run.runtime.template import read_function
from local_run.shared import LOCAL_AWS_ENV
from rehearsal.event_source import Delivery, EventBridgeTarget, QueueReader
from rehearsal.existing_bucket import (
    BucketState,
    EventWitness,
    OtherConsumer,
    add_other_consumer,
    read_state,
    take_messages,
)
from rehearsal.localstack import LocalStack
from rehearsal.stack import (
    EVENTS_QUEUE,
    Stack,
    StackError,
    create_stack,
    delete_stack,
    rehearsal_template,
)

from tests.rehearsal.scenario import TEMPLATE, Upload, outcomes, queue_count

PREFIX = "uploads/"
BUCKET = "their-photos"
THEIR_THUMBNAILS = "their-thumbnails"  # the deployment variant with ExistingResizedBucket
PARAMETERS = {
    "TriggerMode": "EventBridge", "ExistingSourceBucket": BUCKET, "SourceKeyPrefix": PREFIX
}  # fmt: skip


def _jpeg(width: int, height: int) -> bytes:
    return source_bytes("RGB", (width, height), "JPEG")


# In the bucket before anything of ours: two images and a text file under the prefix, an image
# elsewhere, and one under "uploads-old/", which a prefix compared without its "/" would take.
BEFORE = (
    Upload("uploads/2025/beach.jpg", _jpeg(640, 480), "image/jpeg"),
    Upload("uploads/family photo.png", source_bytes("RGBA", (300, 500), "PNG"), "image/png"),
    Upload("uploads/readme.txt", b"Photos go under uploads/.\n", "text/plain"),
    Upload("archive/2019.jpg", _jpeg(500, 300), "image/jpeg"),
    Upload("uploads-old/a.jpg", _jpeg(400, 400), "image/jpeg"),
)
INSIDE = Upload("uploads/new photo.jpg", _jpeg(800, 600), "image/jpeg")
OUTSIDE = Upload("uploads-old/late.jpg", _jpeg(600, 800), "image/jpeg")
CSV = Upload("exports/2026-q1.csv", b"month,count\n1,3\n", "text/csv")  # created, then removed
TO_THEIR_THUMBNAILS = Upload("uploads/variant.jpg", _jpeg(320, 240), "image/jpeg")
LOOP = Upload("uploads/loop.jpg", _jpeg(320, 240), "image/jpeg")
POLICY = {
    "Version": "2012-10-17",
    "Statement": [{
        "Sid": "ReportingReadsPhotos", "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::000000000000:root"}, "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{BUCKET}/*",
    }],
}  # fmt: skip
RULE_MESSAGE = "ExistingResizedBucket is the source bucket"


@dataclass(frozen=True)
class CliRun:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float


def thumbnail_local(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> CliRun:
    """The command as a user runs it, with the rehearsal's local credentials and region and
    nothing else of this shell's AWS settings."""
    command = str(Path(sys.executable).with_name("thumbnail-local"))
    shell = {name: os.environ[name] for name in ("PATH", "LANG", "HOME") if name in os.environ}
    no_profile = {"AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull}
    started = time.monotonic()
    done = subprocess.run(
        [command, *args], capture_output=True, text=True, timeout=120, cwd=cwd,
        env={**shell, **no_profile, **LOCAL_AWS_ENV, **(env or {})},
    )  # fmt: skip
    return CliRun((command, *args), done.returncode, done.stdout, done.stderr,
                  time.monotonic() - started)  # fmt: skip


@dataclass
class Variant:
    """The deployment with ExistingResizedBucket too."""

    resource_types: dict[str, str]
    resized_before: BucketState
    resized_after: BucketState  # after the stack's deletion
    deliveries: list[Delivery]


@dataclass
class SameBucket:
    """ExistingResizedBucket equal to ExistingSourceBucket: what CloudFormation did, and, if it
    created the stack anyway, what the function did with the one event its rule passed on."""

    refused: str | None  # CloudFormation's message, if it refused
    deliveries: list[Delivery] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # keys the function wrote in the bucket


@dataclass
class ExistingRehearsal:
    before: BucketState
    consumer: OtherConsumer
    lines: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    check_off: CliRun | None = None
    enable: CliRun | None = None
    check_on: CliRun | None = None
    after_enable: BucketState | None = None
    naive_before: dict[str, Any] = field(default_factory=dict)
    naive_after: dict[str, Any] = field(default_factory=dict)
    stack: Stack | None = None
    resource_types: dict[str, str] = field(default_factory=dict)
    rule_pattern: dict[str, Any] = field(default_factory=dict)
    after_deploy: BucketState | None = None
    environment: dict[str, str] = field(default_factory=dict)  # the function's, as deployed
    deliveries: list[Delivery] = field(default_factory=list)
    witnessed: list[dict[str, Any]] = field(default_factory=list)  # events the bucket sent
    target_left: int = -1  # messages left in the rule's target queue after the deliveries
    csv_messages: list[dict[str, Any]] = field(default_factory=list)
    topic_messages: list[dict[str, Any]] = field(default_factory=list)
    uploaded: dict[str, str] = field(default_factory=dict)  # key -> ETag, still there
    after_uploads: set[str] = field(default_factory=set)  # the resized bucket's keys
    backfill: CliRun | None = None
    after_backfill: set[str] = field(default_factory=set)
    resized_bucket: str = ""
    rules_left: list[str] = field(default_factory=list)
    resized_retained: bool = False
    after_delete: BucketState | None = None
    variant: Variant | None = None
    same_bucket: SameBucket | None = None

    def say(self, line: str) -> None:
        self.lines.append(line)
        print(line)


@dataclass(frozen=True)
class _Run:
    """What every step works with."""

    localstack: LocalStack
    function: LocalFunction
    work: Path
    s3: Any
    sqs: Any


def _timed(record: ExistingRehearsal, step: str, started: float) -> None:
    record.seconds[step] = seconds = time.monotonic() - started
    record.say(f"{step}: {seconds:.1f} s")


def _put(s3: Any, bucket: str, upload: Upload) -> str:
    return s3.put_object(Bucket=bucket, Key=upload.key, Body=upload.data,
                         ContentType=upload.content_type)["ETag"]  # fmt: skip


def _keys(s3: Any, bucket: str) -> set[str]:
    return set(read_state(s3, bucket).objects)


def _deploy(localstack: LocalStack, name: str, parameters: dict[str, str]) -> Stack:
    """As the SQS and EventBridge rehearsals deploy (scenario.deploy), with these parameters."""
    translated = sam_translate(load_template(TEMPLATE), parameters)
    return create_stack(localstack.client("cloudformation"), name, rehearsal_template(translated),
                        parameters)  # fmt: skip


def _resource_types(localstack: LocalStack, stack: Stack) -> dict[str, str]:
    listed = localstack.client("cloudformation").describe_stack_resources(StackName=stack.name)
    return {r["LogicalResourceId"]: r["ResourceType"] for r in listed["StackResources"]}


def deployed_environment(
    function: LocalFunction, stack: Stack, parameters: dict[str, str]
) -> dict[str, str]:
    """The function's Environment.Variables as this stack would set them: the template resolved
    with the stack's parameters and its resources' physical names (read_function)."""
    deployed = {**parameters, **stack.resources}
    return dict(read_function(TEMPLATE, function.spec.logical_id, deployed).variables)


def _emulator(run: _Run, variables: dict[str, str], name: str) -> Emulator:
    """The built function with these variables: one warm environment for a step."""
    function, localstack = run.function, run.localstack
    spec = replace(function.spec, variables=variables)
    environment = function_environment(spec, {}, localstack.endpoint, shell={})
    return Emulator(spec, function.built.function_dir, environment.variables, run.work / name)


def _target(localstack: LocalStack, stack: Stack) -> EventBridgeTarget:
    return EventBridgeTarget(QueueReader(localstack.client("sqs"), stack.resources[EVENTS_QUEUE]))


def _compact(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def rehearse_existing(
    localstack: LocalStack, function: LocalFunction, work: Path, lines: list[str]
) -> ExistingRehearsal:
    """lines: where each step's lines go as they are written."""
    s3, sqs, sns = (localstack.client(name) for name in ("s3", "sqs", "sns"))
    started = time.monotonic()
    s3.create_bucket(Bucket=BUCKET)
    for upload in BEFORE:
        _put(s3, BUCKET, upload)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(POLICY))
    consumer = add_other_consumer(s3, sqs, sns, BUCKET, "reporting")
    witness = EventWitness(sqs, localstack.client("events"), BUCKET)
    record = ExistingRehearsal(read_state(s3, BUCKET), consumer, lines)
    under = sum(key.startswith(PREFIX) for key in record.before.objects)
    record.say(f"1. s3://{BUCKET}, made outside any stack: {len(record.before.objects)} objects "
               f"({under} under {PREFIX}), policy {[s['Sid'] for s in POLICY['Statement']]}, "
               f"another consumer's queue (.csv) and topic (exports/ removals)")  # fmt: skip
    record.say(f"   notification before: {_compact(record.before.notification)}")
    _timed(record, "   step 1", started)

    run = _Run(localstack, function, work, s3, sqs)
    _enable(record, run)
    name = _deploy_and_upload(record, run, witness)
    _backfill(record, run)
    _delete(record, run, name)
    _variant(record, run)
    _same_bucket(record, run)
    return record


def _enable(record: ExistingRehearsal, run: _Run) -> None:
    localstack, s3 = run.localstack, run.s3
    started = time.monotonic()
    where = ("--bucket", BUCKET, "--endpoint-url", localstack.endpoint)
    record.check_off = thumbnail_local("enable-eventbridge", *where, "--check")
    record.enable = thumbnail_local("enable-eventbridge", *where)
    record.check_on = thumbnail_local("enable-eventbridge", *where, "--check")
    record.after_enable = read_state(s3, BUCKET)
    record.say(f"2. thumbnail-local enable-eventbridge (exit {record.enable.returncode}, "
               f"{record.enable.seconds:.1f} s): "
               f"{record.enable.stdout.splitlines()[0]}")  # fmt: skip
    record.say(f"   --check before: exit {record.check_off.returncode}, after: exit "
               f"{record.check_on.returncode}; other consumer as before: "
               f"{record.after_enable.others() == record.before.others()}")  # fmt: skip
    # The naive write, on a scratch bucket with the same other consumer.
    scratch = f"{BUCKET}-scratch"
    s3.create_bucket(Bucket=scratch)
    s3.put_bucket_notification_configuration(
        Bucket=scratch, NotificationConfiguration=record.consumer.configuration
    )
    record.naive_before = read_state(s3, scratch).notification
    s3.put_bucket_notification_configuration(
        Bucket=scratch, NotificationConfiguration={"EventBridgeConfiguration": {}}
    )
    record.naive_after = read_state(s3, scratch).notification
    record.say(f"   the naive put of {{\"EventBridgeConfiguration\": {{}}}} on a scratch bucket: "
               f"{sorted(record.naive_before)} -> {sorted(record.naive_after)}")  # fmt: skip
    _timed(record, "   step 2", started)


def _deploy_and_upload(record: ExistingRehearsal, run: _Run, witness: EventWitness) -> str:
    localstack, s3, sqs = run.localstack, run.s3, run.sqs
    started = time.monotonic()
    record.stack = stack = _deploy(localstack, "existing-bucket", PARAMETERS)
    record.resource_types = _resource_types(localstack, stack)
    events = localstack.client("events")
    rule = events.describe_rule(Name=stack.resources["SourceBucketEventsRule"])
    record.rule_pattern = json.loads(rule["EventPattern"])
    record.after_deploy = read_state(s3, BUCKET)
    record.resized_bucket = stack.outputs["ResizedBucketName"]
    buckets = sorted(n for n, t in record.resource_types.items() if t == "AWS::S3::Bucket")
    record.say(f"3. stack {stack.name} ({', '.join(f'{k}={v}' for k, v in PARAMETERS.items())}) "
               f"created in {stack.create_s:.1f} s, {len(record.resource_types)} resources; "
               f"its buckets: {buckets}")  # fmt: skip
    record.say(f"   rule pattern: {_compact(record.rule_pattern)}")
    _timed(record, "   step 3", started)

    started = time.monotonic()
    record.environment = deployed_environment(run.function, stack, PARAMETERS)
    with _emulator(run, record.environment, "emulator-existing") as emulator:
        for upload in (INSIDE, OUTSIDE, CSV):
            record.uploaded[upload.key] = _put(s3, BUCKET, upload)
        witness.wait_for(3)  # once EventBridge has them, the stack's rule has had its chance
        record.deliveries = _target(localstack, stack).drain(emulator.invoke, expect=1)
    record.target_left = queue_count(sqs, stack.resources[EVENTS_QUEUE])
    s3.delete_object(Bucket=BUCKET, Key=CSV.key)
    del record.uploaded[CSV.key]
    record.witnessed = witness.wait_for(4)
    record.csv_messages = [json.loads(b) for b in take_messages(sqs, record.consumer.queue_url, 2)]
    published = take_messages(sqs, record.consumer.topic_reader_url, 1)
    record.topic_messages = [json.loads(body) for body in published]
    record.after_uploads = _keys(s3, record.resized_bucket)
    by_key = {(e.get("key"), e["status"]) for e in outcomes(record.deliveries)}
    record.say(f"4. uploads: {INSIDE.key!r} -> {len(record.deliveries)} invocation(s), "
               f"{sorted(by_key)}; resized bucket: {sorted(record.after_uploads)}")  # fmt: skip
    sent = sorted({e["detail"]["object"]["key"] for e in record.witnessed})
    outside = [e for e in outcomes(record.deliveries) if e.get("key") == OUTSIDE.key]
    answers = [(entry["status"], entry.get("reason")) for entry in outside]
    fate = (f"reached the function, which answered {answers}" if outside
            else "was filtered by the rule: the function never saw it")  # fmt: skip
    record.say(f"   EventBridge received {len(record.witnessed)} events for {sent}; the stack's "
               f"rule passed on {len(record.deliveries)}; {OUTSIDE.key!r} {fate}; its target "
               f"queue left with {record.target_left} messages")  # fmt: skip
    record.say(f"   other consumer: queue got {[_describe(m) for m in record.csv_messages]}, "
               f"topic got {[_describe(m) for m in record.topic_messages]}")  # fmt: skip
    _timed(record, "   step 4", started)
    return stack.name


def _describe(message: dict[str, Any]) -> str:
    """One S3 message in a few words: a test event, or each record's event and key."""
    if message.get("Type") == "Notification":  # SNS's envelope around S3's message
        return "sns:" + _describe(json.loads(message["Message"]))
    if "Records" not in message:
        return f"{message.get('Event')} {message.get('Bucket')}"
    return ", ".join(f"{r['eventName']} {r['s3']['object']['key']}" for r in message["Records"])


def _backfill(record: ExistingRehearsal, run: _Run) -> None:
    localstack = run.localstack
    started = time.monotonic()
    settings = {n: v for n, v in record.environment.items() if n != "DESTINATION_BUCKET"}
    record.backfill = thumbnail_local(
        "backfill", "--endpoint-url", localstack.endpoint, "--source-bucket", BUCKET,
        "--resized-bucket", record.resized_bucket, env=settings, cwd=run.work,
    )  # fmt: skip
    record.after_backfill = _keys(localstack.client("s3"), record.resized_bucket)
    made = sorted(record.after_backfill - record.after_uploads)
    record.say(f"5. thumbnail-local backfill --endpoint-url (exit {record.backfill.returncode}, "
               f"SOURCE_KEY_PREFIX={record.environment['SOURCE_KEY_PREFIX']!r} THUMBNAIL_SIZES="
               f"{record.environment['THUMBNAIL_SIZES']} from the stack): "
               f"{' | '.join(record.backfill.stderr.strip().splitlines())}")  # fmt: skip
    record.say(f"   written: {made}")
    _timed(record, "   step 5", started)


def backfill_planned(run: CliRun) -> int:
    """The count the command prints before it starts: 'N source objects in B lack thumbnails'."""
    found = re.search(r"^(\d+) source objects in ", run.stderr, re.MULTILINE)
    if not found:
        raise AssertionError(f"no plan in the backfill's output: {run.stderr!r}")
    return int(found.group(1))


def _delete(record: ExistingRehearsal, run: _Run, name: str) -> None:
    localstack, s3 = run.localstack, run.s3
    started = time.monotonic()
    seconds = delete_stack(localstack.client("cloudformation"), name)
    rules = localstack.client("events").list_rules(NamePrefix=name)["Rules"]
    record.rules_left = [rule["Name"] for rule in rules]
    try:
        s3.head_bucket(Bucket=record.resized_bucket)
        record.resized_retained = True
    except ClientError:
        record.resized_retained = False
    record.after_delete = after = read_state(s3, BUCKET)
    added = sorted(set(after.objects) - set(record.before.objects))
    same = all(after.objects.get(key) == etag for key, etag in record.before.objects.items())
    eventbridge = {k: v for k, v in after.notification.items() if k not in after.others()}
    record.say(f"6. stack deleted in {seconds:.1f} s; its rules left: {record.rules_left}; its "
               f"resized bucket retained: {record.resized_retained}")  # fmt: skip
    record.say(f"   s3://{BUCKET}: {len(after.objects)} objects = the {len(record.before.objects)} "
               f"before (same ETags: {same})"
               f" + {added}; policy unchanged: {after.policy == record.before.policy}")  # fmt: skip
    record.say(f"   other consumer before: {_compact(record.before.others())}")
    record.say(f"   other consumer after:  {_compact(after.others())}")
    record.say(f"   identical: {after.others() == record.before.others()}; EventBridge stays on "
               f"({_compact(eventbridge)}"
               "): harmless, and thumbnail-local enable-eventbridge's to undo")  # fmt: skip
    _timed(record, "   step 6", started)


def _variant(record: ExistingRehearsal, run: _Run) -> None:
    localstack, s3 = run.localstack, run.s3
    started = time.monotonic()
    s3.create_bucket(Bucket=THEIR_THUMBNAILS)
    statement = {**POLICY["Statement"][0], "Resource": f"arn:aws:s3:::{THEIR_THUMBNAILS}/*"}
    s3.put_bucket_policy(Bucket=THEIR_THUMBNAILS,
                         Policy=json.dumps({**POLICY, "Statement": [statement]}))  # fmt: skip
    resized_before = read_state(s3, THEIR_THUMBNAILS)
    parameters = {**PARAMETERS, "ExistingResizedBucket": THEIR_THUMBNAILS}
    stack = _deploy(localstack, "existing-buckets", parameters)
    types = _resource_types(localstack, stack)
    variables = deployed_environment(run.function, stack, parameters)
    with _emulator(run, variables, "emulator-variant") as emulator:
        record.uploaded[TO_THEIR_THUMBNAILS.key] = _put(s3, BUCKET, TO_THEIR_THUMBNAILS)
        deliveries = _target(localstack, stack).drain(emulator.invoke, expect=1)
    delete_stack(localstack.client("cloudformation"), stack.name)
    after = read_state(s3, THEIR_THUMBNAILS)
    record.variant = Variant(types, resized_before, after, deliveries)
    buckets = sorted(n for n, t in types.items() if t.startswith("AWS::S3::"))
    record.say(f"   variant with ExistingResizedBucket={THEIR_THUMBNAILS}: stack created in "
               f"{stack.create_s:.1f} s, its S3 resources: {buckets}; {TO_THEIR_THUMBNAILS.key!r} "
               f"-> {sorted(after.objects)}; after the delete, its policy unchanged: "
               f"{after.policy == resized_before.policy}")  # fmt: skip
    _timed(record, "   variant", started)


def _same_bucket(record: ExistingRehearsal, run: _Run) -> None:
    """LocalStack 2026.3.0's CloudFormation does not evaluate a template's Rules (it creates
    the stack, where AWS refuses it with the rule's AssertDescription before creating anything):
    recorded as it happens, never assumed. When it creates the stack, the nearest check left is
    the function's own refusal of an event from its destination bucket (RecursionRefused)."""
    localstack, s3 = run.localstack, run.s3
    started = time.monotonic()
    parameters = {**PARAMETERS, "ExistingResizedBucket": BUCKET}
    try:
        stack = _deploy(localstack, "same-bucket", parameters)
    except (StackError, ClientError) as error:
        record.same_bucket = SameBucket(refused=str(error))
        record.say(f"7. ExistingResizedBucket = ExistingSourceBucket: refused: {error}")
        _timed(record, "   step 7", started)
        return
    result = record.same_bucket = SameBucket(refused=None)
    before = _keys(s3, BUCKET)
    variables = deployed_environment(run.function, stack, parameters)
    with _emulator(run, variables, "emulator-same") as emulator:
        record.uploaded[LOOP.key] = _put(s3, BUCKET, LOOP)
        result.deliveries = _target(localstack, stack).drain(emulator.invoke, expect=1)
    result.written = sorted(_keys(s3, BUCKET) - before - {LOOP.key})
    delete_stack(localstack.client("cloudformation"), stack.name)
    replies = [record for delivery in result.deliveries
               for record in (delivery.invocation.response or {}).get("records", [])]  # fmt: skip
    record.say("7. ExistingResizedBucket = ExistingSourceBucket: LocalStack's CloudFormation "
               "CREATED the stack (it does not evaluate template Rules; AWS refuses it with "
               f"{RULE_MESSAGE!r}...)")  # fmt: skip
    record.say(f"   the function, handed {LOOP.key!r} by that stack's rule: "
               f"{[(r.get('status'), r.get('reason')) for r in replies]}; wrote in the bucket: "
               f"{result.written}")  # fmt: skip
    _timed(record, "   step 7", started)
