"""Lambda entry point: wiring only. Parsing, naming, imaging and S3 access live in their modules."""

from __future__ import annotations

import os
import time
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from create_thumbnail.completion import EventBridgePublisher, completion_entries, events_client
from create_thumbnail.config import Settings
from create_thumbnail.errors import ConfigError, InvalidEvent, RetryableRecordsFailed
from create_thumbnail.imaging.allocator import keep_freed_memory, one_block_per_image
from create_thumbnail.metrics import publish
from create_thumbnail.pipeline import STATUSES, handle_event
from create_thumbnail.storage import S3Storage, s3_client

logger = Logger()  # service name from POWERTOOLS_SERVICE_NAME, set in template.yaml
keep_freed_memory()  # before any image: each invocation reuses the last one's pages (allocator.py)
one_block_per_image()  # so libvips reads a decode in place (arrow.py)


@cache
def wiring() -> tuple[Settings, S3Storage, EventBridgePublisher | None]:
    """Built on the first invocation and kept while the container is warm.

    Not at import: a bad setting must fail an invocation with a message naming the variable (an
    import error only says the init failed), and the S3 client must see the AWS_ENDPOINT_URL of
    whoever invokes us (the local run sets it after importing). A failure is not cached.
    """
    settings = Settings.from_env(os.environ)
    publisher = EventBridgePublisher(events_client()) if settings.event_bus else None
    return settings, S3Storage(s3_client()), publisher


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Answers in the invoking service's terms: batchItemFailures for SQS, a result per task for
    S3 Batch Operations. Otherwise (S3, SNS, EventBridge: asynchronous) raises
    RetryableRecordsFailed, after every record was tried, if any failed transiently: Lambda then
    retries the event and, after its retries, sends it to the failure queue."""
    remaining_ms = context.get_remaining_time_in_millis()
    deadline = time.monotonic() + remaining_ms / 1000
    try:
        settings, storage, publisher = wiring()
        # The time left as an invocation begins is the only word of the timeout Lambda gives.
        # Every invocation, the first and every warm one, begins with all of it (less the ms of
        # delivery), so checking each gives the first one's answer, costs a comparison and needs
        # no state beside wiring's cache (which tests and tools build without a context).
        settings.check_against_timeout(remaining_ms)
        report = handle_event(event, settings, storage, deadline)
    except (ConfigError, InvalidEvent):
        logger.exception("invocation rejected")
        raise
    undelivered = 0
    if publisher is not None and settings.event_bus:
        undelivered = publisher.publish(completion_entries(report, settings.event_bus))
        if undelivered:
            logger.warning("completion events not delivered", extra={"count": undelivered, "bus": settings.event_bus})
    publish(report, undelivered_events=undelivered)
    counts = {status: report.count(status) for status in STATUSES}
    # "created" is a LogRecord attribute: the counts go under one key of their own.
    logger.info("event done", extra={"outcomes": counts, "envelope": report.kind})
    if report.raises:
        raise RetryableRecordsFailed(report.retryable)
    return report.reply()
