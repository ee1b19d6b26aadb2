"""The suite's own command collects every test folder: a folder pytest skips by default (as it
did tests/build, for its name) would pass unseen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_folder_with_tests_is_collected():
    with_tests = {path.parent.relative_to(ROOT).as_posix() for path in (ROOT / "tests").rglob("test_*.py")}
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q"],
                          cwd=ROOT, capture_output=True, text=True, check=True)  # fmt: skip
    collected = {line.split("::")[0].rsplit("/", 1)[0] for line in done.stdout.splitlines() if "::" in line}
    assert with_tests - collected == set()
