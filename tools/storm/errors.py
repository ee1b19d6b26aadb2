"""The one error of the storm's own."""

from __future__ import annotations


class HarnessError(RuntimeError):
    """The storm itself failed (a worker died or hung, the emulator answered or ended otherwise
    than S3's rules say): not a finding about the function."""
