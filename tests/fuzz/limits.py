"""Every figure the fuzz test runs with or holds the image path to, in one place.

The call is the one the function makes at 1024 MB with every source format enabled and
animations kept (a class may run at another memory size: inputs.py); the bounds are per input,
measured in a worker process (worker.py) and enforced by the parent (runner.py).

An input is judged on what it raised and on the memory it took, never on the clock: how long
each took is printed. Time only ends an input that is hung, by limits no busy machine reaches:
the CPU it spends (worker.py: RLIMIT_CPU, every thread counted), and, for a worker that waits
instead of spinning, the wall clock.
"""

from __future__ import annotations

from create_thumbnail.config import ALL_SOURCE_FORMATS, COVER, Box, Encoding
from create_thumbnail.imaging.budget import Budget

# The run: which inputs, from which seed, and how many. Every one of them runs.
MASTER_SEED = 20_261_128
MIN_INPUTS = 2_000
INPUTS_PER_CLASS = 80  # a few generic classes run a multiple of it, some costly ones less (inputs.py)
WORKERS = 2  # CI has 2 cores

# The call under test, as the function makes it.
BOXES = (Box(256, 256), Box(1024, 1024), Box(150, 150, COVER))
ENCODING = Encoding(formats=("source", "webp"), animated=True)  # as THUMBNAIL_ANIMATED=true
MAX_PIXELS = 50_000_000
MEMORY_MB = 1024
SOURCE_FORMATS = ALL_SOURCE_FORMATS

# Per worker: a runaway allocation fails as MemoryError instead of taking the machine down.
WORKER_ADDRESS_SPACE = 3 * 1024**3

# Hung, not slow. The slowest input takes about 2.5 s of CPU here (a 50 MP AVIF decode): a
# Lambda function at 1024 MB has a little over half a core, so 30 s of CPU is a minute of its
# time. The wall-clock limit covers what the CPU limit cannot see (a worker blocked, or asleep:
# its warm-up, building an input, an input that waits) and is ten times the CPU limit, so a
# machine kept busy by other work does not reach it.
HANG_CPU_S = 30
HANG_WALL_S = 300.0
# The whole run, about a minute here, two on a machine kept busy by two other jobs: past half an
# hour something has made every input slow, and the inputs not yet started fail as hung rather
# than hold CI until its own limit.
HANG_RUN_S = 1800.0


def budget(memory_mb: int = MEMORY_MB) -> Budget:
    return Budget.for_memory(memory_mb)


def memory_limit(input_length: int, memory_mb: int = MEMORY_MB) -> int:
    """The peak an input of this many bytes may add: what the function itself allows decoding at
    memory_mb (its memory less the runtime's reserve), plus the input's own length (the caller
    holds it)."""
    return (budget(memory_mb).bytes or 0) + input_length
