"""A video read in ranges from an S3 we did not write: LocalStack's. Its ranged GETs with If-Match
answer the bytes asked for, and 412 once the key holds another object; a phone's 4K clip, its
index after its media, becomes upright thumbnails through the pipeline with ranged GETs only
for what the first GET's head lacked."""

from __future__ import annotations

import uuid
from io import BytesIO
from pathlib import Path

import pytest
from local_run.inputs.s3_events import put_event, put_record
from PIL import Image
from rehearsal.localstack import LocalStack

from create_thumbnail.config import Box, Settings
from create_thumbnail.errors import WriteConflict
from create_thumbnail.pipeline import handle_event
from create_thumbnail.storage import S3Storage

pytestmark = pytest.mark.rehearsal

CLIP = Path(__file__).resolve().parents[1] / "fixtures" / "video" / "h264-4k-phone-portrait.mp4"


def test_a_phone_clip_is_read_in_ranges_from_localstack_and_never_across_two_objects(localstack: LocalStack) -> None:
    s3 = localstack.client("s3")
    source, resized = f"video-{uuid.uuid4().hex[:10]}", f"video-resized-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=resized)
    storage, data = S3Storage(s3), CLIP.read_bytes()

    first = s3.put_object(Bucket=source, Key="clip.mp4", Body=data)["ETag"].strip('"')
    assert storage.read_range(source, "clip.mp4", len(data) - 4096, len(data), first) == data[-4096:]
    s3.put_object(Bucket=source, Key="clip.mp4", Body=data[::-1])
    with pytest.raises(WriteConflict):
        storage.read_range(source, "clip.mp4", 0, 4096, first)

    put = s3.put_object(Bucket=source, Key="clip.mp4", Body=data)
    settings = Settings(destination_bucket=resized, sizes=(Box(256, 256),), source_formats=("jpeg", "video"))
    report = handle_event(put_event(put_record(source, "clip.mp4", len(data), put["ETag"])), settings, storage)
    [outcome] = report.outcomes
    assert outcome.status == "created", outcome
    assert outcome.read is not None and 1 <= outcome.read.requests <= 3 and outcome.read.bytes < len(data)
    thumbnail = s3.get_object(Bucket=resized, Key="256x256/clip.mp4.jpg")["Body"].read()
    assert Image.open(BytesIO(thumbnail)).size == (144, 256)
