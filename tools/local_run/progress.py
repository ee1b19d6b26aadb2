"""What a long command is doing, on stderr, for a person at a terminal.

Silent under --json, so that stdout carries one JSON document and stderr nothing at all.
"""

from __future__ import annotations

import sys
from typing import TextIO


class Progress:
    def __init__(self, quiet: bool = False, stream: TextIO | None = None) -> None:
        self.quiet = quiet
        self._stream = stream

    def say(self, message: str) -> None:
        if not self.quiet:
            print(message, file=self._stream or sys.stderr, flush=True)
