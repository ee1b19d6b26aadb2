"""generate-event put encodes the key as S3 does ('+' for a space, %2B for a plus), unlike
`sam local generate-event s3 put`, which writes %20. The evidence is events/put-encoded-key.json,
the encoding of a real notification for that key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from local_run.cli import main
from local_run.inputs.s3_events import load_event

from create_thumbnail.events import Change, parse_event

CAFE = "photos/Summer 2026/café + friends.JPG"


def generate(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main(["generate-event", "put", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_key_is_encoded_as_s3_encodes_it(capsys: pytest.CaptureFixture[str]) -> None:
    event = generate(capsys, "--bucket", "example-source-bucket", "--key", CAFE)
    key = event["Records"][0]["s3"]["object"]["key"]
    assert key == "photos/Summer+2026/caf%C3%A9+%2B+friends.JPG"
    assert key == load_event("put-encoded-key.json")["Records"][0]["s3"]["object"]["key"]


def test_the_function_reads_back_the_key_given(capsys: pytest.CaptureFixture[str]) -> None:
    event = generate(capsys, "--bucket", "b-1", "--key", "a+b c%2B.png", "--size", "77")
    [change] = parse_event(event).items
    assert isinstance(change, Change)
    assert (change.bucket, change.key, change.size, change.etag) == (
        "b-1",
        "a+b c%2B.png",
        77,
        None,
    )


def test_etag_only_when_given_and_event_time_is_now(capsys: pytest.CaptureFixture[str]) -> None:
    without = generate(capsys, "--bucket", "b", "--key", "k.jpg")["Records"][0]
    given = generate(capsys, "--bucket", "b", "--key", "k.jpg", "--etag", '"abc123"')["Records"][0]
    assert "eTag" not in without["s3"]["object"]
    assert given["s3"]["object"]["eTag"] == "abc123"
    stamped = datetime.strptime(given["eventTime"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - stamped) < timedelta(minutes=1)
