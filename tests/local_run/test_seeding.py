"""The objects an event announces are seeded into the local S3 when missing, and the event is
made to pin them (ETag, version), in every shape the function reads: the function's own parser
reads the seeded event back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from local_run.embedded_s3 import embedded_s3, local_s3_client
from local_run.s3_events import load_event
from local_run.seeding import created_objects, ensure_buckets, seed_event_objects

SOURCE = "example-source-bucket"


@pytest.fixture
def s3() -> Iterator[Any]:
    with embedded_s3() as endpoint:
        client = local_s3_client(endpoint)
        ensure_buckets(client, [SOURCE])
        yield client


def test_sqs_wrapped_put_is_seeded_and_its_body_pins_the_new_object(s3: Any) -> None:
    event, seeded = seed_event_objects(s3, load_event("sqs-s3.json"))
    assert [(s.bucket, s.key) for s in seeded] == [(SOURCE, "photos/beach.jpg")]  # not the delete
    [change] = created_objects(event)
    assert change.etag == s3.head_object(Bucket=SOURCE, Key="photos/beach.jpg")["ETag"].strip('"')


def test_batch_task_with_a_version_gets_the_seeded_version(s3: Any) -> None:
    event, _ = seed_event_objects(s3, load_event("batch-operations-v2.json"))
    versioned = {c.key: c.version_id for c in created_objects(event)}["graphics/logo.png"]
    head = s3.head_object(Bucket=SOURCE, Key="graphics/logo.png", VersionId=versioned)
    assert head["ContentType"] == "image/png"


def test_an_existing_object_and_its_record_are_left_alone(s3: Any) -> None:
    s3.put_object(Bucket=SOURCE, Key="photos/sample.jpg", Body=b"mine")
    original = load_event("put.json")
    event, seeded = seed_event_objects(s3, original)
    assert (event, seeded) == (original, [])
    assert s3.get_object(Bucket=SOURCE, Key="photos/sample.jpg")["Body"].read() == b"mine"


def test_an_event_the_function_would_reject_seeds_nothing(s3: Any) -> None:
    assert seed_event_objects(s3, {"sleep_s": 1}) == ({"sleep_s": 1}, [])
