"""Rebuild one fuzz input from its name and run it in this process, traceback and all:

python -m tests.fuzz.reproduce CLASS SEED NUMBER [--save FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from tests.fuzz.inputs import InputSpec, build_input, memory_mb
from tests.fuzz.limits import budget
from tests.fuzz.worker import image_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mutation")
    parser.add_argument("seed")
    parser.add_argument("number", type=int)
    parser.add_argument("--save", type=Path, help="write the input's bytes here")
    args = parser.parse_args(argv)
    spec = InputSpec(args.mutation, args.seed, args.number)
    data, description = build_input(spec)
    print(f"{spec}: {description} ({len(data):,} bytes), at {memory_mb(spec)} MB")
    if args.save:
        args.save.write_bytes(data)
    start = time.perf_counter()
    thumbnails = image_path(data, budget(memory_mb(spec)))
    print(f"{len(thumbnails)} thumbnails in {(time.perf_counter() - start) * 1000:.0f} ms:",
          ", ".join(f"{t.width}x{t.height} {t.format}" for t in thumbnails))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
