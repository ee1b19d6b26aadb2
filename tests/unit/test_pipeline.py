"""The pipeline against an in-memory Storage: no network, no moto, no patching."""

from __future__ import annotations

import time
from dataclasses import replace
from urllib.parse import unquote_plus

import pytest
from local_run.inputs.grid import decode, source_bytes
from local_run.inputs.icc_profiles import ADOBE_RGB, reclassified, rgb_profile
from local_run.inputs.s3_events import load_event, put_event, put_record
from local_run.inputs.samples import encode, photo

from create_thumbnail.config import Box, Encoding, Settings
from create_thumbnail.errors import DeadlineExceeded, InvalidEvent, StorageUnavailable
from create_thumbnail.pipeline import handle_event
from create_thumbnail.storage import Opened
from tests.fakes import InMemoryStorage

SOURCE, RESIZED = "photos-source", "photos-resized"
SETTINGS = Settings(destination_bucket=RESIZED, sizes=(Box(64, 64), Box(128, 128)))
PHOTO = source_bytes("RGB", (400, 300), "JPEG")


def test_every_record_is_processed_and_each_gets_every_size(storage):
    event = put_event(
        storage.upload(SOURCE, "a.jpg", PHOTO),
        storage.upload(SOURCE, "b/c.PNG", source_bytes("RGBA", (300, 400), "PNG")),
    )
    report = handle_event(event, SETTINGS, storage)
    assert [o.status for o in report.outcomes] == ["created", "created"]
    assert storage.keys(RESIZED) == ["128x128/a.jpg", "128x128/b/c.PNG", "64x64/a.jpg", "64x64/b/c.PNG",
                                     "manifests/a.jpg.json", "manifests/b/c.PNG.json"]  # fmt: skip
    thumbnail = storage.objects[(RESIZED, "128x128/b/c.PNG")]
    assert thumbnail.content_type == "image/png"
    assert decode(thumbnail.data).size == (96, 128)
    assert thumbnail.metadata["source-key"] == "b/c.PNG"
    assert thumbnail.metadata["source-etag"] == storage.objects[(SOURCE, "b/c.PNG")].etag


def test_bad_records_do_not_stop_the_good_ones_and_write_nothing(storage):
    good = PHOTO
    event = put_event(
        storage.upload(SOURCE, "notes.txt", b"hello"),
        storage.upload(SOURCE, "fake.jpg", b"<html>not an image</html>"),
        storage.upload(SOURCE, "cut.jpg", good[: len(good) // 3]),
        storage.upload(SOURCE, "good.jpg", good),
        storage.upload(SOURCE, "folder/", b""),
    )
    report = handle_event(event, SETTINGS, storage)
    assert [(o.key, o.status) for o in report.outcomes] == [
        ("notes.txt", "skipped"),
        ("fake.jpg", "failed"),
        ("cut.jpg", "failed"),
        ("good.jpg", "created"),
        ("folder/", "skipped"),
    ]
    assert "NotAnImage" in report.outcomes[1].reason
    assert storage.keys(RESIZED) == ["128x128/good.jpg", "64x64/good.jpg", "manifests/good.jpg.json"]
    assert report.as_dict()["failed"] == 2 and report.as_dict()["skipped"] == 2


def test_sources_are_never_modified(storage):
    data = source_bytes("RGB", (400, 300), "JPEG", orientation=6)
    event = put_event(storage.upload(SOURCE, "a.jpg", data))
    handle_event(event, SETTINGS, storage)
    assert storage.objects[(SOURCE, "a.jpg")].data == data


def test_redelivery_is_a_duplicate_that_reads_no_body(storage):
    """The source's GET (its headers: the body is never read), the manifest's GET, a HEAD per
    thumbnail: nothing decoded or written."""
    event = put_event(storage.upload(SOURCE, "a.jpg", PHOTO))
    first = handle_event(event, SETTINGS, storage)
    snapshot, reads, requests = dict(storage.objects), storage.reads, storage.requests.copy()
    second = handle_event(event, SETTINGS, storage)
    assert (first.outcomes[0].status, second.outcomes[0].status) == ("created", "duplicate")
    assert storage.reads - reads == 0
    assert storage.requests - requests == {"GET": 2, "HEAD": 2}  # two thumbnails
    assert storage.objects == snapshot
    assert second.as_dict()["duplicate"] == 1


def test_a_fresh_upload_costs_one_request_more_than_its_writes_and_read(storage):
    """GET the source, GET the manifest (404), PUT each thumbnail and the manifest, and then one
    HEAD: the source is still what was thumbnailed."""
    handle_event(put_event(storage.upload(SOURCE, "a.jpg", PHOTO)), SETTINGS, storage)
    assert storage.requests == {"GET": 2, "PUT": 3, "HEAD": 1}
    assert storage.reads == 1


def test_an_interrupted_earlier_attempt_is_finished_not_taken_for_a_duplicate(storage):
    event = put_event(storage.upload(SOURCE, "a.jpg", PHOTO))
    handle_event(event, SETTINGS, storage)
    del storage.objects[(RESIZED, "128x128/a.jpg")]  # the last write never happened
    report = handle_event(event, SETTINGS, storage)
    assert report.outcomes[0].status == "created"
    assert storage.keys(RESIZED) == ["128x128/a.jpg", "64x64/a.jpg", "manifests/a.jpg.json"]


def test_a_thumbnail_of_other_bytes_is_not_a_duplicate(storage):
    """A re-upload under the same key brings its own event with a new ETag and size."""
    handle_event(put_event(storage.upload(SOURCE, "a.jpg", PHOTO)), SETTINGS, storage)
    report = handle_event(put_event(storage.upload(SOURCE, "a.jpg", source_bytes("L", (300, 300), "JPEG"))), SETTINGS, storage)
    assert report.outcomes[0].status == "created"
    assert decode(storage.objects[(RESIZED, "128x128/a.jpg")].data).size == (128, 128)


def test_changed_encoding_settings_make_the_thumbnails_again(storage):
    event = put_event(storage.upload(SOURCE, "a.jpg", PHOTO))
    handle_event(event, SETTINGS, storage)
    report = handle_event(event, replace(SETTINGS, encoding=Encoding(jpeg_quality=60)), storage)
    assert report.outcomes[0].status == "created"


def test_what_the_event_claims_decides_nothing(storage):
    """Without an ETag, sequencer or size, a redelivery is still found to be a duplicate: the
    object as it is now is compared with what the manifest records."""
    record = storage.upload(SOURCE, "a.jpg", PHOTO)
    for claim in ("eTag", "sequencer", "size"):
        del record["s3"]["object"][claim]
    handle_event(put_event(record), SETTINGS, storage)
    report = handle_event(put_event(record), SETTINGS, storage)
    assert report.outcomes[0].status == "duplicate"


def test_a_png_named_jpg_is_a_duplicate_on_redelivery(storage):
    """The manifest lists the names the bytes gave; without it they are predicted from the
    extension, and a misnamed file costs a full run, never a wrong skip."""
    event = put_event(storage.upload(SOURCE, "a.jpg", source_bytes("RGB", (400, 300), "PNG")))
    handle_event(event, SETTINGS, storage)
    assert handle_event(event, SETTINGS, storage).outcomes[0].status == "duplicate"
    assert storage.keys(RESIZED) == ["128x128/a.jpg.png", "64x64/a.jpg.png", "manifests/a.jpg.json"]
    without_manifest = replace(SETTINGS, manifest=False)
    assert handle_event(event, without_manifest, storage).outcomes[0].status == "created"


def test_event_from_the_destination_bucket_is_refused(storage):
    data = PHOTO
    storage.add(RESIZED, "64x64/a.jpg", data)
    event = put_event(put_record(RESIZED, "64x64/a.jpg", len(data), ""))
    report = handle_event(event, SETTINGS, storage)
    assert report.outcomes[0].status == "failed"
    assert "RecursionRefused" in report.outcomes[0].reason
    assert storage.reads == 0
    assert storage.keys(RESIZED) == ["64x64/a.jpg"]


def test_keys_outside_the_source_key_prefix_are_skipped_without_a_request(storage):
    """A bucket shared with other data: a stray event for another key (a whole-bucket backfill,
    a hand-made test) reads nothing and writes nothing; keys under the prefix are made."""
    settings = replace(SETTINGS, source_key_prefix="uploads/")
    event = put_event(storage.upload(SOURCE, "private/a.jpg", PHOTO), storage.upload(SOURCE, "uploads/b.jpg", PHOTO))
    before = sum(storage.requests.values())
    report = handle_event(event, settings, storage)
    assert [(o.key, o.status, o.reason) for o in report.outcomes][0] == (
        "private/a.jpg", "skipped", "outside SOURCE_KEY_PREFIX 'uploads/'")
    assert report.outcomes[1].status == "created"
    assert storage.keys(RESIZED) == ["128x128/uploads/b.jpg", "64x64/uploads/b.jpg", "manifests/uploads/b.jpg.json"]
    assert sum(storage.requests.values()) - before == 2 + 2 + 1 + 1  # the second record's alone


def test_an_eventbridge_key_under_the_prefix_only_once_decoded_is_not_skipped(storage):
    """LocalStack percent-encodes EventBridge keys: 'up%20loads/a.jpg' is under 'up loads/'."""
    settings = replace(SETTINGS, source_key_prefix="up loads/")
    storage.upload(SOURCE, "up loads/a.jpg", PHOTO)
    event = load_event("eventbridge-object-created.json")
    event["detail"]["bucket"]["name"], event["detail"]["object"]["key"] = SOURCE, "up%20loads/a.jpg"
    report = handle_event(event, settings, storage)
    assert report.outcomes[0].status == "created", report.outcomes[0].reason


def test_transient_failure_is_reported_after_the_other_records(storage):
    event = put_event(
        storage.upload(SOURCE, "throttled.jpg", PHOTO),
        storage.upload(SOURCE, "fine.jpg", PHOTO),
    )
    storage.failures[("GET", SOURCE, "throttled.jpg")] = StorageUnavailable("SlowDown (HTTP 503)")
    report = handle_event(event, SETTINGS, storage)
    assert storage.keys(RESIZED) == ["128x128/fine.jpg", "64x64/fine.jpg", "manifests/fine.jpg.json"]
    assert [(key, str(error)) for _, key, error in report.retryable] == [("throttled.jpg", "SlowDown (HTTP 503)")]
    assert report.as_dict()["retryable"] == 1


def test_failed_write_of_one_size_is_retryable(storage):
    event = put_event(storage.upload(SOURCE, "a.jpg", PHOTO))
    storage.failures[("PUT", RESIZED, "128x128/a.jpg")] = StorageUnavailable("InternalError (HTTP 500)")
    report = handle_event(event, SETTINGS, storage)
    assert [o.status for o in report.outcomes] == ["retryable"]
    assert storage.keys(RESIZED) == ["64x64/a.jpg"]  # written before; its retry overwrites it


def test_failed_duplicate_check_is_retryable_and_reads_nothing(storage):
    event = put_event(storage.upload(SOURCE, "a.jpg", PHOTO))
    storage.failures[("GET", RESIZED, "manifests/a.jpg.json")] = StorageUnavailable("SlowDown (HTTP 503)")
    report = handle_event(event, SETTINGS, storage)
    assert [o.status for o in report.outcomes] == ["retryable"]
    assert (storage.reads, storage.keys(RESIZED)) == (0, [])


def test_permanent_failures_are_not_retryable(storage):
    report = handle_event(put_event(storage.upload(SOURCE, "fake.jpg", b"<html>")), SETTINGS, storage)
    assert report.outcomes[0].status == "failed" and report.retryable == []


# --- the deadline ------------------------------------------------------------------------------


def test_no_record_is_started_once_the_deadline_margin_is_reached(storage):
    event = put_event(
        storage.upload(SOURCE, "a.jpg", PHOTO),
        storage.upload(SOURCE, "notes.txt", b"text"),
        storage.upload(SOURCE, "b.jpg", PHOTO),
    )
    deadline = time.monotonic() + 5  # 5 s left, under the 10 s default margin
    report = handle_event(event, SETTINGS, storage, deadline)
    assert [o.status for o in report.outcomes] == ["retryable", "skipped", "retryable"]
    assert all(isinstance(error, DeadlineExceeded) for _, _, error in report.retryable)
    assert "under DEADLINE_MARGIN_MS (10,000)" in report.outcomes[0].reason
    assert (storage.requests, storage.keys(RESIZED)) == ({}, [])


def test_records_run_while_more_than_the_margin_is_left(storage):
    event = put_event(storage.upload(SOURCE, "a.jpg", PHOTO))
    report = handle_event(event, SETTINGS, storage, time.monotonic() + 11)
    assert report.outcomes[0].status == "created"


class SlowStorage(InMemoryStorage):
    """Reads take a fixed time, as a large object from S3 would."""

    def open(self, bucket: str, key: str) -> Opened | None:
        time.sleep(0.6)
        return super().open(bucket, key)


def test_time_spent_on_one_record_leaves_the_next_for_the_retry():
    storage = SlowStorage()
    event = put_event(
        storage.upload(SOURCE, "a.jpg", PHOTO),
        storage.upload(SOURCE, "b.jpg", PHOTO),
    )
    settings = replace(SETTINGS, deadline_margin_ms=1000)
    # a.jpg starts with 1.5 s left (0.5 s to spare); its 0.6 s read leaves b.jpg under 0.9 s.
    report = handle_event(event, settings, storage, time.monotonic() + 1.5)
    assert [o.status for o in report.outcomes] == ["created", "retryable"]
    assert storage.keys(RESIZED) == ["128x128/a.jpg", "64x64/a.jpg", "manifests/a.jpg.json"]


def test_an_overwritten_source_is_thumbnailed_as_read_and_records_what_was_read(storage):
    record = storage.upload(SOURCE, "a.jpg", PHOTO)
    newer = storage.add(SOURCE, "a.jpg", source_bytes("L", (400, 300), "JPEG"))
    [outcome] = handle_event(put_event(record), SETTINGS, storage).outcomes
    assert outcome.status == "created"
    stored = storage.objects[(RESIZED, "128x128/a.jpg")]
    assert decode(stored.data).mode == "L"
    assert (stored.metadata["source-etag"], stored.metadata["source-size"]) == (newer.etag, str(len(newer.data)))


def test_a_made_up_etag_and_size_still_make_thumbnails_that_record_the_real_ones(storage):
    """The Lambda console's S3 Put template: ETag 0123456789abcdef0123456789abcdef, size 1024."""
    event = load_event("console-put.json")
    obj = event["Records"][0]["s3"]["object"]
    bucket, key = event["Records"][0]["s3"]["bucket"]["name"], unquote_plus(obj["key"])
    real = storage.add(bucket, key, PHOTO)
    [outcome] = handle_event(event, SETTINGS, storage).outcomes
    assert outcome.status == "created"
    metadata = storage.objects[(RESIZED, f"64x64/{key}")].metadata
    assert (metadata["source-etag"], metadata["source-size"]) == (real.etag, str(len(PHOTO)))
    assert obj["eTag"] != real.etag
    again = handle_event(event, SETTINGS, storage).outcomes[0]
    assert again.status == "duplicate"  # its claims are never compared with anything


def test_an_unknown_version_reads_the_object_as_it_is_now(storage):
    """The Go and Rust runtimes' sample events name versionId "version"."""
    record = storage.upload(SOURCE, "a.jpg", PHOTO)
    record["s3"]["object"]["versionId"] = "version"
    [outcome] = handle_event(put_event(record), SETTINGS, storage).outcomes
    assert outcome.status == "created"
    assert "source-version-id" not in storage.objects[(RESIZED, "64x64/a.jpg")].metadata


def test_an_upload_deleted_since_its_event_makes_nothing(storage):
    record = put_record(SOURCE, "gone.jpg", 100, "abc")
    [outcome] = handle_event(put_event(record), SETTINGS, storage).outcomes
    assert (outcome.status, outcome.reason) == ("skipped", "no current object and no thumbnails: nothing to do")
    assert storage.reads == 0 and storage.keys(RESIZED) == []


def test_object_over_the_byte_limit_is_refused_before_reading(storage):
    settings = Settings(destination_bucket=RESIZED, sizes=(Box(64, 64),), max_source_bytes=1000)
    event = put_event(storage.upload(SOURCE, "big.jpg", PHOTO))
    report = handle_event(event, settings, storage)
    assert "ImageTooLarge" in report.outcomes[0].reason
    assert storage.reads == 0


def test_empty_object_with_unknown_size_is_skipped_after_reading(storage):
    storage.add(SOURCE, "empty.jpg", b"")
    record = put_record(SOURCE, "empty.jpg", 0, "")
    del record["s3"]["object"]["size"]
    report = handle_event(put_event(record), SETTINGS, storage)
    assert (report.outcomes[0].status, report.outcomes[0].reason) == ("skipped", "empty object (0 bytes)")


def test_delete_without_thumbnails_and_test_events_are_counted_skips(storage):
    [deleted] = handle_event(load_event("delete.json"), SETTINGS, storage).outcomes
    assert (deleted.status, deleted.reason) == ("skipped", "no current object and no thumbnails: nothing to do")
    [test_event] = handle_event(load_event("s3-test-event.json"), SETTINGS, storage).outcomes
    assert (test_event.status, test_event.reason) == ("skipped", "s3:TestEvent")


def test_malformed_record_is_a_failed_record_not_a_crash(storage):
    good = storage.upload(SOURCE, "a.jpg", PHOTO)
    report = handle_event(put_event({"eventSource": "aws:s3"}, good), SETTINGS, storage)
    assert [o.status for o in report.outcomes] == ["failed", "created"]


def test_payload_that_is_not_an_s3_event_is_rejected():
    with pytest.raises(InvalidEvent):
        handle_event({"detail-type": "Object Created"}, SETTINGS, InMemoryStorage())


def test_an_ignored_profile_is_a_warning_in_the_reply_not_a_failure(storage):
    data = encode(photo((300, 200)), "JPEG", icc_profile=reclassified(rgb_profile("Adobe RGB (1998)", ADOBE_RGB), b"link"))
    [outcome] = handle_event(put_event(storage.upload(SOURCE, "a.jpg", data)), SETTINGS, storage).outcomes
    assert outcome.status == "created"
    [warning] = outcome.as_dict()["warnings"]
    assert warning == "ICC profile ignored, image made as untagged sRGB: a 'link' profile describes no device's colours"
