"""The storm, longer: more keys and operations than tests/integration/test_storm.py can afford,
over several seeds. Prints, per run and in total, what it survived and every violation;
asserts nothing.

    .venv/bin/python benchmarks/storm_bench.py [--operations 400] [--keys 30] [--processes 6]
        [--seeds 1 2 3] [--versioned | --both] [--shapes s3 eventbridge]

Each run: fresh buckets on one moto server, the seeded operations performed while the worker
processes invoke the real handler for each event (once or twice, late, shuffled, retried when
an invocation raises), then the judge (tools/storm/). moto runs in a child process, as in
soak_bench.py, so its request handling does not share the driver's interpreter; every request
still crosses a loopback socket. The workers are spawned once, for all runs.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TYPE_CHECKING

from measure import loadavg  # benchmarks/: a script's own folder is on sys.path
from report import section
from emulator import moto_in_child

if TYPE_CHECKING:
    from storm.run import StormResult


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=400, help="per run (default 400)")
    parser.add_argument("--keys", type=int, default=30, help="per run (default 30)")
    parser.add_argument("--processes", type=int, default=6, help="worker processes (default 6)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    buckets = parser.add_mutually_exclusive_group()
    buckets.add_argument("--versioned", action="store_true", help="versioned source buckets only")
    buckets.add_argument("--both", action="store_true", help="unversioned and versioned")
    parser.add_argument("--shapes", nargs="+", choices=("s3", "eventbridge"),
                        default=["s3", "eventbridge"])  # fmt: skip
    parser.add_argument("--show", type=int, default=12, help="violations printed per run")
    args = parser.parse_args()
    versionings = [False, True] if args.both else [args.versioned]

    from storm.errors import HarnessError
    from storm.run import StormConfig, run_storm
    from storm.workers import WorkerPool

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load {loadavg()}; "
          f"{args.operations} operations over {args.keys} keys per run, "
          f"{args.processes} processes")  # fmt: skip
    results, broken = [], 0
    started = time.perf_counter()
    with moto_in_child() as endpoint, WorkerPool(args.processes) as pool:
        print(f"workers up in {time.perf_counter() - started:.1f} s", flush=True)
        for seed in args.seeds:
            for versioned in versionings:
                for shape in args.shapes:
                    config = StormConfig(seed, versioned, shape, keys=args.keys, operations=args.operations)
                    try:
                        result = run_storm(config, endpoint, pool)
                    except HarnessError as error:
                        broken += 1
                        section(f"{config.name}: the harness failed")
                        print(f"  {error}")
                        continue
                    results.append(result)
                    report_run(result, args.show)
    report_total(results, broken, time.perf_counter() - started)
    return 0


def report_run(result: StormResult, show: int) -> None:
    verdict = "survived" if not result.violations else f"{len(result.violations)} violations"
    section(f"{result.config.name}: {verdict}")
    print(f"  {result.summary()}")
    for violation in result.violations[:show]:
        print(f"    {violation}")
    if len(result.violations) > show:
        print(f"    ... and {len(result.violations) - show} more")
    for failure in result.figures.failures:
        print(f"    raised {failure.error}: {failure.message[:200]}")


def report_total(results: list[StormResult], broken: int, elapsed: float) -> None:
    survived = [r for r in results if not r.violations]
    section(f"total: {len(survived)} of {len(results) + broken} runs survived")
    for label, runs in (("all runs", results), ("runs that survived", survived)):
        operations = sum(len(r.operations) for r in runs)
        deliveries = sum(r.figures.deliveries for r in runs)
        duplicates = sum(r.figures.duplicates for r in runs)
        invocations = sum(r.figures.invocations for r in runs)
        retries = sum(r.figures.retries for r in runs)
        print(f"  {label}: {operations} operations, {deliveries} deliveries ({duplicates} "
              f"duplicates), {invocations} invocations, {retries} retries")  # fmt: skip
    by_rule: dict[str, int] = {}
    for result in results:
        for violation in result.violations:
            by_rule[violation.rule] = by_rule.get(violation.rule, 0) + 1
    rules = ", ".join(f"{rule} {n}" for rule, n in sorted(by_rule.items())) or "none"
    print(f"  violations: {sum(by_rule.values())} ({rules}); harness failures: {broken}; "
          f"{elapsed:.1f} s in all")  # fmt: skip


if __name__ == "__main__":
    raise SystemExit(main())
