"""PDF sources through the real handler on moto's S3: taken only when SOURCE_FORMATS says so, and
rendered from the page PDF_PAGE or the key's rule asks for."""

from __future__ import annotations

import json
from io import BytesIO
from pathlib import Path

from local_run.inputs.s3_events import put_event
from PIL import Image

from tests.integration.uploads import configured, keys, upload

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pdf"




def test_a_pdf_gets_jpeg_thumbnails_of_its_first_page_when_pdf_is_on(s3, buckets, handler, lambda_context):
    documents = {
        "docs/rotated.pdf": (FIXTURES / "rotated-90.pdf").read_bytes(),
        "docs/locked.pdf": (FIXTURES / "encrypted-open-password.pdf").read_bytes(),
    }
    records = [upload(s3, buckets.source, key, data) for key, data in documents.items()]
    with configured({"SOURCE_FORMATS": "jpeg,png,pdf"}):
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
    with configured({"SOURCE_FORMATS": "jpeg"}):
        reply = handler(put_event(record), lambda_context)

    assert (reply["created"], reply["skipped"], reply["failed"]) == (0, 1, 0)
    assert reply["records"][0]["reason"] == "not a .jpg/.jpeg key"
    assert keys(s3, buckets.resized) == []


def test_a_rules_page_becomes_the_thumbnail_and_a_shorter_pdf_gives_its_last(s3, buckets, handler, lambda_context):
    """reports/ asks for page 2: the four-page fixture's page 2 (/Rotate 180, so upright in
    shape) where the plain settings' page 1 (/Rotate 90) is on its side; a one-page PDF under
    reports/ gets its only page, and the record says so."""
    documents = {
        "reports/rotated.pdf": (FIXTURES / "rotated-90.pdf").read_bytes(),
        "reports/short.pdf": (FIXTURES / "vector-text.pdf").read_bytes(),
        "docs/rotated.pdf": (FIXTURES / "rotated-90.pdf").read_bytes(),
    }
    records = [upload(s3, buckets.source, key, data) for key, data in documents.items()]
    rules = json.dumps({"reports/": {"page": "2"}})
    with configured({"SOURCE_FORMATS": "jpeg,png,pdf", "THUMBNAIL_RULES": rules}):
        reply = handler(put_event(*records), lambda_context)

    assert (reply["created"], reply["failed"]) == (3, 0)
    warnings = {record["key"]: record.get("warnings", []) for record in reply["records"]}
    assert warnings == {
        "reports/rotated.pdf": [], "docs/rotated.pdf": [],
        "reports/short.pdf": ["a PDF of 1 page: page 2 was asked for, its last page rendered instead"],
    }  # fmt: skip
    assert _size(s3, buckets.resized, "256x256/reports/rotated.pdf.jpg") == (182, 256)  # page 2
    assert _size(s3, buckets.resized, "256x256/docs/rotated.pdf.jpg") == (256, 182)  # page 1
    assert _size(s3, buckets.resized, "256x256/reports/short.pdf.jpg") == (182, 256)
    assert _manifest(s3, buckets.resized, "reports/rotated.pdf")["source"]["width"] == 595  # page 2, in points
    assert _rule_digest(s3, buckets.resized, "reports/rotated.pdf") != _rule_digest(s3, buckets.resized, "docs/rotated.pdf")


def test_a_page_changed_makes_the_thumbnails_again_and_page_one_said_aloud_does_not(
    s3, buckets, handler, lambda_context
):
    """The page is in the rule's digest: the same event after PDF_PAGE changes re-renders, while
    PDF_PAGE=1, what every earlier thumbnail was made with, finds them up to date."""
    record = upload(s3, buckets.source, "docs/rotated.pdf", (FIXTURES / "rotated-90.pdf").read_bytes())
    statuses = []
    for page in ("", "1", "2"):
        with configured({"SOURCE_FORMATS": "jpeg,png,pdf", "PDF_PAGE": page}):
            statuses.append(handler(put_event(record), lambda_context)["records"][0]["status"])
    assert statuses == ["created", "duplicate", "created"]
    assert _size(s3, buckets.resized, "256x256/docs/rotated.pdf.jpg") == (182, 256)  # page 2, /Rotate 180


def _size(s3, bucket: str, key: str) -> tuple[int, int]:
    return Image.open(BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())).size


def _manifest(s3, bucket: str, source_key: str) -> dict:
    return json.loads(s3.get_object(Bucket=bucket, Key=f"manifests/{source_key}.json")["Body"].read())


def _rule_digest(s3, bucket: str, source_key: str) -> str:
    return s3.head_object(Bucket=bucket, Key=f"256x256/{source_key}.jpg")["Metadata"]["thumbnail-rule"]
