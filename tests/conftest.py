"""Shared fixtures: events from events/ and a Lambda context that tells the truth."""

from __future__ import annotations

import os
from typing import Any

import pytest
from local_run.inputs.s3_events import load_event
from local_run.shared import LocalContext


def pytest_configure(config: pytest.Config) -> None:
    """Lambda sets POWERTOOLS_SERVICE_NAME before it imports the handler, and Powertools reads it
    at import to name the logger (and its per-module children): do the same before any test
    module imports create_thumbnail."""
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "create-thumbnail")


@pytest.fixture
def lambda_context() -> LocalContext:
    return LocalContext()


@pytest.fixture
def event_file() -> Any:
    return load_event
