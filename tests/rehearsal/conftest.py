"""The deploy rehearsal's fixtures: one LocalStack for the session, the function built once for
this machine, and one rehearsal per TriggerMode, run on first use and shared by every test.

LocalStack comes from .venv-localstack (scripts/bootstrap.sh test makes it; scripts/test runs that
first). Without it the tier is skipped, with the command that fixes it, when run by hand; under
./scripts/test a rehearsal that cannot run is a failure, not a skip nobody reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from local_run.runtime.function import LocalFunction, prepare_function
from local_run.shared import Progress
from rehearsal.localstack import LocalStack, localstack_python, running_localstack

from tests.local_run.conftest import sam_home
from tests.rehearsal.existing import ExistingRehearsal, rehearse_existing
from tests.rehearsal.scenario import REPO_ROOT, TEMPLATE, Rehearsal, rehearse
from tests.tooling import missing_tool

LOCALSTACK_VENV = REPO_ROOT / ".venv-localstack"
MODES = ("SQS", "EventBridge")
# Seconds per phase, printed after the run (pytest_terminal_summary): the tier's cost in the suite.
TIMINGS: dict[str, float] = {}
NOTES: list[str] = []  # how each mode's messages were handed over, and where they were written
# The steps of the deploy onto an existing bucket (existing.py), each a few lines.
EXISTING_LINES: list[str] = []
# One line of figures per storm case (test_storm.py), beside the moto storm's own section.
STORM_LINES = pytest.StashKey[list[str]]()


def require_localstack() -> None:
    """Skip by hand, fail under ./scripts/test (tests/tooling.py), naming what makes .venv-localstack."""
    if not localstack_python(LOCALSTACK_VENV).exists():
        missing_tool(str(LOCALSTACK_VENV), "run ./scripts/bootstrap.sh test (./scripts/test does)")


@pytest.fixture(scope="session")
def localstack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """A fresh LocalStack on a free loopback port, stopped (its process group) at the end."""
    require_localstack()
    with running_localstack(LOCALSTACK_VENV, tmp_path_factory.mktemp("localstack")) as running:
        TIMINGS["LocalStack start"] = running.start_s
        yield running


@pytest.fixture(scope="session")
def rehearsal_function(tmp_path_factory: pytest.TempPathFactory) -> LocalFunction:
    """template.yaml's function, built for this machine as `thumbnail-local invoke` builds it."""
    tmp = tmp_path_factory.mktemp("rehearsal-build")
    started = time.monotonic()
    with sam_home(tmp):
        built = prepare_function(TEMPLATE, None, tmp / "build", Progress(quiet=True))
    TIMINGS["sam build (host architecture)"] = time.monotonic() - started
    return built


@pytest.fixture(scope="session")
def rehearsed(
    localstack: LocalStack,
    rehearsal_function: LocalFunction,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[str], Rehearsal]:
    """mode -> its rehearsal, run once. A rehearsal that failed is not run again for every test
    that reads it: its error is kept and raised to each."""
    done: dict[str, Rehearsal | BaseException] = {}

    def get(mode: str) -> Rehearsal:
        if mode not in done:
            work = tmp_path_factory.mktemp(f"rehearsal-{mode.lower()}")
            try:
                done[mode] = rehearse(localstack, rehearsal_function, mode, work)
            except Exception as error:  # noqa: BLE001 - kept and re-raised below
                done[mode] = error
            else:
                note(done[mode], work)
        found = done[mode]
        if isinstance(found, BaseException):
            raise found
        return found

    return get


def note(rehearsal: Rehearsal, work: Path) -> None:
    """The mode's phases into TIMINGS; its invocations and its messages' file into NOTES."""
    for phase, seconds in rehearsal.seconds.items():
        TIMINGS[f"{rehearsal.mode}: {phase}"] = seconds
    sizes = [len(delivery.message_ids) for delivery in rehearsal.deliveries]
    path = rehearsal.write_messages(work / "messages.json")
    NOTES.append(
        f"{rehearsal.mode}: {len(sizes)} invocations of {sum(sizes)} messages "
        f"(messages per invocation: {sizes}); the messages verbatim: {path}"
    )


@pytest.fixture(scope="session")
def existing(
    localstack: LocalStack,
    rehearsal_function: LocalFunction,
    tmp_path_factory: pytest.TempPathFactory,
) -> ExistingRehearsal:
    """The deploy onto a bucket made outside the stack, run once; its lines go to the summary
    as they are written, so a step that fails still shows the ones before it."""
    started, work = time.monotonic(), tmp_path_factory.mktemp("rehearsal-existing")
    try:
        return rehearse_existing(localstack, rehearsal_function, work, EXISTING_LINES)
    finally:
        TIMINGS["existing bucket: total"] = time.monotonic() - started


@pytest.fixture(params=MODES)
def rehearsal(request: pytest.FixtureRequest, rehearsed: Callable[[str], Rehearsal]) -> Rehearsal:
    """The same checks for both modes that deliver through a queue."""
    return rehearsed(request.param)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """What the rehearsal cost, phase by phase, and where its messages were written; then the
    storm's figures, pass or fail, with or without -s."""
    if TIMINGS:
        terminalreporter.section("deploy rehearsal (LocalStack)")
        for phase, seconds in TIMINGS.items():
            terminalreporter.write_line(f"{phase:<40} {seconds:6.1f} s")
        for line in NOTES:
            terminalreporter.write_line(line)
    if EXISTING_LINES:
        terminalreporter.section("deploy onto an existing bucket (LocalStack)")
        for line in EXISTING_LINES:
            terminalreporter.write_line(line)
    if lines := config.stash.get(STORM_LINES, None):
        terminalreporter.section("storm on LocalStack")
        for line in lines:
            terminalreporter.write_line(line)
