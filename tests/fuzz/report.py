"""What a run found, for people: outcomes per class with the CPU time and peak memory of each
class's costliest input, the slowest input and the largest peak, every distinct failure with a
line to reproduce it; and every input's figures as JSON lines. Times are figures to read, not
bounds: they depend on the machine and on what else it is doing."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from tests.fuzz.inputs import memory_mb
from tests.fuzz.limits import HANG_CPU_S, HANG_RUN_S, HANG_WALL_S, MASTER_SEED, MEMORY_MB, WORKERS, budget
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
                "cpu_ms": None if r.cpu_seconds is None else round(r.cpu_seconds * 1000, 2),
                "memory_mb": memory_mb(r.spec),
                "peak_mb": None if r.peak_mb is None else round(r.peak_mb, 1),
                "input_bytes": r.input_bytes,
                "problems": r.problems(),
            }) + "\n")  # fmt: skip
    return path


def summary(run: Run, results_path: Path | None = None) -> str:
    failing = [r for r in run.results if r.problems()]
    warm_ups = ", ".join(f"{s:.1f}" for s in run.warm_ups)
    classes = len({r.spec.mutation for r in run.results})
    memories = sorted({memory_mb(r.spec) for r in run.results} | {MEMORY_MB})
    budgets = ", ".join(f"{(budget(mb).bytes or 0) / MB:.0f} MB at {mb} MB" for mb in memories)
    lines = [
        f"fuzz: {len(run.results):,} inputs in {classes} classes from seed {MASTER_SEED}, all run, in "
        f"{run.seconds:.1f} s on {WORKERS} workers (warm-ups {warm_ups} s); {len(failing)} failing",
        f"judged on the outcome and on the peak memory added (the budget, {budgets}, plus the "
        f"input's length); hung past {HANG_CPU_S} s of CPU, {HANG_WALL_S:g} s without a word, or "
        f"{HANG_RUN_S:g} s for the whole run",
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
    """Outcomes per class, then the CPU seconds and peak MB of the class's costliest input."""
    typed = sorted({r.outcome for r in results if r.typed} - {THUMBNAILS})
    columns = ["inputs", THUMBNAILS, *typed, "failures"]
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    cpu: dict[str, float] = defaultdict(float)
    peak: dict[str, float] = defaultdict(float)
    for r in results:
        row = counts[r.spec.mutation]
        row["inputs"] += 1
        row[r.outcome if r.typed else "failures"] += 1
        row["failures"] += bool(r.typed and r.problems())  # typed, but over a bound
        cpu[r.spec.mutation] = max(cpu[r.spec.mutation], r.cpu_seconds or 0.0)
        peak[r.spec.mutation] = max(peak[r.spec.mutation], r.peak_mb or 0.0)
    width = max(map(len, counts)) + 2
    header = "class".ljust(width) + "".join(c.rjust(max(len(c), 6) + 2) for c in columns)
    header += "  max cpu s  max MB"
    rows = [name.ljust(width) + "".join(str(row[c]).rjust(max(len(c), 6) + 2) for c in columns)
            + f"{cpu[name]:11.2f}{peak[name]:8.0f}"
            for name, row in sorted(counts.items())]  # fmt: skip
    return ["", header, *rows]


def _extremes(results: list[Result]) -> list[str]:
    timed = [r for r in results if r.seconds is not None]
    if not timed:
        return []
    slowest = max(timed, key=lambda r: r.cpu_seconds or 0.0)
    largest = max(timed, key=lambda r: r.peak_mb or 0.0)
    cpu_total = sum(r.cpu_seconds or 0.0 for r in timed)
    return [
        "",
        f"slowest input: {slowest.cpu_seconds or 0.0:.2f} s of CPU ({slowest.seconds or 0.0:.2f} s by the wall clock), "
        f"{_name(slowest)}",
        f"largest peak:  {largest.peak_mb:.0f} MB at {memory_mb(largest.spec)} MB, {_name(largest)}",
        f"CPU over every input: {cpu_total:.1f} s",
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
