"""A tool the suite needs and cannot find (Chromium, an ICC profile package, LocalStack).

Run by hand, one folder at a time, a missing tool is a skip that says how to install it. Run
whole, by ./scripts/test (what .ci/run calls), it is a failure: the script sets
TESTS_NEED_EVERY_TOOL itself, so no environment it happens to run in can turn a test that
did not run into a pass. CI=... (set by most CI services) means the same.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

NEED_EVERY_TOOL = "TESTS_NEED_EVERY_TOOL"


def missing_tool(what: str, install: str) -> NoReturn:
    message = f"{what} is missing: {install}"
    if os.environ.get(NEED_EVERY_TOOL) or os.environ.get("CI"):
        pytest.fail(f"{message}. ./scripts/test runs every test, so a missing tool fails it", pytrace=False)
    pytest.skip(message)
