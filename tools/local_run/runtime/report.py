"""Lambda's START / END / REPORT lines, with the figures the emulator measures but misreports.

The Runtime Interface Emulator prints its own REPORT line, but two of its fields are
placeholders: "Max Memory Used" always equals "Memory Size", and "Init Duration" is a fraction
of a millisecond while the real init is folded into the first invocation's "Duration". The true
figures are in its debug log: `INIT REPORT(durationMs: ...)` and `INVOKE RTDONE(... duration:
...ms)`. So we read those, measure memory ourselves (rss.py), and print REPORT the way Lambda
does, Init Duration last. Billed Duration includes the init: since August 2025 Lambda bills the
INIT phase of on-demand ZIP functions on managed runtimes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

RAPID_LINE = re.compile(r"^\d{2} \w{3} \d{4} [\d:,]+ \[(?P<level>\w+)\] \(rapid\) (?P<text>.*)$")
START = re.compile(r"^START RequestId: (?P<id>\S+)")
END = re.compile(r"^END RequestId: ")
EMULATOR_REPORT = re.compile(
    r"^REPORT RequestId: \S+\t(?:Init Duration: [\d.]+ ms\t)?Duration: (?P<ms>[\d.]+) ms"
)
INIT_REPORT = re.compile(r"INIT REPORT\(durationMs: (?P<ms>[\d.]+)\)")
INVOKE_DONE = re.compile(
    r"INVOKE RTDONE\(status: \w+, produced bytes: \d+, duration: (?P<ms>[\d.]+)ms\)"
)
TIMED_OUT = "Reset initiated: Timeout"


@dataclass(frozen=True)
class Report:
    request_id: str
    duration_ms: float
    memory_size_mb: int
    max_memory_used_mb: int | None
    init_duration_ms: float | None
    timed_out: bool

    @property
    def billed_duration_ms(self) -> int:
        return math.ceil(self.duration_ms + (self.init_duration_ms or 0.0))

    def line(self) -> str:
        fields = [
            f"REPORT RequestId: {self.request_id}",
            f"Duration: {self.duration_ms:.2f} ms",
            f"Billed Duration: {self.billed_duration_ms} ms",
            f"Memory Size: {self.memory_size_mb} MB",
            f"Max Memory Used: {self.max_memory_used_mb if self.max_memory_used_mb else '?'} MB",
        ]
        if self.init_duration_ms is not None:
            fields.append(f"Init Duration: {self.init_duration_ms:.2f} ms")
        if self.timed_out:
            fields.append("Status: timeout")
        return "\t".join(fields)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "billed_duration_ms": self.billed_duration_ms}


@dataclass(frozen=True)
class Block:
    """One invocation's share of the emulator's output, sorted by who wrote it."""

    request_id: str
    function_lines: list[str]  # the function's own output, START and END, in order
    rapid_lines: list[str]  # the emulator's debug log
    init_duration_ms: float | None
    duration_ms: float | None
    timed_out: bool


def split_block(lines: Iterable[str]) -> Block:
    """Lines from `START RequestId:` to the emulator's REPORT line, inclusive."""
    request_id, function_lines, rapid_lines = "", [], []
    init_ms: float | None = None
    done_ms: float | None = None
    emulator_ms: float | None = None
    timed_out = False
    for line in lines:
        if rapid := RAPID_LINE.match(line):
            text = rapid["text"]
            rapid_lines.append(line)
            if found := INIT_REPORT.search(text):
                init_ms = float(found["ms"])
            elif found := INVOKE_DONE.search(text):
                done_ms = float(found["ms"])
            timed_out = timed_out or TIMED_OUT in text
        elif found := EMULATOR_REPORT.match(line):
            emulator_ms = float(found["ms"])
        else:
            if started := START.match(line):
                request_id = started["id"]
            function_lines.append(line)
    # A timed-out invocation has no RTDONE; the emulator's Duration is then the timeout itself.
    return Block(
        request_id,
        function_lines,
        rapid_lines,
        init_ms,
        done_ms if done_ms is not None else emulator_ms,
        timed_out,
    )
