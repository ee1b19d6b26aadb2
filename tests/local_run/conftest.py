"""The built function under the Runtime Interface Emulator: one host-architecture build of
template.yaml for the whole run, and a tiny second project whose function only sleeps, for the
timeout. Builds run with a HOME of their own, so sam neither checks PyPI for a newer version
nor writes to the developer's ~/.aws-sam."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from local_run.runtime.function import LocalFunction, prepare_function
from local_run.shared import Progress, environment

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = REPO_ROOT / "template.yaml"

SLEEPER_TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Resources:
  SleepFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: fn/
      Handler: sleeper.handler
      Runtime: python3.13
      Timeout: 1
"""
SLEEPER_CODE = """\
import time


def handler(event, context):
    time.sleep(event.get("sleep_s", 0))
    return {"slept_s": event.get("sleep_s", 0)}
"""


@contextmanager
def sam_home(tmp: Path) -> Iterator[None]:
    home = tmp / "home"
    (home / ".aws-sam").mkdir(parents=True, exist_ok=True)
    (home / ".aws-sam" / "metadata.json").write_text(json.dumps({"lastVersionCheck": time.time()}))
    with environment({"HOME": str(home)}):
        yield


@pytest.fixture(scope="session")
def thumbnail_function(tmp_path_factory: pytest.TempPathFactory) -> LocalFunction:
    """template.yaml's function, built once for this machine."""
    tmp = tmp_path_factory.mktemp("local-build")
    with sam_home(tmp):
        return prepare_function(TEMPLATE, None, tmp / "build", Progress(quiet=True))


@pytest.fixture(scope="session")
def sleeper_function(tmp_path_factory: pytest.TempPathFactory) -> LocalFunction:
    """A function that sleeps as long as its event says, under a 1 s timeout."""
    project = tmp_path_factory.mktemp("sleeper")
    (project / "template.yaml").write_text(SLEEPER_TEMPLATE)
    (project / "fn").mkdir()
    (project / "fn" / "sleeper.py").write_text(SLEEPER_CODE)
    with sam_home(project):
        return prepare_function(
            project / "template.yaml", None, project / "build", Progress(quiet=True)
        )


@pytest.fixture(scope="session")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo run once, in-process: its printed report beside out/ as demo-output.txt."""
    import io

    from local_run.demo.command import run_demo

    out = tmp_path_factory.mktemp("demo") / "out"
    stream = io.StringIO()
    code = run_demo(out, stream=stream)
    (out / "demo-output.txt").write_text(stream.getvalue())
    assert code == 0, stream.getvalue()
    return out
