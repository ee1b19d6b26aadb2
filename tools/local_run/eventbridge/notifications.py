"""Turning a bucket's EventBridge notifications on without disturbing anything else it notifies.

S3 has one PutBucketNotificationConfiguration, and it *replaces* the whole configuration: the
console's and `aws s3api`'s obvious one-liner (`--notification-configuration
'{"EventBridgeConfiguration": {}}'`) silently deletes every queue, topic and function another
team had the bucket notify. So the configuration is read, EventBridge added to it, the whole
written back, and read again to show that everything else is as it was.

S3 offers no condition on this write: another writer between our read and our write would be
overwritten. verify() reads afterwards and names any difference, so that race cannot pass unseen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# What GetBucketNotificationConfiguration may answer besides the HTTP envelope.
KINDS = ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations", "EventBridgeConfiguration")


class NotificationsChanged(Exception):
    """The configuration read back is not what was written: another writer got in between, or S3
    dropped something. The message has both, so nothing is lost from sight."""


@dataclass(frozen=True)
class Enabled:
    bucket: str
    before: dict[str, Any]
    after: dict[str, Any]

    @property
    def changed(self) -> bool:
        return self.before != self.after


def configuration(s3: Any, bucket: str) -> dict[str, Any]:
    """The bucket's notification configuration, as PutBucketNotificationConfiguration takes it
    (an empty list, which some S3s send for a kind not configured, is the same as none)."""
    response = s3.get_bucket_notification_configuration(Bucket=bucket)
    return {kind: response[kind] for kind in KINDS if kind in response and response[kind] != []}


def is_on(config: dict[str, Any]) -> bool:
    return "EventBridgeConfiguration" in config


def with_eventbridge(config: dict[str, Any]) -> dict[str, Any]:
    """config with EventBridge on, every other entry as it was (in its order)."""
    return {**config, "EventBridgeConfiguration": config.get("EventBridgeConfiguration", {})}


def enable(s3: Any, bucket: str) -> Enabled:
    """Idempotent: a bucket already on is not written. The write skips S3's destination check:
    what is written back is the bucket's own configuration, and checking it would make turning
    EventBridge on depend on the health of another consumer's queue or function."""
    before = configuration(s3, bucket)
    if is_on(before):
        return Enabled(bucket, before, before)
    wanted = with_eventbridge(before)
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration=wanted, SkipDestinationValidation=True
    )
    return Enabled(bucket, before, verify(s3, bucket, wanted))


def verify(s3: Any, bucket: str, wanted: dict[str, Any]) -> dict[str, Any]:
    after = configuration(s3, bucket)
    if _comparable(after) != _comparable(wanted):
        raise NotificationsChanged(
            f"s3://{bucket}'s notification configuration is not what was written: "
            f"wrote {wanted}, read back {after}. Check it before deploying."
        )
    return after


def _comparable(config: dict[str, Any]) -> dict[str, Any]:
    """Entries compare as a set: S3 keeps each entry's Id (what was read had them) but need not
    keep their order."""
    return {kind: value if isinstance(value, dict) else sorted(value, key=repr) for kind, value in config.items()}
