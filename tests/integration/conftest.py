"""One moto server for the whole run, over HTTP: the code under test signs and sends real S3
requests, as it does on Lambda. Each test gets its own uniquely named buckets."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from io import StringIO
from typing import Any

import boto3
import pytest
from local_run.shared import LOCAL_AWS_ENV, embedded_s3, environment

from tests.integration.faults import FaultProxy, fault_proxy


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with embedded_s3() as endpoint, environment({**LOCAL_AWS_ENV, "AWS_ENDPOINT_URL": endpoint}):
        yield endpoint


@pytest.fixture
def s3(s3_endpoint: str) -> Any:
    return boto3.client("s3", endpoint_url=s3_endpoint)


@dataclass(frozen=True)
class Buckets:
    source: str
    resized: str


@pytest.fixture
def buckets(s3: Any) -> Buckets:
    suffix = uuid.uuid4().hex[:12]
    pair = Buckets(f"src-{suffix}", f"resized-{suffix}")
    for name in (pair.source, pair.resized):
        s3.create_bucket(Bucket=name)
    return pair


@pytest.fixture
def handler(buckets: Buckets, s3_endpoint: str) -> Iterator[Any]:
    """create_thumbnail.app.lambda_handler configured as template.yaml configures it, with its
    first-invocation wiring reset so each test's environment is read afresh."""
    from create_thumbnail import app

    env = {
        "DESTINATION_BUCKET": buckets.resized,
        "THUMBNAIL_SIZES": "64x64,256x256",
        "POWERTOOLS_SERVICE_NAME": "create-thumbnail",
    }
    with environment(env):
        app.wiring.cache_clear()
        yield app.lambda_handler
    app.wiring.cache_clear()


@pytest.fixture
def faults(handler: Any, s3_endpoint: str) -> Iterator[FaultProxy]:
    """The handler's S3 traffic through a proxy that breaks the requests a test chooses; the
    test's own `s3` client still talks to moto directly, unaffected."""
    from create_thumbnail import app

    with fault_proxy(s3_endpoint) as proxy, environment({"AWS_ENDPOINT_URL": proxy.endpoint}):
        app.wiring.cache_clear()
        yield proxy
    app.wiring.cache_clear()


@pytest.fixture
def function_log() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """The function's log lines, parsed: Powertools writes JSON to the stdout it saw at import."""
    from create_thumbnail import app

    buffer = StringIO()
    previous = app.logger.registered_handler.setStream(buffer)
    yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    app.logger.registered_handler.setStream(previous)


# One line of figures per storm case (tests/integration/test_storm.py), shown in pytest's terminal
# summary, pass or fail, with or without -s.
STORM_LINES = pytest.StashKey[list[str]]()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if lines := config.stash.get(STORM_LINES, None):
        terminalreporter.section("storm")
        for line in lines:
            terminalreporter.write_line(line)
