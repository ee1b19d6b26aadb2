"""Every one of a fixed set of mutated inputs runs, and ends typed (thumbnails that decode and
fit, or a PermanentError), adding at most the memory budget plus its own length at its peak.
Anything else is a finding, named with its class, seed, number and description, and
reproducible with python -m tests.fuzz.reproduce CLASS SEED NUMBER. Time is printed, never
asserted: only a hung input (limits.HANG_CPU_S of CPU) fails on it."""

from __future__ import annotations

import pytest

from tests.fuzz.conftest import SUMMARY
from tests.fuzz.inputs import schedule
from tests.fuzz.limits import MIN_INPUTS
from tests.fuzz.report import summary, write_results
from tests.fuzz.runner import run_inputs


def test_every_mutated_input_ends_typed_within_memory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> None:
    specs = schedule()
    assert len(specs) >= MIN_INPUTS

    run = run_inputs(specs)

    cache = getattr(request.config, "cache", None)  # absent under -p no:cacheprovider
    folder = cache.mkdir("fuzz") if cache is not None else tmp_path_factory.mktemp("fuzz")
    path = write_results(run, folder / "results.jsonl")
    text = summary(run, path)
    request.config.stash[SUMMARY] = text
    print(text)
    assert sorted(map(str, (r.spec for r in run.results))) == sorted(map(str, specs)), text
    assert not any(r.problems() for r in run.results), text
