"""A missing tool is a skip by hand and a failure under ./scripts/test, whatever CI says."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tooling import NEED_EVERY_TOOL, missing_tool


def test_by_hand_a_missing_tool_is_a_skip_that_says_how_to_install_it(monkeypatch):
    monkeypatch.delenv(NEED_EVERY_TOOL, raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is missing: apt-get install chromium"):
        missing_tool("chromium", "apt-get install chromium")


@pytest.mark.parametrize("variable", [NEED_EVERY_TOOL, "CI"])
def test_under_the_suites_own_command_a_missing_tool_fails(monkeypatch, variable):
    monkeypatch.delenv(NEED_EVERY_TOOL, raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv(variable, "1")
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        missing_tool("chromium", "apt-get install chromium")


def test_the_suites_own_command_says_so():
    script = (Path(__file__).resolve().parents[1] / "scripts" / "test").read_text()
    assert f"export {NEED_EVERY_TOOL}=1" in script
