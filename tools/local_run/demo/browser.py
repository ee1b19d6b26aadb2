"""Headless Chromium (Debian's `chromium`) on pages served from a folder on loopback: what a
person would see, as a screenshot, and what the page's own script found, from its DOM.

No driver and no protocol client: `--dump-dom` prints the DOM once the page has loaded and its
script has run (within --virtual-time-budget), `--screenshot` writes the viewport as a PNG. The
flags keep it off the network (this machine has none) and deterministic: sRGB output whatever
the display, one device pixel per CSS pixel, a profile of its own per run.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
    "--disable-background-networking", "--disable-component-update", "--hide-scrollbars",
    "--force-color-profile=srgb", "--force-device-scale-factor=1", "--mute-audio",
)  # fmt: skip


class BrowserError(Exception):
    """No Chromium on this machine, or it failed."""


def chromium() -> str:
    for name in CANDIDATES:
        if path := shutil.which(name):
            return path
    raise BrowserError(
        "no chromium on PATH: apt-get install chromium (./scripts/bootstrap.sh test does it)"
    )


@contextmanager
def serve(folder: Path) -> Iterator[str]:
    """http://127.0.0.1:PORT/ serving folder, for the duration: pages from file:// URLs are
    each their own origin, and a harness could not read its frames."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="gallery-http", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        return None


def _run(url: str, size: tuple[int, int], extra: list[str], budget_ms: int) -> str:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        command = [chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}",
                   f"--virtual-time-budget={budget_ms}", *extra, url]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise BrowserError(f"chromium exited {done.returncode}: {done.stderr[-1000:]}")
    return done.stdout


def dump_dom(url: str, size: tuple[int, int] = (1280, 800), budget_ms: int = 10_000) -> str:
    return _run(url, size, ["--dump-dom"], budget_ms)


def screenshot(url: str, path: Path, size: tuple[int, int], budget_ms: int = 10_000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _run(url, size, [f"--screenshot={path}"], budget_ms)
    if not path.is_file():
        raise BrowserError(f"chromium wrote no screenshot to {path}")
    return path
