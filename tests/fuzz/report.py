"""What a run found, for people: counts per class, the slowest input and the largest peak,
every distinct failure with a line to reproduce it; and every input's figures as JSON lines."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from tests.fuzz.limits import MASTER_SEED, MEMORY_LIMIT_BYTES, TIME_LIMIT_S, WORKERS
from tests.fuzz.runner import MB, Result, Run
from tests.fuzz.worker import THUMBNAILS, UNTYPED

FAILURE_LINES = 150  # in the summary; the JSON lines hold them all
# Numbers in messages, decimal or hex: 0x.., a hex run with a digit in it, or six hex and more.
_NUMBER = re.compile(r"\b(?:0x[0-9a-f]+|(?=[0-9a-f]*\d)[0-9a-f.]+|[0-9a-f]{6,})\b", re.I)


def write_results(run: Run, path: Path) -> Path:
    """One JSON object per input: what a later memory or time budget is derived from."""
    with path.open("w") as out:
        for r in run.results:
            out.write(json.dumps({
                "class": r.spec.mutation, "seed": r.spec.seed, "number": r.spec.number,
                "description": r.description, "outcome": r.outcome, "detail": r.detail,
                "where": r.where, "ms": None if r.seconds is None else round(r.seconds * 1000, 2),
                "peak_mb": None if r.peak_mb is None else round(r.peak_mb, 1),
                "input_bytes": r.input_bytes,
                "problems": r.problems(),
            }) + "\n")  # fmt: skip
    return path


def summary(run: Run, results_path: Path | None = None) -> str:
    failing = [r for r in run.results if r.problems()]
    warm_ups = ", ".join(f"{s:.1f}" for s in run.warm_ups)
    lines = [
        f"fuzz: {len(run.results):,} inputs from seed {MASTER_SEED} in {run.seconds:.1f} s on "
        f"{WORKERS} workers (warm-ups {warm_ups} s); limits per input {TIME_LIMIT_S:g} s and "
        f"{MEMORY_LIMIT_BYTES / MB:.0f} MB + its length added at the peak; {len(failing)} failing"
        + (f"; {run.not_run} NOT RUN (out of time)" if run.not_run else ""),
        *_table(run.results),
        *_extremes(run.results),
    ]
    if failing:
        lines += ["", "distinct failures:", *_distinct(failing), "", "failing inputs:"]
        lines += [_line(r) for r in failing[:FAILURE_LINES]]
        if len(failing) > FAILURE_LINES:
            lines.append(f"  ... and {len(failing) - FAILURE_LINES} more")
    if results_path is not None:
        lines.append(f"per-input figures: {results_path}")
    return "\n".join(lines)


def _table(results: list[Result]) -> list[str]:
    typed = sorted({r.outcome for r in results if r.typed} - {THUMBNAILS})
    columns = ["inputs", THUMBNAILS, *typed, "failures"]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        row = counts[r.spec.mutation]
        row["inputs"] += 1
        row[r.outcome if r.typed else "failures"] += 1
        row["failures"] += bool(r.typed and r.problems())  # typed, but over a bound
    width = max(map(len, counts)) + 2
    header = "class".ljust(width) + "".join(c.rjust(max(len(c), 6) + 2) for c in columns)
    rows = [name.ljust(width) + "".join(str(row[c]).rjust(max(len(c), 6) + 2) for c in columns)
            for name, row in sorted(counts.items())]  # fmt: skip
    return ["", header, *rows]


def _extremes(results: list[Result]) -> list[str]:
    timed = [r for r in results if r.seconds is not None]
    if not timed:
        return []
    slowest = max(timed, key=lambda r: r.seconds or 0.0)
    largest = max(timed, key=lambda r: r.peak_mb or 0.0)
    return [
        "",
        f"slowest input: {slowest.seconds * 1000:.0f} ms, {_name(slowest)}",
        f"largest peak:  {largest.peak_mb:.0f} MB, {_name(largest)}",
    ]


def _distinct(failing: list[Result]) -> list[str]:
    groups: dict[tuple[str, ...], list[Result]] = defaultdict(list)
    for r in failing:
        groups[_signature(r)].append(r)
    lines = []
    for signature, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        classes = ", ".join(sorted({r.spec.mutation for r in members}))
        first = members[0]
        lines += [
            f"  {len(members)} x {' | '.join(s for s in signature if s)}",
            f"      classes: {classes}",
            f"      e.g. {_name(first)}",
            f"      {first.spec.reproduce}",
        ]
    return lines


def _signature(r: Result) -> tuple[str, ...]:
    """Failures that differ only in numbers are one finding."""
    if r.typed:  # over a bound
        return (_NUMBER.sub("N", "; ".join(r.problems())), r.spec.mutation)
    if r.outcome != UNTYPED:
        return (r.outcome, r.detail, r.where)
    kind, _, message = r.detail.partition(":")
    return (r.outcome, kind, _NUMBER.sub("N", message.strip())[:90], r.where)


def _name(r: Result) -> str:
    return f"[{r.spec.mutation}] {r.spec.seed} #{r.spec.number} ({r.description})"


def _line(r: Result) -> str:
    return f"  {_name(r)}: {'; '.join(r.problems())} [{r.where}]"
