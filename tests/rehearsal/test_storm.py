"""The storm on LocalStack, with LocalStack's own notifications: the random puts, overwrites,
deletes and (versioned) version deletes and undeletes of tests/integration/test_storm.py,
performed on LocalStack's S3, and the events its S3 sent for them, read from an SQS queue as
they arrive (so deliveries overlap operations), handed to the real handler once or twice each,
late and shuffled, by worker processes whose AWS_ENDPOINT_URL is LocalStack. Then the judge
(tools/storm/judge.py) reads both buckets.

Per case: seed x versioned or not x shape. S3-notification shape: the bucket notifies a queue
of ObjectCreated, ObjectRemoved and LifecycleExpiration, and each message body (an S3
notification, or the s3:TestEvent) is the event, as S3 would invoke the function directly
(TriggerMode S3, which the deploy rehearsal cannot run). Not wrapped as Lambda's SQS event:
that envelope's reply is batchItemFailures, not an exception, and the storm retries what
raises, as Lambda retries an asynchronous invocation; the SQS envelope around these very
messages is test_rehearsal.py's. EventBridge shape: EventBridge enabled on the bucket, a rule
on the default bus targeting a second kind of queue, each message body the event.

What LocalStack sends for each operation, and how it differs from AWS: tools/storm/
sent_events.py. Each case also checks that every event is the kind AWS documents for its
operation, and prints one line of figures ("storm on LocalStack" in the terminal summary).
LocalStack answers the function's conditional DeleteObject (If-Match) with 501 NotImplemented,
so this tier exercises the function's fallback: HEAD, then a plain delete.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rehearsal.localstack import LocalStack
from storm.events import SHAPES, Shape
from storm.keys import storm_keys
from storm.operations import KINDS, plan_operations
from storm.run import StormConfig, run_storm
from storm.sent_events import SentEvents
from storm.workers import WorkerPool

from tests.rehearsal.conftest import STORM_LINES

pytestmark = pytest.mark.rehearsal

# Fewer operations than the moto storm's 40: LocalStack spends about 10 ms of CPU on each
# request (the function makes about ten per invocation), and is what a case waits for. These
# seeds make every kind of operation in 24 (test below).
SEEDS = (1, 3)
PROCESSES = 4  # LocalStack needs a core too, and the tier shares the machine with it
KEYS = 10
OPERATIONS = 24


@pytest.fixture(scope="module")
def pool() -> Iterator[WorkerPool]:
    """Spawned once for every case, as in the moto storm."""
    with WorkerPool(PROCESSES) as workers:
        yield workers


@pytest.fixture(scope="module")
def sent_events(localstack: LocalStack) -> SentEvents:
    return SentEvents(localstack.client("s3"), localstack.client("sqs"),
                      localstack.client("events"))  # fmt: skip


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("versioned", [False, True], ids=["unversioned", "versioned"])
@pytest.mark.parametrize("seed", SEEDS)
def test_localstacks_own_events_late_duplicated_leave_the_current_state(
    seed: int, versioned: bool, shape: Shape, localstack: LocalStack, pool: WorkerPool,
    sent_events: SentEvents, request: pytest.FixtureRequest,
) -> None:  # fmt: skip
    config = StormConfig(seed, versioned, shape, keys=KEYS, operations=OPERATIONS)

    result = run_storm(config, localstack.endpoint, pool, events=sent_events)

    line = result.summary()
    request.config.stash.setdefault(STORM_LINES, []).append(line)
    print(line)
    assert not result.undocumented(), "\n".join([line, *result.undocumented()])
    raised = [f"raised {f.error}: {f.message} | {' | '.join(f.log_tail[-3:])}"
              for f in result.figures.failures]  # fmt: skip
    assert not result.violations, "\n".join([line, *map(str, result.violations), *raised])


def test_each_seed_makes_every_kind_of_operation_on_a_versioned_bucket() -> None:
    """What the cases above can show of LocalStack's events depends on what the seeds do."""
    for seed in SEEDS:
        plan = plan_operations(seed, storm_keys(KEYS), OPERATIONS, versioned=True)
        assert {operation.kind for operation in plan} == set(KINDS), seed
