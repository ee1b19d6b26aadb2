"""Every case of the bad-input corpus (tests/corpus.py) through the real handler on moto: each
ends as a correct thumbnail or as a logged, counted, permanent skip; nothing half-made is left in
the resized bucket; the source is byte-identical afterwards; and the invocation never raises,
since no retry could change any of these outcomes."""

from __future__ import annotations

import pytest
from local_run.inputs.grid import decode
from local_run.inputs.s3_events import put_event

from tests.corpus import Case, corpus
from tests.emf import metrics_of
from tests.integration.uploads import keys, upload

CORPUS = corpus()
BOXES = ((64, 64), (256, 256))  # the handler fixture's THUMBNAIL_SIZES
METRIC = {"skipped": ("RecordsSkipped", "Reason"), "failed": ("RecordsFailed", "Error")}


@pytest.mark.parametrize("case", CORPUS, ids=[case.id for case in CORPUS])
def test_bad_input_ends_in_its_named_outcome(case: Case, s3, buckets, handler, lambda_context, function_log, capsys):
    reply = handler(put_event(upload(s3, buckets.source, case.key, case.data)), lambda_context)

    [record] = reply["records"]
    assert record["status"] == case.status, record
    assert s3.get_object(Bucket=buckets.source, Key=case.key)["Body"].read() == case.data
    [line] = [line for line in function_log() if line.get("key") == case.key]
    emitted = metrics_of(capsys.readouterr().out)
    if case.status == "created":
        assert_thumbnails(s3, buckets.resized, case)
        assert line["level"] == "INFO" and emitted[("ThumbnailsCreated", ())] == [2.0]
        return
    assert keys(s3, buckets.resized) == []
    assert record["reason"].startswith(case.why), record
    assert line["level"] == ("WARNING" if case.status == "skipped" else "ERROR")
    assert line["reason"] == record["reason"]
    metric, dimension = METRIC[case.status]
    assert emitted == {(metric, ((dimension, case.why),)): [1.0]}


def assert_thumbnails(s3, bucket: str, case: Case) -> None:
    expected = sorted(f"{w}x{h}/{case.key}{case.thumbnail_suffix}" for w, h in BOXES)
    assert keys(s3, bucket) == sorted([*expected, f"manifests/{case.key}.json"])
    for key, (width, height) in zip(sorted(expected, key=lambda k: int(k.split("x")[0])), BOXES, strict=True):
        stored = s3.get_object(Bucket=bucket, Key=key)
        assert stored["ContentType"] == case.content_type
        image = decode(stored["Body"].read())
        assert image.get_format_mimetype() == case.content_type
        assert image.mode == case.mode
        assert image.width <= width and image.height <= height


def test_the_whole_corpus_in_one_event_fails_nothing_else(s3, buckets, handler, lambda_context):
    """One S3 event carrying every case: the outcomes are each case's own, in order."""
    records = [upload(s3, buckets.source, case.key, case.data) for case in CORPUS]
    reply = handler(put_event(*records), lambda_context)
    assert [r["status"] for r in reply["records"]] == [case.status for case in CORPUS]
    made = [case for case in CORPUS if case.status == "created"]
    assert len(keys(s3, buckets.resized)) == len(made) * (len(BOXES) + 1)  # and a manifest each
    assert reply["retryable"] == 0
