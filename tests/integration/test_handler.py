"""The real handler, invoked as Lambda invokes it, against moto's S3 over HTTP."""

from __future__ import annotations

import os
from io import BytesIO
from urllib.parse import unquote

import pytest
from local_run.inputs.grid import source_bytes
from local_run.inputs.icc_profiles import ADOBE_RGB, reclassified, rgb_profile
from local_run.inputs.s3_events import put_event, put_record
from local_run.inputs.samples import encode, photo
from local_run.shared import environment
from PIL import Image

from create_thumbnail.errors import ConfigError, RetryableRecordsFailed
from tests.integration.uploads import keys, upload


def test_multi_record_event_writes_one_thumbnail_per_image_and_size(s3, buckets, handler, lambda_context):
    images = {
        "photos/Summer 2026/café + friends.JPG": source_bytes("RGB", (600, 800), "JPEG", orientation=6),
        "graphics/logo.png": source_bytes("RGBA", (300, 500), "PNG"),
    }
    bad = {"docs/notes.txt": b"text", "uploads/fake.jpg": b"<html>oops</html>", "empty.png": b""}
    records = [upload(s3, buckets.source, key, data) for key, data in {**images, **bad}.items()]
    sources_before = {key: s3.head_object(Bucket=buckets.source, Key=key)["ETag"] for key in {**images, **bad}}

    reply = handler(put_event(*records), lambda_context)

    assert (reply["created"], reply["skipped"], reply["failed"]) == (2, 2, 1)
    assert keys(s3, buckets.resized) == sorted([f"{box}/{key}" for key in images for box in ("64x64", "256x256")]
                                               + [f"manifests/{key}.json" for key in images])  # fmt: skip
    portrait = s3.get_object(Bucket=buckets.resized, Key="256x256/photos/Summer 2026/café + friends.JPG")
    assert portrait["ContentType"] == "image/jpeg"
    assert Image.open(BytesIO(portrait["Body"].read())).size == (192, 256)  # EXIF 6: upright portrait
    logo = s3.get_object(Bucket=buckets.resized, Key="64x64/graphics/logo.png")
    assert logo["ContentType"] == "image/png"
    assert Image.open(BytesIO(logo["Body"].read())).mode == "RGBA"
    assert unquote(portrait["Metadata"]["source-key"]) == "photos/Summer 2026/café + friends.JPG"
    assert portrait["Metadata"]["source-etag"] == sources_before["photos/Summer 2026/café + friends.JPG"].strip('"')
    sources_after = {key: s3.head_object(Bucket=buckets.source, Key=key)["ETag"] for key in sources_before}
    assert sources_after == sources_before


def test_source_overwritten_after_the_event_is_thumbnailed_as_it_is_now(s3, buckets, handler, lambda_context):
    """The thumbnails show the object as read and record the ETag read, not the event's."""
    stale = upload(s3, buckets.source, "a.jpg", source_bytes("RGB", (400, 300), "JPEG"))
    newer = s3.put_object(Bucket=buckets.source, Key="a.jpg", Body=source_bytes("L", (300, 300), "JPEG"))
    reply = handler(put_event(stale), lambda_context)
    assert reply["records"][0]["status"] == "created"
    thumbnail = s3.get_object(Bucket=buckets.resized, Key="256x256/a.jpg")
    assert Image.open(BytesIO(thumbnail["Body"].read())).size == (256, 256)
    assert thumbnail["Metadata"]["source-etag"] == newer["ETag"].strip('"')


def test_an_event_naming_an_older_version_makes_the_current_versions_thumbnails(s3, buckets, handler, lambda_context):
    """A late event for a version that is no longer current writes nothing for that version."""
    s3.put_bucket_versioning(Bucket=buckets.source, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=buckets.source, Key="a.jpg", Body=source_bytes("RGB", (400, 300), "JPEG"))
    current = s3.put_object(Bucket=buckets.source, Key="a.jpg", Body=source_bytes("L", (300, 300), "JPEG"))
    record = put_record(buckets.source, "a.jpg", 1, first["ETag"])
    record["s3"]["object"]["versionId"] = first["VersionId"]
    reply = handler(put_event(record), lambda_context)
    assert [(t["width"], t["height"]) for t in reply["records"][0]["thumbnails"]] == [(64, 64), (256, 256)]
    metadata = s3.head_object(Bucket=buckets.resized, Key="256x256/a.jpg")["Metadata"]
    assert metadata["source-version-id"] == current["VersionId"]


def test_missing_destination_bucket_raises_for_retry_after_other_records(s3, buckets, handler, lambda_context):
    event = put_event(
        upload(s3, buckets.source, "a.jpg", source_bytes("RGB", (400, 300), "JPEG")),
        upload(s3, buckets.source, "b.jpg", source_bytes("RGB", (400, 300), "JPEG")),
    )
    s3.delete_bucket(Bucket=buckets.resized)
    with pytest.raises(RetryableRecordsFailed, match=r"2 record\(s\) failed.*NoSuchBucket"):
        handler(event, lambda_context)


def test_event_from_the_destination_bucket_is_refused(s3, buckets, handler, lambda_context):
    record = upload(s3, buckets.resized, "64x64/a.jpg", source_bytes("RGB", (400, 300), "JPEG"))
    reply = handler(put_event(record), lambda_context)
    assert reply["failed"] == 1 and "RecursionRefused" in reply["records"][0]["reason"]
    assert keys(s3, buckets.resized) == ["64x64/a.jpg"]


def test_missing_configuration_fails_the_invocation_naming_the_variable(handler, lambda_context, function_log):
    with environment({"DESTINATION_BUCKET": ""}):
        with pytest.raises(ConfigError, match="DESTINATION_BUCKET is not set"):
            handler(put_event(), lambda_context)
    [line] = function_log()
    assert line["message"] == "invocation rejected" and "DESTINATION_BUCKET" in line["exception"]


def test_logs_are_json_with_request_id_bucket_and_key(s3, buckets, handler, lambda_context, function_log):
    record = upload(s3, buckets.source, "a.jpg", source_bytes("RGB", (400, 300), "JPEG"))
    handler(put_event(record), lambda_context)
    [line] = [line for line in function_log() if line["message"] == "thumbnails written"]
    assert line["function_request_id"] == lambda_context.aws_request_id
    assert (line["bucket"], line["key"], line["service"]) == (buckets.source, "a.jpg", "create-thumbnail")


def test_the_client_uses_the_sdk_endpoint_variable(s3_endpoint, handler):
    from create_thumbnail import app

    assert os.environ["AWS_ENDPOINT_URL"] == s3_endpoint
    assert app.wiring()[1]._client.meta.endpoint_url == s3_endpoint


def test_an_unusable_profile_is_logged_as_a_warning_naming_the_object(
    s3, buckets, handler, lambda_context, function_log
):
    icc = reclassified(rgb_profile("Adobe RGB (1998)", ADOBE_RGB), b"abst")
    data = encode(photo((300, 200)), "JPEG", icc_profile=icc)
    reply = handler(put_event(upload(s3, buckets.source, "abstract.jpg", data)), lambda_context)
    assert reply["records"][0]["status"] == "created"
    [line] = [line for line in function_log() if line["message"] == "made with a warning"]
    assert (line["level"], line["key"]) == ("WARNING", "abstract.jpg")
    assert line["reason"].endswith("a 'abst' profile describes no device's colours")
