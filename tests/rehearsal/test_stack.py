"""What the rehearsal changes in the template before LocalStack sees it, and how it stands in for
Lambda's side of a queue: checked without LocalStack, so a template change that the stripping
does not know shows up here first, with the resource named."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from local_run.runtime.sam_transform import Template, load_template, sam_translate
from rehearsal.event_source import kept_by_reply, sqs_event
from rehearsal.stack import (
    EVENTS_QUEUE,
    EVENTS_QUEUE_POLICY,
    RehearsalTemplateError,
    rehearsal_template,
)

from tests.rehearsal.scenario import TEMPLATE

pytestmark = pytest.mark.rehearsal

# Everything that exists only to run the function, which LocalStack cannot do without Docker.
FUNCTION_ONLY = {
    "CreateThumbnailFunction",
    "CreateThumbnailFunctionRole",
    "CreateThumbnailFunctionEventInvokeConfig",
    "CreateThumbnailLogGroup",
    "SourceBucketInvokePermission",
    "SourceBucketEventsPermission",
    "UploadsEventSourceMapping",
}


@pytest.fixture(scope="module")
def translated() -> Template:
    return sam_translate(load_template(TEMPLATE))


@pytest.fixture(scope="module")
def stripped(translated: Template) -> Template:
    return rehearsal_template(translated)


def test_only_the_function_and_what_exists_for_it_are_removed(
    translated: Template, stripped: Template
) -> None:
    assert set(translated["Resources"]) - set(stripped["Resources"]) == FUNCTION_ONLY
    assert set(stripped["Resources"]) - set(translated["Resources"]) == {
        EVENTS_QUEUE, EVENTS_QUEUE_POLICY
    }  # fmt: skip


def test_every_other_resource_is_as_the_transform_wrote_it(
    translated: Template, stripped: Template
) -> None:
    changed = {
        name
        for name, resource in stripped["Resources"].items()
        if name in translated["Resources"] and resource != translated["Resources"][name]
    }
    assert changed == {"SourceBucket", "SourceBucketEventsRule", "BatchOperationsRole"}


def test_the_source_buckets_queue_and_eventbridge_wiring_is_untouched(
    translated: Template, stripped: Template
) -> None:
    before = copy.deepcopy(translated["Resources"]["SourceBucket"])
    before["Properties"]["NotificationConfiguration"].pop("LambdaConfigurations")
    assert stripped["Resources"]["SourceBucket"] == before


def test_the_rule_keeps_its_pattern_and_targets_the_stand_in_queue(
    translated: Template, stripped: Template
) -> None:
    rule, original = (t["Resources"]["SourceBucketEventsRule"] for t in (stripped, translated))
    assert rule["Properties"]["EventPattern"] == original["Properties"]["EventPattern"]
    assert rule["Condition"] == original["Condition"]
    assert rule["Properties"]["Targets"] == [
        {"Id": "CreateThumbnail", "Arn": {"Fn::GetAtt": [EVENTS_QUEUE, "Arn"]}}
    ]
    for added in (EVENTS_QUEUE, EVENTS_QUEUE_POLICY):
        assert stripped["Resources"][added]["Condition"] == original["Condition"]
    (statement,) = stripped["Resources"][EVENTS_QUEUE_POLICY]["Properties"]["PolicyDocument"][
        "Statement"
    ]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnEquals"]["aws:SourceArn"] == [
        {"Fn::GetAtt": ["SourceBucketEventsRule", "Arn"]}
    ]


def test_outputs_that_name_the_function_are_dropped(stripped: Template) -> None:
    """The others stay, conditional ones too (CloudFormation decides them from the parameters)."""
    assert set(stripped["Outputs"]) == {
        "SourceBucketName", "ResizedBucketName", "BatchOperationsRoleArn",
        "FailedEventsQueueUrl", "FailedEventsAlarmName", "ThumbnailBaseUrl",
        "SourceBucketEventBridge",
    }  # fmt: skip


def test_a_new_reference_to_the_function_is_refused_not_guessed(translated: Template) -> None:
    template = copy.deepcopy(translated)
    template["Resources"]["NewTopic"] = {
        "Type": "AWS::SNS::Topic",
        "Properties": {"Subscription": [
            {"Protocol": "lambda", "Endpoint": {"Ref": "CreateThumbnailFunction"}}
        ]},
    }  # fmt: skip
    with pytest.raises(RehearsalTemplateError, match=r"NewTopic -> \['CreateThumbnailFunction'\]"):
        rehearsal_template(template)


# ---- Lambda's side of the queue ----------------------------------------------------------------


def received(message_id: str) -> dict[str, Any]:
    """A message as boto3's receive_message returns it."""
    return {
        "MessageId": message_id,
        "ReceiptHandle": f"handle-{message_id}",
        "MD5OfBody": "0" * 32,
        "Body": "{}",
        "Attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "MessageAttributes": {"trace": {"StringValue": "x", "DataType": "String"}},
    }


def test_the_sqs_event_is_lambdas_shape() -> None:
    (record,) = sqs_event([received("m1")], "arn:aws:sqs:us-east-1:000000000000:q", "us-east-1")[
        "Records"
    ]
    assert record == {
        "messageId": "m1",
        "receiptHandle": "handle-m1",
        "body": "{}",
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "messageAttributes": {"trace": {
            "stringValue": "x", "binaryValue": None, "stringListValues": [],
            "binaryListValues": [], "dataType": "String",
        }},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:q",
        "awsRegion": "us-east-1",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("reply", "kept"),
    [
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "m2"}]}, {"m2"}),
        (None, set()),  # a function returning nothing: every message succeeded
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, {"m1", "m2"}),
        ({"batchItemFailures": [{"itemIdentifier": "elsewhere"}]}, {"m1", "m2"}),
        ({"batchItemFailures": [{"id": "m1"}]}, {"m1", "m2"}),
        ("not json", {"m1", "m2"}),  # Invocation.response gives text when it is not JSON
    ],
    ids=["none", "one", "no-reply", "empty-id", "unknown-id", "no-id", "not-json"],
)
def test_a_reply_hands_back_its_failures_or_the_whole_batch(reply: Any, kept: set[str]) -> None:
    assert kept_by_reply(reply, ["m1", "m2"]) == kept
