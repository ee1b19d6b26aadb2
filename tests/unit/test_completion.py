"""Completion events from a report, and their delivery: batches of ten, failed entries retried,
what still fails counted and never raised."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from create_thumbnail.completion import EventBridgePublisher, completion_entries
from create_thumbnail.errors import NotAnImage, StorageUnavailable
from create_thumbnail.pipeline import Outcome, Report


class FlakyEventBridge:
    """PutEvents that fails the entries named in fail_first on their first attempts."""

    def __init__(self, failures: dict[str, int] | None = None, broken: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.failures = dict(failures or {})
        self.broken = broken

    def put_events(self, Entries):  # noqa: N803 - boto3's name
        if self.broken:
            raise ClientError({"Error": {"Code": "AccessDeniedException"}}, "PutEvents")
        self.calls.append([json.loads(e["Detail"])["source"]["key"] for e in Entries])
        results = []
        for entry in Entries:
            key = json.loads(entry["Detail"])["source"]["key"]
            if self.failures.get(key, 0) > 0:
                self.failures[key] -= 1
                results.append({"ErrorCode": "InternalFailure"})
            else:
                results.append({"EventId": "id"})
        return {"FailedEntryCount": sum("ErrorCode" in r for r in results), "Entries": results}


def _report(count: int) -> Report:
    outcomes = [Outcome("src", f"k{i}.jpg", "created", manifest={"source": {"bucket": "src", "key": f"k{i}.jpg"}})
                for i in range(count)]  # fmt: skip
    return Report(outcomes)


def test_entries_by_outcome_and_nothing_for_skips_and_duplicates():
    report = Report([
        Outcome("b", "a.jpg", "created", manifest={"source": {"bucket": "b", "key": "a.jpg"}}),
        Outcome("b", "x.txt", "skipped", "not a .jpg key"),
        Outcome("b", "d.jpg", "duplicate"),
        Outcome("b", "r.jpg", "removed", removed=("64x64/r.jpg",)),
        Outcome("b", "f.jpg", "failed", "NotAnImage: html", error=NotAnImage("html")),
        Outcome("b", "t.jpg", "retryable", "StorageUnavailable: 503", error=StorageUnavailable("503")),
    ])  # fmt: skip
    entries = completion_entries(report, "my-bus")
    assert [(e["DetailType"], e["EventBusName"], e["Source"]) for e in entries] == [
        ("Thumbnails Created", "my-bus", "create-thumbnail"), ("Thumbnails Removed", "my-bus", "create-thumbnail"),
        ("Thumbnails Failed", "my-bus", "create-thumbnail"), ("Thumbnails Failed", "my-bus", "create-thumbnail"),
    ]  # fmt: skip
    details = [json.loads(e["Detail"]) for e in entries]
    assert details[1] == {"source": {"bucket": "b", "key": "r.jpg"}, "removed": ["64x64/r.jpg"]}
    assert details[2] == {"source": {"bucket": "b", "key": "f.jpg"}, "error": "NotAnImage",
                          "reason": "NotAnImage: html", "retryable": False}  # fmt: skip
    assert details[3]["retryable"] is True and entries[0]["Resources"] == ["arn:aws:s3:::b/a.jpg"]


def test_batches_of_ten_and_failed_entries_are_sent_again():
    client = FlakyEventBridge({"k3.jpg": 1, "k12.jpg": 2})
    undelivered = EventBridgePublisher(client, pause_s=0).publish(completion_entries(_report(23), "bus"))
    assert undelivered == 0
    assert [len(call) for call in client.calls] == [10, 1, 10, 1, 1, 3]
    assert client.calls[1] == ["k3.jpg"] and client.calls[3:5] == [["k12.jpg"], ["k12.jpg"]]


def test_what_keeps_failing_is_counted_not_raised():
    assert EventBridgePublisher(FlakyEventBridge({"k1.jpg": 99}), pause_s=0).publish(completion_entries(_report(5), "b")) == 1
    assert EventBridgePublisher(FlakyEventBridge(broken=True), pause_s=0).publish(completion_entries(_report(12), "b")) == 12


def test_an_image_replaced_by_what_is_not_one_says_which_thumbnails_went():
    report = Report([
        Outcome("b", "f.jpg", "failed", "NotAnImage: html", error=NotAnImage("html"), removed=("64x64/f.jpg",)),
        Outcome("b", "e.jpg", "skipped", "empty object (0 bytes)", removed=("64x64/e.jpg",)),
        Outcome("b", "s.jpg", "duplicate", removed=("64x64/s.jpg.png",)),  # a stray of its own: no news
    ])  # fmt: skip
    entries = completion_entries(report, "my-bus")
    assert [(e["DetailType"], json.loads(e["Detail"]).get("removed")) for e in entries] == [
        ("Thumbnails Failed", ["64x64/f.jpg"]), ("Thumbnails Removed", ["64x64/e.jpg"]),
    ]
