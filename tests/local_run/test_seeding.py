"""The objects an event announces are seeded into the local S3 when missing, in every shape the
function reads; the event itself is never rewritten."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from local_run.inputs.s3_events import load_event
from local_run.invoke.seeding import ensure_buckets, seed_event_objects
from local_run.shared import embedded_s3, local_s3_client

SOURCE = "example-source-bucket"


@pytest.fixture
def s3() -> Iterator[Any]:
    with embedded_s3() as endpoint:
        client = local_s3_client(endpoint)
        ensure_buckets(client, [SOURCE])
        yield client


def test_sqs_wrapped_put_is_seeded_and_the_delete_is_not(s3: Any) -> None:
    seeded = seed_event_objects(s3, load_event("sqs-s3.json"))
    assert [(s.bucket, s.key) for s in seeded] == [(SOURCE, "photos/beach.jpg")]
    assert s3.head_object(Bucket=SOURCE, Key="photos/beach.jpg")["ContentType"] == "image/jpeg"


def test_an_existing_object_is_left_alone(s3: Any) -> None:
    s3.put_object(Bucket=SOURCE, Key="photos/sample.jpg", Body=b"mine")
    assert seed_event_objects(s3, load_event("put.json")) == []
    assert s3.get_object(Bucket=SOURCE, Key="photos/sample.jpg")["Body"].read() == b"mine"


def test_a_percent_encoded_eventbridge_key_is_seeded_under_its_decoded_spelling(s3: Any) -> None:
    event = load_event("eventbridge-object-created.json")
    event["detail"]["object"]["key"] = "photos/a%20b.jpg"
    assert [s.key for s in seed_event_objects(s3, event)] == ["photos/a b.jpg"]


def test_an_event_the_function_would_reject_seeds_nothing(s3: Any) -> None:
    assert seed_event_objects(s3, {"sleep_s": 1}) == []
