"""Without Chromium the demo still writes its gallery, and says what it did not do and how to
get it: ./scripts/demo installs no Chromium (a system package); ./scripts/test does."""

from __future__ import annotations

from pathlib import Path

import pytest
from local_run.demo import browser
from local_run.demo.command import _gallery


def test_without_chromium_the_gallery_is_written_and_the_missing_screenshot_explained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(browser, "CANDIDATES", ("no-such-chromium-here",))
    gallery, screenshot, unrendered = _gallery(tmp_path)
    assert gallery == tmp_path / "index.html" and gallery.is_file()
    assert screenshot is None and not (tmp_path / "gallery.png").exists()
    assert unrendered == (
        "no chromium on PATH: apt-get install chromium (./scripts/bootstrap.sh test does it)"
    )
