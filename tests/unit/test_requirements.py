"""src/requirements.txt (what `sam build` ships) pins the same runtime dependencies as
pyproject.toml (what the venv, the tests and the local run use), minus boto3, which the Lambda
python3.13 runtime provides. Two lists kept by hand drift apart; this keeps them in step."""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement  # a pytest dependency, so always installed
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
PROVIDED_BY_THE_RUNTIME = {"boto3"}


def pins(requirements: list[str]) -> dict[str, str]:
    """name -> specifier (e.g. "==13.0.0"), names canonical, extras and markers ignored."""
    parsed = [Requirement(line) for line in requirements]
    return {canonicalize_name(r.name): str(r.specifier) for r in parsed}


def requirements_txt() -> list[str]:
    lines = (REPO_ROOT / "src" / "requirements.txt").read_text().splitlines()
    return [line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()]


def project_dependencies() -> list[str]:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def test_requirements_txt_matches_pyproject_minus_runtime_provided() -> None:
    project = pins(project_dependencies())
    expected = {name: spec for name, spec in project.items() if name not in PROVIDED_BY_THE_RUNTIME}
    assert pins(requirements_txt()) == expected


def test_shipped_dependencies_are_pinned() -> None:
    """An unpinned requirement makes every `sam build` a possibly different artifact."""
    for name, spec in pins(requirements_txt()).items():
        assert spec.startswith("==") and "," not in spec, f"{name}{spec} is not pinned"


def test_runtime_provided_packages_are_not_shipped() -> None:
    assert PROVIDED_BY_THE_RUNTIME <= pins(project_dependencies()).keys()
    assert not PROVIDED_BY_THE_RUNTIME & pins(requirements_txt()).keys()
