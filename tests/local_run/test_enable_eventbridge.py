"""thumbnail-local enable-eventbridge against an S3 that behaves as AWS documents it: one
configuration per bucket, replaced whole by each write. (moto's GetBucketNotificationConfiguration
leaves EventBridgeConfiguration out, so the round trip through a real emulator is LocalStack's, in
tests/rehearsal.)"""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
from local_run.eventbridge.command import enable_eventbridge
from local_run.eventbridge.notifications import NotificationsChanged, enable

OTHER_CONSUMERS = {
    "QueueConfigurations": [{
        "Id": "csv-to-ingest", "QueueArn": "arn:aws:sqs:eu-west-1:123456789012:ingest",
        "Events": ["s3:ObjectCreated:*"], "Filter": {"Key": {"FilterRules": [{"Name": "suffix", "Value": ".csv"}]}},
    }],
    "LambdaFunctionConfigurations": [{
        "Id": "audit", "LambdaFunctionArn": "arn:aws:lambda:eu-west-1:123456789012:function:audit",
        "Events": ["s3:ObjectRemoved:*"],
    }],
}  # fmt: skip


class DocumentedS3:
    """GetBucketNotificationConfiguration / PutBucketNotificationConfiguration as AWS documents
    them; `meddle` runs between a write and the next read, as another writer would."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = copy.deepcopy(config)
        self.writes: list[dict[str, Any]] = []
        self.meddle = lambda config: None

    def get_bucket_notification_configuration(self, Bucket: str) -> dict[str, Any]:
        return {"ResponseMetadata": {"HTTPStatusCode": 200}, **copy.deepcopy(self.config)}

    def put_bucket_notification_configuration(self, Bucket: str, NotificationConfiguration: dict[str, Any],
                                              SkipDestinationValidation: bool = False) -> None:  # fmt: skip
        assert SkipDestinationValidation, "the bucket's own configuration must not be re-validated"
        self.writes.append(copy.deepcopy(NotificationConfiguration))
        self.config = copy.deepcopy(NotificationConfiguration)
        self.meddle(self.config)


def test_eventbridge_is_added_and_every_other_consumer_kept_exactly() -> None:
    s3 = DocumentedS3(OTHER_CONSUMERS)
    out = io.StringIO()
    assert enable_eventbridge(s3, "photos", check=False, out=out) == 0
    assert s3.config == {**OTHER_CONSUMERS, "EventBridgeConfiguration": {}}
    assert "EventBridge notifications turned on; 2 other notifications kept as they were" in out.getvalue()
    assert '"csv-to-ingest"' in out.getvalue()


def test_a_bucket_already_on_is_not_written() -> None:
    s3 = DocumentedS3({**OTHER_CONSUMERS, "EventBridgeConfiguration": {}})
    result = enable(s3, "photos")
    assert (result.changed, s3.writes) == (False, [])


def test_a_bucket_with_no_notifications_gets_eventbridge_alone() -> None:
    s3 = DocumentedS3({})
    enable(s3, "photos")
    assert s3.writes == [{"EventBridgeConfiguration": {}}]


@pytest.mark.parametrize("check_on", [False, True])
def test_check_says_whether_they_are_on_and_writes_nothing(check_on: bool) -> None:
    s3 = DocumentedS3({**OTHER_CONSUMERS, **({"EventBridgeConfiguration": {}} if check_on else {})})
    out = io.StringIO()
    assert enable_eventbridge(s3, "photos", check=True, out=out) == (0 if check_on else 3)
    assert ("are on" if check_on else "OFF: nothing reaches the function") in out.getvalue()
    assert s3.writes == []


def test_another_writer_between_our_read_and_write_is_reported_not_hidden() -> None:
    """S3 has no condition on this write: what was lost is named, and the command fails."""
    s3 = DocumentedS3(OTHER_CONSUMERS)
    s3.meddle = lambda config: config.pop("LambdaFunctionConfigurations")
    with pytest.raises(NotificationsChanged, match="audit"):
        enable(s3, "photos")
    out = io.StringIO()
    s3 = DocumentedS3(OTHER_CONSUMERS)
    s3.meddle = lambda config: config.pop("EventBridgeConfiguration")
    assert enable_eventbridge(s3, "photos", check=False, out=out) == 1
    assert "Check it before deploying" in out.getvalue()
