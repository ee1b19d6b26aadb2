"""Every figure the fuzz test runs with or holds the image path to, in one place.

The call is the one the function makes at 1024 MB with every source format enabled; the bounds
are per input, measured in a worker process (worker.py) and enforced by the parent (runner.py).
"""

from __future__ import annotations

from create_thumbnail.budget import Budget
from create_thumbnail.config import ALL_SOURCE_FORMATS, COVER, Box, Encoding

# The run: which inputs, from which seed, and how many.
MASTER_SEED = 20_261_128
MIN_INPUTS = 2_000
INPUTS_PER_CLASS = 80  # a few generic classes run a multiple of it (inputs.py)
WORKERS = 2  # CI has 2 cores

# The call under test, as the function makes it.
BOXES = (Box(256, 256), Box(1024, 1024), Box(150, 150, COVER))
ENCODING = Encoding(formats=("source", "webp"))
MAX_PIXELS = 50_000_000
MEMORY_MB = 1024
BUDGET = Budget.for_memory(MEMORY_MB)
SOURCE_FORMATS = ALL_SOURCE_FORMATS

# The bounds every input is held to.
TIME_LIMIT_S = 5.0
# Peak resident memory an input may add: what the function itself allows decoding at 1024 MB
# (1024 MB less the runtime's reserve), plus the input's own length (the caller holds it).
MEMORY_LIMIT_BYTES: int = BUDGET.bytes or 0
# Per worker: a runaway allocation fails as MemoryError instead of taking the machine down.
WORKER_ADDRESS_SPACE = 3 * 1024**3

# Not bounds of the image path: how long the harness waits for its own work before calling a
# worker dead (its imports and warm-up, building one input), and how long it keeps starting
# new inputs (those left unstarted fail the test).
WARM_UP_LIMIT_S = 60.0
BUILD_LIMIT_S = 30.0
RUN_LIMIT_S = 120.0


def memory_limit(input_length: int) -> int:
    """The peak an input of this many bytes may add."""
    return MEMORY_LIMIT_BYTES + input_length
