"""An SVG through the real handler on moto's S3: thumbnailed when SOURCE_FORMATS includes svg,
skipped by name when it does not (the default)."""

from __future__ import annotations

from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from local_run.inputs.s3_events import put_event
from local_run.shared import environment
from PIL import Image

from tests.integration.uploads import keys, upload

ICON = (Path(__file__).parents[1] / "fixtures" / "svg" / "bootstrap-balloon-heart-fill.svg").read_bytes()


@pytest.fixture
def with_svg(handler: Any) -> Iterator[None]:
    from create_thumbnail import app

    with environment({"SOURCE_FORMATS": "jpeg,png,svg"}):
        app.wiring.cache_clear()
        yield
    app.wiring.cache_clear()


def test_an_svg_gets_png_thumbnails_with_transparency(s3, buckets, handler, lambda_context, with_svg) -> None:
    record = upload(s3, buckets.source, "icons/balloon.svg", ICON)

    reply = handler(put_event(record), lambda_context)

    assert (reply["created"], reply["skipped"], reply["failed"]) == (1, 0, 0)
    assert keys(s3, buckets.resized) == ["256x256/icons/balloon.svg.png", "64x64/icons/balloon.svg.png",
                                         "manifests/icons/balloon.svg.json"]  # fmt: skip
    thumbnail = s3.get_object(Bucket=buckets.resized, Key="256x256/icons/balloon.svg.png")
    assert thumbnail["ContentType"] == "image/png"
    image = Image.open(BytesIO(thumbnail["Body"].read()))
    assert (image.size, image.mode, image.getextrema()[3][0]) == ((256, 256), "RGBA", 0)  # drawn at the box: a vector


def test_the_default_formats_skip_an_svg(s3, buckets, handler, lambda_context) -> None:
    record = upload(s3, buckets.source, "icons/balloon.svg", ICON)

    reply = handler(put_event(record), lambda_context)

    assert (reply["created"], reply["skipped"], reply["failed"]) == (0, 1, 0)
    assert keys(s3, buckets.resized) == []
