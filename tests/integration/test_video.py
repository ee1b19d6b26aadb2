"""Video sources through the real handler on moto's S3, over the wire: taken only when
SOURCE_FORMATS says so, read in ranges (each counted on the wire and in the record), the poster
a rule's time asks for. (A source replaced while it is read: tests/unit/test_lifecycle.py, and
the ranged GET's If-Match on moto: tests/integration/test_storage_contract.py.)"""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

from local_run.inputs.s3_events import put_event
from PIL import Image

from tests.integration.uploads import configured, keys, upload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "video"
PORTRAIT = "h264-4k-phone-portrait.mp4"  # 2.5 MB, its index after the media




def test_a_phone_clip_is_read_in_ranges_and_gets_thumbnails_of_its_upright_picture(
    s3, buckets, handler, faults, lambda_context
):
    data = (FIXTURES / PORTRAIT).read_bytes()
    record = upload(s3, buckets.source, "clips/portrait.mp4", data)
    with configured({"SOURCE_FORMATS": "jpeg,video", "MAX_VIDEO_READ_BYTES": str(4 << 20)}):
        reply = handler(put_event(record), lambda_context)

    [done] = reply["records"]
    assert done["status"] == "created", done
    assert keys(s3, buckets.resized) == ["256x256/clips/portrait.mp4.jpg", "64x64/clips/portrait.mp4.jpg",
                                         "manifests/clips/portrait.mp4.json"]  # fmt: skip
    thumbnail = s3.get_object(Bucket=buckets.resized, Key="256x256/clips/portrait.mp4.jpg")
    assert thumbnail["ContentType"] == "image/jpeg"
    assert Image.open(BytesIO(thumbnail["Body"].read())).size == (144, 256)  # the matrix: upright
    manifest = json.loads(s3.get_object(Bucket=buckets.resized, Key="manifests/clips/portrait.mp4.json")["Body"].read())
    assert (manifest["source"]["width"], manifest["source"]["height"]) == (2160, 3840)
    # On the wire: the GET that opened it, then one ranged GET per block the demuxer moved to.
    gets = faults.requests_for("clips/portrait.mp4").count("GET")
    assert gets == 1 + done["ranged_requests"] and 1 <= done["ranged_requests"] <= 3
    assert done["source_bytes"] == len(data) and done["source_bytes_read"] <= len(data)


def test_a_video_key_is_skipped_by_a_function_that_reads_images_only(s3, buckets, handler, lambda_context):
    record = upload(s3, buckets.source, "clips/a.mp4", (FIXTURES / "h264-landscape.mp4").read_bytes())
    with configured({"SOURCE_FORMATS": "jpeg,png"}):
        reply = handler(put_event(record), lambda_context)
    assert (reply["created"], reply["skipped"]) == (0, 1)
    assert keys(s3, buckets.resized) == []


def test_a_clip_over_the_read_limit_fails_permanently_and_leaves_nothing(s3, buckets, handler, lambda_context):
    record = upload(s3, buckets.source, "clips/portrait.mp4", (FIXTURES / PORTRAIT).read_bytes())
    with configured({"SOURCE_FORMATS": "jpeg,video", "MAX_VIDEO_READ_BYTES": str(1 << 20)}):
        reply = handler(put_event(record), lambda_context)
    [failed] = reply["records"]
    assert failed["status"] == "failed"
    assert failed["reason"].startswith("ReadLimitExceeded: reading a frame took more than 1,048,576 bytes")
    assert keys(s3, buckets.resized) == []


def test_a_rules_poster_time_and_the_first_frame_with_a_picture(s3, buckets, handler, lambda_context):
    data = (FIXTURES / "vp9-square.webm").read_bytes()
    records = [upload(s3, buckets.source, key, data) for key in ("trailers/a.webm", "clips/a.webm")]
    rules = json.dumps({"trailers/": {"poster": "2.5"}})
    with configured({"SOURCE_FORMATS": "jpeg,video", "THUMBNAIL_RULES": rules}):
        reply = handler(put_event(*records), lambda_context)
    assert reply["created"] == 2
    trailer, clip = (s3.get_object(Bucket=buckets.resized, Key=f"256x256/{k}.jpg")["Body"].read()
                     for k in ("trailers/a.webm", "clips/a.webm"))  # fmt: skip
    assert trailer != clip
    assert [r.get("warnings", []) for r in reply["records"]] == [[], []]
