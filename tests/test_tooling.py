"""A missing tool is a skip by hand and a failure under ./scripts/test, whatever CI says; and
./scripts/demo's set (pyproject.toml's demo extra) holds none of the test suite's tools."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import tomllib
from importlib.metadata import distribution, packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement  # pytest's own dependency
from packaging.utils import canonicalize_name

from tests.tooling import NEED_EVERY_TOOL, missing_tool


def test_by_hand_a_missing_tool_is_a_skip_that_says_how_to_install_it(monkeypatch):
    monkeypatch.delenv(NEED_EVERY_TOOL, raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium is missing: apt-get install chromium"):
        missing_tool("chromium", "apt-get install chromium")


@pytest.mark.parametrize("variable", [NEED_EVERY_TOOL, "CI"])
def test_under_the_suites_own_command_a_missing_tool_fails(monkeypatch, variable):
    monkeypatch.delenv(NEED_EVERY_TOOL, raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setenv(variable, "1")
    with pytest.raises(pytest.fail.Exception, match="apt-get install chromium"):
        missing_tool("chromium", "apt-get install chromium")


def test_the_suites_own_command_says_so():
    script = (Path(__file__).resolve().parents[1] / "scripts" / "test").read_text()
    assert f"export {NEED_EVERY_TOOL}=1" in script


# ---- ./scripts/demo installs the demo's set, ./scripts/test the test suite's: held apart

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
EXTRAS = PROJECT["optional-dependencies"]
# The test suite's tools that live in venvs of their own (scripts/bootstrap.sh test makes them).
OWN_VENVS = {"checkov", "localstack", "localstack-core"}


def closure(requirements: list[str]) -> set[str]:
    """Every distribution the requirements bring in, extras followed, as installed in this venv
    (which ./scripts/test fills with the dev extra, so with the demo's too). This project's own
    extras are read from pyproject.toml: `create-thumbnail[demo]` is what `pip install -e .[demo]`
    installs."""
    seen: set[tuple[str, frozenset[str]]] = set()
    pending = [Requirement(text) for text in requirements]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        key = (name, frozenset(requirement.extras))
        if key in seen:
            continue
        seen.add(key)
        if name == "create-thumbnail":
            wanted = [*PROJECT["dependencies"], *(t for e in requirement.extras for t in EXTRAS[e])]
            pending += [Requirement(text) for text in wanted]
            continue
        for text in distribution(name).requires or []:
            needed = Requirement(text)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": e}) for e in extras):
                pending.append(needed)
    return {name for name, _ in seen} - {"create-thumbnail"}


def suite_tools() -> set[str]:
    """What the dev extra adds to the demo's set by name (pytest, cfn-lint, the SAM CLI...), and
    checkov and LocalStack."""
    demo = {canonicalize_name(Requirement(text).name) for text in EXTRAS["demo"]}
    dev = {canonicalize_name(Requirement(text).name) for text in EXTRAS["dev"]}
    return (dev - demo - {"create-thumbnail"}) | OWN_VENVS


def test_the_demos_set_holds_none_of_the_test_suites_tools() -> None:
    """./scripts/demo installs the demo extra alone: a test tool in it, directly or brought in by
    one of its requirements (moto[server] brings cfn-lint), makes every first demo wait for it."""
    assert {"pytest", "cfn-lint", "aws-sam-cli", "checkov", "localstack-core"} <= suite_tools()
    assert closure(["create-thumbnail[demo]"]) & suite_tools() == set()


def test_the_check_sees_a_test_tool_brought_in_by_the_demos_set() -> None:
    """The rule can fail: moto's server extra (every service it mocks) brings cfn-lint along."""
    assert "cfn-lint" in closure(["moto[server]==5.2.5"]) & suite_tools()
    assert "pytest" in closure([*EXTRAS["demo"], "pytest==9.2.0"]) & suite_tools()
    demo, dev = closure(["create-thumbnail[demo]"]), closure(["create-thumbnail[dev]"])
    assert dev >= demo | {"pytest", "aws-sam-cli"}


def test_the_demo_imports_none_of_the_test_suites_tools() -> None:
    """The demo's modules, with every module of a test-only distribution made unimportable, as in
    a venv that ./scripts/demo made: the SAM CLI is imported only where --runtime rie uses it."""
    only_tests = closure(["create-thumbnail[dev]"]) - closure(["create-thumbnail[demo]"])
    blocked = sorted(
        module
        for module, names in packages_distributions().items()
        if {canonicalize_name(n) for n in names} <= only_tests and not module.startswith("_")
    )
    assert {"samcli", "cfnlint", "pytest"} <= set(blocked)
    script = textwrap.dedent(f"""
        import sys
        class Blocked:
            def find_spec(self, name, path=None, target=None):
                if name.partition(".")[0] in {blocked!r}:
                    raise ModuleNotFoundError(f"No module named {{name!r}} (test set only)", name=name)
        sys.meta_path.insert(0, Blocked())
        import local_run.cli, local_run.demo.command, moto.server, create_thumbnail.app, pillow_heif, av, pillow_jxl
        print("imported")
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert (done.returncode, done.stdout.strip()) == (0, "imported"), done.stderr[-2000:]


def test_each_script_installs_its_own_set_and_ci_runs_the_tests() -> None:
    scripts = REPO_ROOT / "scripts"
    assert '"$ROOT/scripts/bootstrap.sh" demo\n' in (scripts / "demo").read_text()
    assert '"$ROOT/scripts/bootstrap.sh" test\n' in (scripts / "test").read_text()
    assert (REPO_ROOT / ".ci" / "run").read_text().rstrip().endswith("\n./scripts/test")
