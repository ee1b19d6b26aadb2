"""A report -> the EMF lines CloudWatch reads: what is counted, under which dimensions."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from local_run.inputs.grid import source_bytes
from local_run.inputs.s3_events import load_event, put_event

from create_thumbnail.config import Box, Settings
from create_thumbnail.errors import StorageUnavailable
from create_thumbnail.metrics import publish
from create_thumbnail.pipeline import Report, handle_event
from tests.emf import emf_lines, metrics_of
from tests.fakes import InMemoryStorage

SOURCE, RESIZED = "photos-source", "photos-resized"
SETTINGS = Settings(destination_bucket=RESIZED, sizes=(Box(64, 64), Box(128, 128)))


def test_every_outcome_is_counted_under_its_reason(capsys):
    storage = InMemoryStorage()
    jpeg = source_bytes("RGB", (400, 300), "JPEG")
    event = put_event(
        storage.upload(SOURCE, "a.jpg", jpeg),
        storage.upload(SOURCE, "b.jpg", jpeg),
        storage.upload(SOURCE, "notes.txt", b"text"),
        storage.upload(SOURCE, "other.pdf", b"%PDF"),
        storage.upload(SOURCE, "fake.jpg", b"<html>"),
        storage.upload(SOURCE, "slow.jpg", jpeg),
        *load_event("delete.json")["Records"],
    )
    storage.failures[("GET", SOURCE, "slow.jpg")] = StorageUnavailable("SlowDown (HTTP 503)")
    handle_event(put_event(event["Records"][0]), SETTINGS, storage)  # a.jpg: a duplicate next time
    capsys.readouterr()

    publish(handle_event(event, SETTINGS, storage))

    found = metrics_of(capsys.readouterr().out)
    [processing_ms] = found.pop(("ProcessingTime", ()))
    assert processing_ms > 0
    assert found == {  # values are lists: one entry per add_metric call
        ("ThumbnailsCreated", ()): [2.0],  # b.jpg, two boxes
        ("SourceBytes", ()): [float(len(jpeg))],
        ("Duplicates", ()): [1.0],
        ("RecordsSkipped", (("Reason", "not a .jpg/.jpeg/.png key"),)): [2.0],
        ("RecordsSkipped", (("Reason", "no current object and no thumbnails: nothing to do"),)): [1.0],  # delete.json
        ("RecordsFailed", (("Error", "NotAnImage"),)): [1.0],
        ("RecordsRetryable", (("Error", "StorageUnavailable"),)): [1.0],
    }


def test_values_of_one_metric_are_kept_apart_not_summed(capsys):
    """CloudWatch sums them itself; SourceBytes and ProcessingTime need every value for
    percentiles, so several created records give a list."""
    storage = InMemoryStorage()
    small, large = source_bytes("RGB", (200, 100), "JPEG"), source_bytes("RGB", (400, 300), "JPEG")
    publish(handle_event(put_event(storage.upload(SOURCE, "s.jpg", small), storage.upload(SOURCE, "l.jpg", large)),
                         SETTINGS, storage))
    [line] = emf_lines(capsys.readouterr().out)
    assert line["SourceBytes"] == [float(len(small)), float(len(large))]
    assert line["ThumbnailsCreated"] == [2.0, 2.0]


def test_service_dimension_comes_from_the_environment(capsys):
    storage = InMemoryStorage()
    publish(handle_event(put_event(storage.upload(SOURCE, "a.pdf", b"%PDF")), SETTINGS, storage))
    [line] = emf_lines(capsys.readouterr().out)
    assert line["_aws"]["CloudWatchMetrics"][0]["Dimensions"] == [["Reason", "service"]]
    assert line["service"] == "create-thumbnail"


def test_nothing_is_printed_for_an_event_without_records(capsys):
    publish(Report())
    assert capsys.readouterr().out == ""


def test_metrics_can_be_switched_off(capsys, monkeypatch: pytest.MonkeyPatch):
    """Powertools' own switch, for local runs that print a table on stdout."""
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    storage = InMemoryStorage()
    publish(handle_event(put_event(storage.upload(SOURCE, "a.jpg", source_bytes("RGB", (40, 30), "JPEG"))),
                         SETTINGS, storage))
    assert capsys.readouterr().out == ""


def test_a_bug_is_retryable_and_counted_as_one_not_as_bad_input(capsys):
    """A TypeError from our own code (here: a storage that returns the wrong thing) is no
    NotAnImage: the record is retryable, and counted under UnexpectedErrors by what it raised."""

    class BrokenStorage(InMemoryStorage):
        def get(self, bucket: str, key: str):
            return 42  # not a Document: reading its .stored raises AttributeError in our code

    storage = BrokenStorage()
    report = handle_event(put_event(storage.upload(SOURCE, "a.jpg", source_bytes("RGB", (64, 48), "JPEG"))),
                          SETTINGS, storage)  # fmt: skip
    [outcome] = report.outcomes
    assert (outcome.status, outcome.reason.split(":")[0]) == ("retryable", "UnexpectedError")
    assert report.raises
    publish(report)
    found = metrics_of(capsys.readouterr().out)
    assert found[("RecordsRetryable", (("Error", "UnexpectedError"),))] == [1.0]
    assert found[("UnexpectedErrors", (("Raised", "AttributeError"),))] == [1.0]


def test_a_video_counts_what_it_read_of_its_object_beside_its_size(capsys):
    """A clip whose index follows its media: the first MiB, then ranged GETs."""
    storage = InMemoryStorage()
    clip = (Path(__file__).resolve().parents[1] / "fixtures" / "video" / "h264-4k-phone-portrait.mp4").read_bytes()
    settings = replace(SETTINGS, source_formats=("jpeg", "video"))
    publish(handle_event(put_event(storage.upload(SOURCE, "clip.mp4", clip)), settings, storage))
    [line] = emf_lines(capsys.readouterr().out)
    assert line["SourceBytes"] == [float(len(clip))]
    assert line["RangedRequests"][0] >= 1 and line["SourceBytesRead"] == [float((1 << 20) + storage.ranged_bytes)]
