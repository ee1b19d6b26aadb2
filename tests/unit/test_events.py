"""Every payload in events/ has a case listing what it must yield: these are the same files
users pass to `sam local invoke -e` and paste into the console."""

from __future__ import annotations

from urllib.parse import quote_plus

import pytest

from create_thumbnail.errors import InvalidEvent, InvalidRecord
from create_thumbnail.events import (
    Ignored,
    ObjectRef,
    event_records,
    is_test_event,
    parse_record,
)
from local_run.s3_events import EVENTS_DIR, load_event

EXPECTED = {
    "put.json": [
        ObjectRef("example-source-bucket", "photos/sample.jpg", "d41d8cd98f00b204e9800998ecf8427e", None, 1024),
    ],
    "put-multiple.json": [
        ObjectRef("example-source-bucket", "photos/beach.jpg", "0f343b0931126a20f133d67c2b018a3b", None, 2483712),
        ObjectRef("example-source-bucket", "graphics/logo.png", "9b2cf535f27731c974343645a3985328", None, 48213),
        ObjectRef("example-source-bucket", "docs/notes.txt", "b1946ac92492d2347c6235b4d2611184", None, 312),
    ],
    "put-encoded-key.json": [
        ObjectRef(
            "example-source-bucket",
            "photos/Summer 2026/café + friends.JPG",
            "5d41402abc4b2a76b9719d911017c592",
            None,
            1843200,
        ),
    ],
    "put-non-image.json": [
        ObjectRef("example-source-bucket", "docs/report.pdf", "7215ee9c7d9dc229d2921a40e899ec5f", None, 88412),
    ],
    "delete.json": [
        Ignored("example-source-bucket", "photos/sample.jpg", "ObjectRemoved:Delete is not an object creation"),
    ],
    "s3-test-event.json": [],
}


def test_every_event_file_has_expectations():
    assert sorted(path.name for path in EVENTS_DIR.glob("*.json")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event_file_yields_expected_records(name):
    event = load_event(name)
    records = [] if is_test_event(event) else [parse_record(r) for r in event_records(event)]
    assert records == EXPECTED[name]


def test_keys_are_form_decoded_plus_is_space_and_percent2b_is_plus():
    key = "a b+c/ü%.jpg"
    record = load_event("put.json")["Records"][0]
    record["s3"]["object"]["key"] = quote_plus(key, safe="/")
    assert parse_record(record).key == key


def test_event_without_records_is_invalid_with_its_keys_named():
    with pytest.raises(InvalidEvent, match=r"'Records' list; got an object with keys \['detail', 'source'\]"):
        event_records({"source": "aws.s3", "detail": {}})


def test_non_object_payload_is_invalid():
    with pytest.raises(InvalidEvent, match="got list"):
        event_records([])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.update(eventSource="aws:sqs"), "eventSource 'aws:sqs' is not 'aws:s3'"),
        (lambda r: r["s3"].pop("object"), "lacks s3.bucket.name or s3.object.key"),
        (lambda r: r["s3"]["bucket"].update(name=""), "must be non-empty strings"),
    ],
)
def test_broken_record_is_invalid(mutate, message):
    record = load_event("put.json")["Records"][0]
    mutate(record)
    with pytest.raises(InvalidRecord, match=message):
        parse_record(record)


@pytest.mark.parametrize("size", ["1024", -1, True, None])
def test_implausible_size_is_unknown_not_trusted(size):
    record = load_event("put.json")["Records"][0]
    record["s3"]["object"]["size"] = size
    assert parse_record(record).size is None


def test_version_id_is_kept_for_versioned_buckets():
    record = load_event("put.json")["Records"][0]
    record["s3"]["object"]["versionId"] = "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
    assert parse_record(record).version_id == "3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY"
