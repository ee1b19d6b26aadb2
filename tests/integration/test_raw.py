"""Camera RAW sources through the real handler on moto's S3: the embedded preview when
SOURCE_FORMATS includes raw, a failure naming why where no preview serves, skipped by the
default settings, and refused by name where only tiff is on."""

from __future__ import annotations

import json
from io import BytesIO

from local_run.inputs.camera_raw import dng, nef_like
from local_run.inputs.s3_events import put_event
from PIL import Image

from tests.integration.uploads import configured, keys, upload




def test_a_raw_gets_upright_jpeg_thumbnails_from_its_preview_when_raw_is_on(s3, buckets, handler, lambda_context):
    """A DNG stored turned (orientation 6) with a preview that carries no orientation, and one
    without a preview: thumbnails upright for the first, a failure naming why for the second."""
    records = [upload(s3, buckets.source, "photos/turned.dng", dng((600, 400), 6, preview=(900, 600))),
               upload(s3, buckets.source, "photos/sensor-only.DNG", dng((600, 400)))]  # fmt: skip
    with configured({"SOURCE_FORMATS": "jpeg,png,raw"}):
        reply = handler(put_event(*records), lambda_context)

    assert (reply["created"], reply["failed"]) == (1, 1)
    [failed] = [r for r in reply["records"] if r["status"] == "failed"]
    assert failed["reason"] == (
        "NoUsablePreview: a camera RAW without an embedded preview, and no demosaic of the sensor data is shipped"
    )
    assert keys(s3, buckets.resized) == ["256x256/photos/turned.dng.jpg", "64x64/photos/turned.dng.jpg",
                                         "manifests/photos/turned.dng.json"]  # fmt: skip
    thumbnail = s3.get_object(Bucket=buckets.resized, Key="256x256/photos/turned.dng.jpg")
    assert thumbnail["ContentType"] == "image/jpeg"
    image = Image.open(BytesIO(thumbnail["Body"].read())).convert("RGB")
    assert image.size == (256, 171)  # landscape once turned
    red, green, _ = image.getpixel((3, 3))
    assert red > 150 and green < 90  # the red block top-left
    manifest = json.loads(s3.get_object(Bucket=buckets.resized, Key="manifests/photos/turned.dng.json")["Body"].read())
    assert (manifest["source"]["width"], manifest["source"]["height"]) == (900, 600)  # the preview's


def test_a_raw_key_is_skipped_by_the_default_settings(s3, buckets, handler, lambda_context):
    record = upload(s3, buckets.source, "photos/a.dng", dng(preview=(300, 200)))
    reply = handler(put_event(record), lambda_context)

    assert (reply["created"], reply["skipped"], reply["failed"]) == (0, 1, 0)
    assert reply["records"][0]["reason"] == "not a .jpg/.jpeg/.png key"
    assert keys(s3, buckets.resized) == []


def test_a_raw_named_tif_is_refused_by_name_where_only_tiff_is_on(s3, buckets, handler, lambda_context):
    """Its first IFD, a 160 x 120 thumbnail, is a TIFF a TIFF reader would show: not thumbnailed."""
    record = upload(s3, buckets.source, "scans/a.tif", nef_like((1200, 800)))
    with configured({"SOURCE_FORMATS": "jpeg,png,tiff"}):
        reply = handler(put_event(record), lambda_context)

    assert (reply["created"], reply["failed"]) == (0, 1)
    assert reply["records"][0]["reason"] == "NotAnImage: a RAW image, which SOURCE_FORMATS does not include"
    assert keys(s3, buckets.resized) == []
