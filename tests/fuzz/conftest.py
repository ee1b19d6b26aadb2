"""Shows the fuzz summary in pytest's terminal summary, pass or fail, with or without -s."""

from __future__ import annotations

import pytest

SUMMARY = pytest.StashKey[str]()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    if text := config.stash.get(SUMMARY, None):
        terminalreporter.section("fuzz")
        terminalreporter.write_line(text)
