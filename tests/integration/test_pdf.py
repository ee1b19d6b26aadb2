"""PDF sources through the real handler on moto's S3: taken only when SOURCE_FORMATS says so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

from local_run.inputs.s3_events import put_event
from local_run.shared import environment
from PIL import Image

from tests.integration.uploads import keys, upload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pdf"


@contextmanager
def _reconfigured(values: dict[str, str]) -> Iterator[None]:
    """The function redeployed with these settings: its first-invocation wiring built again."""
    from create_thumbnail import app

    with environment(values):
        app.wiring.cache_clear()
        yield
    app.wiring.cache_clear()


def test_a_pdf_gets_jpeg_thumbnails_of_its_first_page_when_pdf_is_on(s3, buckets, handler, lambda_context):
    documents = {
        "docs/rotated.pdf": (FIXTURES / "rotated-90.pdf").read_bytes(),
        "docs/locked.pdf": (FIXTURES / "encrypted-open-password.pdf").read_bytes(),
    }
    records = [upload(s3, buckets.source, key, data) for key, data in documents.items()]
    with _reconfigured({"SOURCE_FORMATS": "jpeg,png,pdf"}):
        reply = handler(put_event(*records), lambda_context)

    assert (reply["created"], reply["failed"]) == (1, 1)
    [locked] = [r for r in reply["records"] if r["status"] == "failed"]
    assert locked["reason"] == "EncryptedDocument: a PDF that needs a password to be opened"
    assert keys(s3, buckets.resized) == ["256x256/docs/rotated.pdf.jpg", "64x64/docs/rotated.pdf.jpg",
                                         "manifests/docs/rotated.pdf.json"]  # fmt: skip
    thumbnail = s3.get_object(Bucket=buckets.resized, Key="256x256/docs/rotated.pdf.jpg")
    assert thumbnail["ContentType"] == "image/jpeg"
    assert Image.open(BytesIO(thumbnail["Body"].read())).size == (256, 182)  # /Rotate 90: landscape
    manifest = json.loads(s3.get_object(Bucket=buckets.resized, Key="manifests/docs/rotated.pdf.json")["Body"].read())
    assert (manifest["source"]["width"], manifest["source"]["height"]) == (842, 595)  # the page, in points


def test_a_pdf_key_is_skipped_by_a_function_that_reads_jpeg_only(s3, buckets, handler, lambda_context):
    record = upload(s3, buckets.source, "docs/a.pdf", (FIXTURES / "vector-text.pdf").read_bytes())
    with _reconfigured({"SOURCE_FORMATS": "jpeg"}):
        reply = handler(put_event(record), lambda_context)

    assert (reply["created"], reply["skipped"], reply["failed"]) == (0, 1, 0)
    assert reply["records"][0]["reason"] == "not a .jpg/.jpeg key"
    assert keys(s3, buckets.resized) == []
