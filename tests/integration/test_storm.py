"""The storm: random puts, overwrites (sometimes switching JPEG <-> PNG under one key), deletes
and, on a versioned bucket, deletes of noncurrent versions, of the current version and of delete
markers, over keys chosen to collide, performed on moto's S3 over HTTP while six processes
invoke the real handler for their events: once or twice each, late and shuffled, retried as
Lambda retries an invocation that raised. However the invocations interleave, the resized
bucket must end matching the source bucket's current state (tools/storm/judge.py says what
that means, and names every way it does not).

Per case: seed x versioned or not x S3 notification or EventBridge shape. Each case prints one
line of figures (in the terminal summary's "storm" section). No timing is asserted: the only
timeouts are generous ones that detect a hang.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from storm.delivery import plan_deliveries
from storm.events import SHAPES, Shape
from storm.keys import storm_keys
from storm.operations import KINDS, plan_operations
from storm.run import StormConfig, run_storm
from storm.workers import WorkerPool

from tests.integration.conftest import STORM_LINES

SEEDS = (1, 2, 3)
PROCESSES = 6
KEYS = 10
OPERATIONS = 40


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    """Spawned once for every case: each worker imports the function once, as a warm Lambda
    environment does, and re-reads its configuration when a case's buckets change."""
    with WorkerPool(PROCESSES) as workers:
        yield workers


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("versioned", [False, True], ids=["unversioned", "versioned"])
@pytest.mark.parametrize("seed", SEEDS)
def test_concurrent_late_duplicated_events_leave_the_current_state(
    seed: int, versioned: bool, shape: Shape, s3_endpoint: str, pool: WorkerPool,
    request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    config = StormConfig(seed, versioned, shape, keys=KEYS, operations=OPERATIONS)

    result = run_storm(config, s3_endpoint, pool)

    line = result.summary()
    request.config.stash.setdefault(STORM_LINES, []).append(line)
    print(line)
    raised = [f"raised {f.error}: {f.message} | {' | '.join(f.log_tail[-3:])}"
              for f in result.figures.failures]  # fmt: skip
    assert not result.violations, "\n".join([line, *map(str, result.violations), *raised])


def test_a_seed_fixes_the_operations_and_the_delivery_plan() -> None:
    keys = storm_keys(KEYS)
    for versioned in (False, True):
        assert plan_operations(7, keys, 60, versioned) == plan_operations(7, keys, 60, versioned)
        assert plan_operations(7, keys, 60, versioned) != plan_operations(8, keys, 60, versioned)
    assert plan_deliveries(7, 60) == plan_deliveries(7, 60)
    assert plan_deliveries(7, 60) != plan_deliveries(8, 60)


def test_the_cases_exercise_every_operation_duplicates_and_late_events() -> None:
    """What the storm cases above can find depends on what their seeds make them do."""
    keys = storm_keys(KEYS)
    kinds = {op.kind for seed in SEEDS for op in plan_operations(seed, keys, OPERATIONS, True)}
    assert kinds == set(KINDS)
    for seed in SEEDS:
        releases = [r for due in plan_deliveries(seed, OPERATIONS) for r in due]
        assert any(r.copy for r in releases), "no event delivered twice"
        assert any(r.after >= OPERATIONS for r in releases), "no event held to the end"
        overtakes = any(r.event > s.event and r.after < s.after
                        for r in releases for s in releases)  # fmt: skip
        assert overtakes, "no event overtakes an earlier one"
