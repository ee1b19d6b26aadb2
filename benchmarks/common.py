"""Helpers the benchmarks share: interleaved timing, noise figures, tables, fresh-process memory
probes, the cold-start environment and the Lambda price model. Prints, never asserts.

The benchmark scripts put this folder first on sys.path (a script's own folder always is), and
so do the probe snippets they run in fresh interpreters.
"""

from __future__ import annotations

import gc
import json
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
PYTHON = sys.executable

# Lambda: CPU share grows with memory up to one vCPU at 1769 MB; arm64 prices (us-east-1).
LAMBDA_FULL_VCPU_MB = 1769
ARM64_PRICE_GB_S = 0.0000133334
PRICE_PER_MILLION_REQUESTS = 0.20

# Installed here by the dev tools (SAM CLI, moto); botocore and urllib3 import them when present.
# The Lambda python3.13 runtime ships boto3 without them, so the cold start there skips them.
DEV_ONLY_PACKAGES = ("awscrt", "OpenSSL")


# --------------------------------------------------------------------------------------------
# timing and noise


def time_interleaved(
    functions: Mapping[str, Callable[[], object]],
    runs: int,
    before: Callable[[], object] | None = None,
) -> dict[str, list[float]]:
    """ms per call; one untimed warm-up each, then the functions alternate (order flipped every
    round) so drift on a noisy host hits all of them alike. samples[name][i] is round i, so two
    functions' samples can be paired round by round (see paired_ratios). before, if given, runs
    untimed ahead of every call (e.g. deleting what the previous call wrote)."""
    for function in functions.values():
        if before is not None:
            before()
        function()
    samples: dict[str, list[float]] = {name: [] for name in functions}
    names = list(functions)
    for round_ in range(runs):
        for name in names if round_ % 2 == 0 else reversed(names):
            if before is not None:
                before()
            gc.collect()
            started = time.perf_counter()
            functions[name]()
            samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def time_once(function: Callable[[], object]) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000


def med(values: Sequence[float]) -> float:
    return statistics.median(values)


def quartiles(values: Sequence[float]) -> tuple[float, float]:
    if len(values) < 2:
        return values[0], values[0]
    q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q3


def spread(values: Sequence[float]) -> float:
    """Interquartile range as a fraction of the median: the noise figure the tables print."""
    q1, q3 = quartiles(values)
    return (q3 - q1) / med(values)


def paired_ratios(numerator: Sequence[float], denominator: Sequence[float]) -> list[float]:
    """Round-by-round ratios of two interleaved series: a slow spell on a shared host slows both
    members of a pair, so these are steadier than a ratio of medians."""
    return [a / b for a, b in zip(numerator, denominator, strict=True)]


def loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


# --------------------------------------------------------------------------------------------
# output


def print_table(
    header: tuple[str, ...], rows: list[tuple[object, ...]], right_from: int = 1
) -> None:
    cells = [tuple(str(c) for c in header), *[tuple(str(c) for c in row) for row in rows]]
    widths = [max(len(line[i]) for line in cells) for i in range(len(header))]

    def fmt(line: tuple[str, ...]) -> str:
        padded = (c.rjust(w) if i >= right_from else c.ljust(w)
                  for i, (c, w) in enumerate(zip(line, widths)))
        return "  ".join(padded).rstrip()

    print("  " + fmt(cells[0]))
    print("  " + "  ".join("-" * w for w in widths))
    for line in cells[1:]:
        print("  " + fmt(line))


def section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 94 - len(title)), flush=True)


# --------------------------------------------------------------------------------------------
# fresh-process probes

# Prepended to every probe snippet. Peak = VmHWM, not resource.getrusage().ru_maxrss: Linux
# carries ru_maxrss across fork+execve, so a probe would report the (big) parent's RSS at spawn
# time; VmHWM belongs to the new address space that execve creates.
PROBE_HELPERS = """
import json, sys, time
def _status_mb(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
def rss_mb():
    return _status_mb("VmRSS:")
def peak_mb():
    return _status_mb("VmHWM:")
sys.path.insert(0, {here!r})
"""


def run_probe(code: str, args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> dict:
    """Runs PROBE_HELPERS + code in a fresh interpreter from the repository root; the snippet's
    last stdout line is JSON. A failing probe raises with its stderr, so nothing is guessed."""
    source = PROBE_HELPERS.format(here=str(HERE)) + code
    done = subprocess.run([PYTHON, "-c", source, *args], check=False, capture_output=True,
                          text=True, cwd=ROOT, env=dict(env) if env is not None else None)
    if done.returncode != 0:
        raise RuntimeError(f"probe failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def cold_env() -> dict[str, str]:
    """The environment of a fresh function process: fake credentials, an endpoint that is never
    contacted (building a client is offline) and the settings the handler requires."""
    from local_run.embedded_s3 import LOCAL_AWS_ENV

    return {
        **os.environ, **LOCAL_AWS_ENV,
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
        "DESTINATION_BUCKET": "bench-resized",
        "POWERTOOLS_SERVICE_NAME": "create-thumbnail-bench",
    }


# --------------------------------------------------------------------------------------------
# Lambda price model


def lambda_ms(measured_ms: float, memory_mb: int) -> float:
    """Lambda's CPU share scales with memory (1769 MB = 1 vCPU); the work is single-threaded, so
    more than one vCPU does not help and less stretches it proportionally."""
    return measured_ms * max(1.0, LAMBDA_FULL_VCPU_MB / memory_mb)


def cost_per_million(duration_ms: float, memory_mb: int) -> float:
    billed_s = math.ceil(duration_ms) / 1000  # billed per 1 ms, rounded up
    return 1e6 * billed_s * (memory_mb / 1024) * ARM64_PRICE_GB_S + PRICE_PER_MILLION_REQUESTS
