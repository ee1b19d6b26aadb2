"""One invocation's report as CloudWatch metrics, in the Embedded Metric Format (EMF).

Each flush prints one JSON line that CloudWatch Logs turns into metrics: no API call, no IAM
permission, no latency. Every metric in one EMF line shares that line's dimensions, so the counts
broken down by a dimension of their own (why a record was skipped, which error failed it) get a
line per value. Dimension values come from a small closed set (our skip reasons, our error class
names, S3 event names): never a key or a bucket, which would make a metric per object.

Namespace ``CreateThumbnail``; every metric also carries the ``service`` dimension
(POWERTOOLS_SERVICE_NAME). POWERTOOLS_METRICS_DISABLED=true silences all of it.
"""

from __future__ import annotations

from collections import Counter

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider

from create_thumbnail.errors import UnexpectedError
from create_thumbnail.pipeline import Report

NAMESPACE = "CreateThumbnail"
# status -> (metric, dimension) for the counts broken down by why.
BY_REASON = {
    "skipped": ("RecordsSkipped", "Reason"),
    "failed": ("RecordsFailed", "Error"),
    "retryable": ("RecordsRetryable", "Error"),
}


def publish(report: Report, namespace: str = NAMESPACE, undelivered_events: int = 0) -> None:
    """Prints the EMF lines for report; nothing when no record was handled. undelivered_events:
    completion events EventBridge did not take, after the retries."""
    totals = AmazonCloudWatchEMFProvider(namespace=namespace)
    if undelivered_events:
        totals.add_metric("CompletionEventsFailed", MetricUnit.Count, undelivered_events)
    breakdown: Counter[tuple[str, str, str]] = Counter()
    for outcome in report.outcomes:
        if outcome.removed:  # a removal's, or those of a version replaced by one that failed
            totals.add_metric("ThumbnailsRemoved", MetricUnit.Count, len(outcome.removed))
        if outcome.status == "created":
            totals.add_metric("ThumbnailsCreated", MetricUnit.Count, len(outcome.thumbnails))
            totals.add_metric("SourceBytes", MetricUnit.Bytes, outcome.source_bytes or 0)
            if outcome.read is not None:  # a video, read in ranges: what it cost
                totals.add_metric("SourceBytesRead", MetricUnit.Bytes, outcome.read.bytes)
                totals.add_metric("RangedRequests", MetricUnit.Count, outcome.read.requests)
            totals.add_metric("ProcessingTime", MetricUnit.Milliseconds, round(outcome.ms, 1))
        elif outcome.status == "duplicate":
            totals.add_metric("Duplicates", MetricUnit.Count, 1)
        elif outcome.status != "removed":
            metric, dimension = BY_REASON[outcome.status]
            breakdown[(metric, dimension, _why(outcome.error, outcome.reason))] += 1
    if totals.metric_set:
        totals.flush_metrics()
    for raised, count in _unexpected(report).items():
        breakdown[("UnexpectedErrors", "Raised", raised)] += count
    for (metric, dimension, value), count in sorted(breakdown.items()):
        line = AmazonCloudWatchEMFProvider(namespace=namespace)
        line.add_dimension(dimension, value)
        line.add_metric(metric, MetricUnit.Count, count)
        line.flush_metrics()


def _why(error: Exception | None, reason: str | None) -> str:
    """The error's class name, or the skip reason, which never contains the key."""
    return type(error).__name__ if error is not None else reason or "unknown"


def _unexpected(report: Report) -> Counter[str]:
    """Bugs by the class of what was raised (TypeError, KeyError...): a closed set too."""
    return Counter(type(o.error.error).__name__ for o in report.outcomes if isinstance(o.error, UnexpectedError))
