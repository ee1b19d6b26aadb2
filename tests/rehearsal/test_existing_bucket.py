"""Deploying onto a bucket people already have, rehearsed on LocalStack (existing.py runs it
once): EventBridge turned on without losing another consumer's notifications, a stack that
creates no source bucket and listens under a prefix, uploads and a backfill under that prefix
only, and a deletion that leaves the bucket as it was, plus the uploads.

Notification configurations are compared whole and exactly, as GetBucketNotificationConfiguration
answers them; the naive write's loss, on a scratch bucket, shows that the comparison sees one.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest

from tests.rehearsal.existing import (
    BEFORE,
    BUCKET,
    CSV,
    INSIDE,
    LOOP,
    OUTSIDE,
    PREFIX,
    RULE_MESSAGE,
    TO_THEIR_THUMBNAILS,
    ExistingRehearsal,
    backfill_planned,
)
from tests.rehearsal.scenario import BOX, outcomes

pytestmark = pytest.mark.rehearsal


def made_for(keys: list[str]) -> set[str]:
    """What the function writes for each image key: its thumbnail and its manifest."""
    return {name for key in keys for name in (f"{BOX}/{key}", f"manifests/{key}.json")}


# ---- 1-2: the bucket, and EventBridge turned on ------------------------------------------------


def test_the_bucket_starts_with_the_other_consumer_alone(existing: ExistingRehearsal) -> None:
    assert set(existing.before.notification) == {"QueueConfigurations", "TopicConfigurations"}
    assert set(existing.before.objects) == {upload.key for upload in BEFORE}
    assert existing.before.policy is not None


def test_enable_eventbridge_adds_eventbridge_and_keeps_the_other_consumer_exactly(
    existing: ExistingRehearsal,
) -> None:
    assert existing.enable is not None and existing.after_enable is not None
    assert existing.enable.returncode == 0, existing.enable.stderr
    assert ("EventBridge notifications turned on; 2 other notifications kept as they were"
            in existing.enable.stdout)  # fmt: skip
    assert existing.after_enable.notification == {
        **existing.before.notification, "EventBridgeConfiguration": {}
    }  # fmt: skip
    assert existing.after_enable.policy == existing.before.policy


def test_check_says_off_before_and_on_after(existing: ExistingRehearsal) -> None:
    assert existing.check_off is not None and existing.check_on is not None
    assert (existing.check_off.returncode, existing.check_on.returncode) == (3, 0)


def test_the_naive_write_drops_the_other_consumer_and_the_comparison_sees_it(
    existing: ExistingRehearsal,
) -> None:
    """The same exact comparison as above, failing on the write enable-eventbridge replaces."""
    others = {k: v for k, v in existing.naive_before.items() if k != "EventBridgeConfiguration"}
    left = {k: v for k, v in existing.naive_after.items() if k != "EventBridgeConfiguration"}
    assert others == existing.before.others()  # the same consumer, on a scratch bucket
    assert left != others
    assert existing.naive_after == {"EventBridgeConfiguration": {}}


# ---- 3: the stack ------------------------------------------------------------------------------


def test_the_stack_creates_no_source_bucket_and_touches_nothing_of_it(
    existing: ExistingRehearsal,
) -> None:
    types = existing.resource_types
    assert [n for n, t in types.items() if t == "AWS::S3::Bucket"] == ["ResizedBucket"]
    assert [n for n, t in types.items() if t == "AWS::S3::BucketPolicy"] == ["ResizedBucketPolicy"]
    assert existing.stack is not None
    assert existing.stack.outputs["SourceBucketName"] == BUCKET
    assert existing.stack.outputs["SourceBucketEventBridge"] == (
        f"thumbnail-local enable-eventbridge --bucket {BUCKET}"
    )
    assert existing.after_deploy == existing.after_enable


def test_the_rule_matches_the_bucket_under_the_prefix(existing: ExistingRehearsal) -> None:
    assert existing.rule_pattern == {
        "source": ["aws.s3"],
        "detail-type": ["Object Created", "Object Deleted"],
        "detail": {"bucket": {"name": [BUCKET]}, "object": {"key": [{"prefix": PREFIX}]}},
    }


def test_the_function_gets_the_prefix_and_the_stacks_resized_bucket(
    existing: ExistingRehearsal,
) -> None:
    assert existing.environment["SOURCE_KEY_PREFIX"] == PREFIX
    assert existing.environment["DESTINATION_BUCKET"] == existing.resized_bucket


# ---- 4: uploads --------------------------------------------------------------------------------


def test_an_upload_under_the_prefix_becomes_its_thumbnail(existing: ExistingRehearsal) -> None:
    (delivery,) = existing.deliveries
    assert delivery.invocation.error is None
    assert unquote(delivery.event["detail"]["object"]["key"]) == INSIDE.key
    statuses = [(entry["key"], entry["status"]) for entry in outcomes(existing.deliveries)]
    assert statuses == [(INSIDE.key, "created")]
    assert existing.after_uploads == made_for([INSIDE.key])


def test_an_upload_outside_the_prefix_is_filtered_by_the_rule(existing: ExistingRehearsal) -> None:
    """EventBridge had the event (the witness rule saw it); the stack's rule did not pass it on,
    so the function never saw it (its own SOURCE_KEY_PREFIX check was not needed)."""
    witnessed = [unquote(e["detail"]["object"]["key"]) for e in existing.witnessed]
    assert OUTSIDE.key in witnessed
    assert existing.target_left == 0
    delivered = [unquote(d.event["detail"]["object"]["key"]) for d in existing.deliveries]
    assert OUTSIDE.key not in delivered


def test_the_other_consumer_is_still_told_of_csv_creations_and_export_removals(
    existing: ExistingRehearsal,
) -> None:
    records = [r for m in existing.csv_messages for r in m.get("Records", [])]
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in records] == [
        ("ObjectCreated:Put", CSV.key)
    ]
    assert {m["Event"] for m in existing.csv_messages if "Records" not in m} <= {"s3:TestEvent"}
    published = [json.loads(m["Message"]) for m in existing.topic_messages]
    removals = [r for m in published for r in m.get("Records", [])]
    assert [(r["eventName"], r["s3"]["object"]["key"]) for r in removals] == [
        ("ObjectRemoved:Delete", CSV.key)
    ]


# ---- 5: the backfill ---------------------------------------------------------------------------


def test_the_backfill_covers_the_images_that_were_there_under_the_prefix_only(
    existing: ExistingRehearsal,
) -> None:
    assert existing.backfill is not None
    assert existing.backfill.returncode == 0, existing.backfill.stderr
    earlier = [u.key for u in BEFORE
               if u.key.startswith(PREFIX) and u.content_type.startswith("image/")]  # fmt: skip
    assert backfill_planned(existing.backfill) == len(earlier) == 2
    assert existing.after_backfill == made_for([INSIDE.key, *earlier])


# ---- 6: the stack deleted ----------------------------------------------------------------------


def test_deleting_the_stack_leaves_the_bucket_as_it_was_plus_the_uploads(
    existing: ExistingRehearsal,
) -> None:
    after = existing.after_delete
    assert after is not None
    uploaded = {k: e for k, e in existing.uploaded.items() if k in (INSIDE.key, OUTSIDE.key)}
    assert after.objects == {**existing.before.objects, **uploaded}
    assert after.policy == existing.before.policy
    assert after.others() == existing.before.others()
    # Left on: harmless with no rule listening, and enable-eventbridge's to undo, not the stack's.
    assert after.notification == {**existing.before.notification, "EventBridgeConfiguration": {}}


def test_deleting_the_stack_removes_its_rule_and_keeps_its_resized_bucket(
    existing: ExistingRehearsal,
) -> None:
    assert existing.rules_left == []
    assert existing.resized_retained  # DeletionPolicy: Retain


# ---- the variant with ExistingResizedBucket ----------------------------------------------------


def test_with_an_existing_resized_bucket_the_stack_creates_no_bucket_and_writes_there(
    existing: ExistingRehearsal,
) -> None:
    variant = existing.variant
    assert variant is not None
    assert [n for n, t in variant.resource_types.items() if t.startswith("AWS::S3::")] == []
    assert set(variant.resized_after.objects) == made_for([TO_THEIR_THUMBNAILS.key])
    assert variant.resized_after.policy == variant.resized_before.policy
    assert variant.resized_before.policy is not None


# ---- 7: the resized bucket equal to the source -------------------------------------------------


def test_the_resized_bucket_equal_to_the_source_is_refused_or_never_written(
    existing: ExistingRehearsal,
) -> None:
    """AWS's CloudFormation refuses this stack (the template's ResizedBucketIsNotTheSource rule)
    before creating anything. LocalStack 2026.3.0's does not evaluate Rules and creates it: then
    what is checked is the second line, the function refusing an event from its destination
    bucket, and nothing written there. If LocalStack starts evaluating Rules, the first branch
    checks its message."""
    same = existing.same_bucket
    assert same is not None
    if same.refused is not None:
        assert RULE_MESSAGE in same.refused
        return
    replies = [r for d in same.deliveries for r in d.invocation.response["records"]]
    assert [(r["key"], r["status"]) for r in replies] == [(LOOP.key, "failed")]
    assert "destination bucket" in replies[0]["reason"]
    assert same.written == []
