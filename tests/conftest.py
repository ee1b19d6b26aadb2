"""Shared fixtures: events from events/ and a Lambda context that tells the truth."""

from __future__ import annotations

from typing import Any

import pytest

from local_run.context import LocalContext
from local_run.s3_events import load_event


@pytest.fixture
def lambda_context() -> LocalContext:
    return LocalContext()


@pytest.fixture
def event_file() -> Any:
    return load_event
