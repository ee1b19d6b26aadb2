"""JPEG XL sources through the real handler on moto's S3: taken only when SOURCE_FORMATS says so,
an animation's thumbnail its first frame."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

from local_run.inputs.s3_events import put_event
from PIL import Image, ImageChops

from tests.integration.uploads import configured, keys, upload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "jxl"


def test_a_jxl_gets_upright_jpeg_and_png_thumbnails_when_jxl_is_on(s3, buckets, handler, lambda_context):
    sources = {
        "photos/oriented.jxl": (FIXTURES / "lossless-alpha-10bit-oriented-7.jxl").read_bytes(),
        "photos/recompressed.jxl": (FIXTURES / "recompressed-jpeg-oriented-5.jxl").read_bytes(),
        "photos/cut.jxl": (FIXTURES / "modular-lossy-xyb.jxl").read_bytes()[:30_000],
    }
    records = [upload(s3, buckets.source, key, data) for key, data in sources.items()]
    with configured({"SOURCE_FORMATS": "jpeg,png,jxl"}):
        reply = handler(put_event(*records), lambda_context)

    assert (reply["created"], reply["failed"]) == (2, 1)
    [cut] = [r for r in reply["records"] if r["status"] == "failed"]
    assert cut["reason"].startswith("NotAnImage: could not decode the image: RuntimeError")
    assert keys(s3, buckets.resized) == [
        "256x256/photos/oriented.jxl.png", "256x256/photos/recompressed.jxl.jpg",
        "64x64/photos/oriented.jxl.png", "64x64/photos/recompressed.jxl.jpg",
        "manifests/photos/oriented.jxl.json", "manifests/photos/recompressed.jxl.json",
    ]  # fmt: skip
    oriented = s3.get_object(Bucket=buckets.resized, Key="256x256/photos/oriented.jxl.png")
    assert oriented["ContentType"] == "image/png"  # alpha: PNG
    assert Image.open(BytesIO(oriented["Body"].read())).size == (171, 256)  # orientation 7: portrait
    manifest = json.loads(s3.get_object(Bucket=buckets.resized, Key="manifests/photos/recompressed.jxl.json")["Body"].read())
    assert (manifest["source"]["width"], manifest["source"]["height"]) == (606, 500)  # upright


def test_a_jxl_key_is_skipped_by_a_function_with_the_default_formats(s3, buckets, handler, lambda_context):
    record = upload(s3, buckets.source, "photos/a.jxl", (FIXTURES / "lossy-grey-icc.jxl").read_bytes())
    with configured({"SOURCE_FORMATS": "jpeg,png"}):
        reply = handler(put_event(record), lambda_context)

    assert (reply["created"], reply["skipped"], reply["failed"]) == (0, 1, 0)
    assert reply["records"][0]["reason"] == "not a .jpg/.jpeg/.png key"
    assert keys(s3, buckets.resized) == []


def test_an_animated_jxl_gets_a_thumbnail_of_its_first_frame_and_no_warning(s3, buckets, handler, lambda_context):
    """Four frames, the later ones crops blended over the first: the PNG thumbnails (alpha; no
    larger than the 50 x 80 source) are libjxl's decode of frame 0, pixel for pixel."""
    record = upload(s3, buckets.source, "stickers/traffic-light.jxl", (FIXTURES / "animated-cropped-frames.jxl").read_bytes())
    with configured({"SOURCE_FORMATS": "jpeg,png,jxl"}):
        reply = handler(put_event(record), lambda_context)

    assert reply["created"] == 1 and reply["records"][0].get("warnings", []) == []
    first = Image.open(FIXTURES / "animated-cropped-frames.frame-0.png").convert("RGBA")
    for box in ("64x64", "256x256"):
        thumbnail = s3.get_object(Bucket=buckets.resized, Key=f"{box}/stickers/traffic-light.jxl.png")
        image = Image.open(BytesIO(thumbnail["Body"].read())).convert("RGBA")
        if box == "256x256":
            assert ImageChops.difference(image, first).getbbox() is None
        else:
            assert image.size == (40, 64)
