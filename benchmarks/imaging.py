"""The imaging benchmark: our thumbnails beside sharp, libvips, the libjpeg-turbo floor and a naive
Pillow first attempt (benchmarks/contenders.py says what each does), for one box and for three,
in time, peak memory and quality; then the function's cold start and what a thumbnail costs.

    ./scripts/bench             # ~5 minutes on a 2-core machine (installs what it needs)
    ./scripts/bench --quick     # fewer rounds: a smoke run, noisier figures
    ./scripts/bench --floor-gap # only what each requirement adds to the floor (floor_gap.py)

It prints and never asserts: every figure depends on this host (x86 here; Lambda arm64 is
Graviton), on what else runs on it and on each library's build. Contenders are timed in rounds,
round by round in alternating order, each in its own process pinned to the same core, so drift
on a shared host hits all alike; ratios are medians of per-round ratios.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from contenders import NAMES, unavailable
from corpus import sources
from floor_gap import print_gap
from measure import CORE, loadavg, measure_memory, measure_quality, measure_speed
from report import (
    print_cold_start,
    print_cost,
    print_quality,
    print_speed_and_memory,
    print_targets,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds and cold starts")
    parser.add_argument(
        "--floor-gap", action="store_true", help="only what each requirement adds to the floor"
    )
    options = parser.parse_args()
    if options.floor_gap:
        print(f"floor gap: load average {loadavg()}")
        print_gap(sources(options.quick))
        return 0
    names = [name for name in NAMES if not unavailable(name)]
    for name in set(NAMES) - set(names):
        print(f"{name}: left out, {unavailable(name)}", file=sys.stderr)
    print(f"imaging benchmark: {', '.join(names)}; pinned to core {CORE}; load average {loadavg()}")
    corpus = sources(options.quick)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        timings = measure_speed(names, corpus, folder)
        peaks = measure_memory(names, corpus, folder)
        print_speed_and_memory(names, corpus, timings, peaks)
        quality = measure_quality(names, corpus, folder)
        print_quality(quality, names)
        print_cold_start(folder, corpus, 3 if options.quick else 7)
    print_cost(corpus, timings)
    print_targets(corpus, timings, peaks, quality)
    print(f"\nload average at the end: {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
