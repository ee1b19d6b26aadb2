"""Backfill planning, the Batch Operations manifest and job request: pure, no S3."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from urllib.parse import unquote_plus

from local_run.backfill.command import _function_settings
from local_run.backfill.plan import batch_event, create_job_request, manifest_csv, plan

from create_thumbnail.config import Box, Encoding, Settings
from create_thumbnail.events import Change, parse_event

BOXES = (Box(64, 64), Box(256, 256))
SETTINGS = Settings("resized", BOXES)


def test_plan_lists_images_missing_any_box_and_nothing_else():
    sources = ["a.jpg", "b.png", "c.JPG", "notes.txt", "folder/", "misnamed.jpg", "d.jpeg"]
    thumbnails = {
        "64x64/a.jpg", "256x256/a.jpg",  # complete
        "64x64/b.png",  # one box missing
        "64x64/misnamed.jpg.png", "256x256/misnamed.jpg.png",  # a PNG named .jpg, complete
    }  # fmt: skip
    assert plan(sources, thumbnails, SETTINGS) == ["b.png", "c.JPG", "d.jpeg"]


def test_plan_follows_the_output_format():
    thumbnails = {"64x64/a.jpg.webp", "256x256/a.jpg.webp", "64x64/b.jpg", "256x256/b.jpg"}
    assert plan(["a.jpg", "b.jpg"], thumbnails, replace(SETTINGS, encoding=Encoding(formats=("webp",)))) == ["b.jpg"]


def test_plan_wants_every_format_of_every_box():
    settings = replace(SETTINGS, encoding=Encoding(formats=("webp", "source")))
    thumbnails = {"64x64/a.jpg.webp", "256x256/a.jpg.webp", "64x64/a.jpg", "256x256/a.jpg", "64x64/b.jpg.webp", "256x256/b.jpg.webp"}
    assert plan(["a.jpg", "b.jpg"], thumbnails, settings) == ["b.jpg"]


def test_manifest_is_bucket_and_url_encoded_key_per_line():
    keys = ["photos/Summer 2026/café + friends.JPG", "a,b.jpg"]
    rows = list(csv.reader(io.StringIO(manifest_csv("src-bucket", keys).decode())))
    assert [row[0] for row in rows] == ["src-bucket", "src-bucket"]
    assert [unquote_plus(row[1]) for row in rows] == keys
    assert rows[0][1] == "photos/Summer+2026/caf%C3%A9+%2B+friends.JPG"


def test_job_request_invokes_the_function_with_schema_2_and_reports_failures():
    request = create_job_request(
        account_id="123456789012",
        function_arn="arn:aws:lambda:us-east-1:123456789012:function:thumbs",
        role_arn="arn:aws:iam::123456789012:role/batch",
        manifest_arn="arn:aws:s3:::reports/manifests/backfill.csv",
        manifest_etag="abc",
        report_bucket_arn="arn:aws:s3:::reports",
    )
    assert request["Operation"] == {
        "LambdaInvoke": {
            "FunctionArn": "arn:aws:lambda:us-east-1:123456789012:function:thumbs",
            "InvocationSchemaVersion": "2.0",
        }
    }
    assert request["Manifest"]["Spec"] == {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]}
    assert request["Report"]["ReportScope"] == "FailedTasksOnly" and request["ConfirmationRequired"] is False


def test_local_batch_event_is_what_the_function_parses_back():
    keys = ["a b+c.jpg", "d.png"]
    parsed = parse_event(batch_event("src", keys, "job-1"))
    assert parsed.kind == "batch"
    assert [(item.bucket, item.key) for item in parsed.items if isinstance(item, Change)] == [("src", k) for k in keys]


def test_a_local_backfill_takes_from_the_shell_every_setting_that_changes_a_digest():
    """Else backfill --stale would judge thumbnails against another rule than the function's."""
    shaping = {"THUMBNAIL_SIZES": "64x64", "THUMBNAIL_RULES": "{}", "PDF_PAGE": "2", "VIDEO_POSTER": "3",
               "VIDEO_SEARCH_SECONDS": "5", "JPEG_QUALITY": "70",
               "MAX_FRAMES": "20", "SOURCE_FORMATS": "jpeg,pdf"}  # fmt: skip
    assert _function_settings({**shaping, "HOME": "/home/me", "AWS_REGION": "eu-west-1"}) == shaping
