"""LocalStack on this machine: no Docker, loopback only, nothing kept, stopped by process group.

localstack-core ships no `localstack` command (the CLI, with its `start --host`, is another
package); the runtime's own entry point, `python -m localstack.runtime.main`, is what LocalStack's
container runs, and it runs the same here. The settings that make it behave on a developer's
machine or CI's:

- OVERRIDE_IN_DOCKER=0: a machine that is itself a container (/.dockerenv) makes LocalStack
  believe it runs in its own image and use /var/lib/localstack and /tmp/localstack. With 0 it
  takes the host layout, rooted at FILESYSTEM_ROOT, a directory of ours.
- GATEWAY_SERVER=hypercorn: the default (twisted) server ignores the host in GATEWAY_LISTEN and
  listens on every interface (localstack/runtime/server/twisted.py); hypercorn binds 127.0.0.1.
- DNS_ADDRESS=0: no DNS server of its own (by default it tries to bind port 53 on 0.0.0.0).
- DISABLE_EVENTS=1: no usage analytics sent anywhere; SKIP_SSL_CERT_DOWNLOAD=1: a self-signed
  certificate instead of fetching one.
- EAGER_SERVICE_LOADING=1: the services start before the health check says "running", so the
  start time measured is the real one and the first stack does not pay for it.
- SQS_ENDPOINT_STRATEGY=path with LOCALSTACK_HOST: queue URLs point at our port on 127.0.0.1,
  not at *.localhost.localstack.cloud, which would need public DNS.
- No PERSISTENCE: every start is empty; HOME and TMPDIR are ours too, so nothing outside the
  work directory is written (LocalStack logs a deprecation warning for TMPDIR: harmless).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from local_run.shared import LOCAL_AWS_ENV

# What the rehearsal's stacks and drivers touch. cloudwatch: the template's FailedEventsAlarm;
# sns: the topic another consumer of an existing bucket has it notify.
SERVICES = ("cloudformation", "s3", "sqs", "events", "iam", "sts", "cloudwatch", "sns")
READY = {"running", "available"}


class LocalStackError(Exception):
    """LocalStack would not start, or not become healthy; the message ends with its log."""


@dataclass(frozen=True)
class LocalStack:
    endpoint: str  # http://127.0.0.1:PORT: every service on one port
    pid: int  # the runtime's process, leader of its own process group
    start_s: float  # from the process start to every service healthy
    version: str
    log: Path

    def client(self, service: str) -> Any:
        """A boto3 client for this LocalStack, with local-only credentials whatever the shell
        holds (LocalStack's account is then its default, 000000000000)."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=LOCAL_AWS_ENV["AWS_REGION"],
            aws_access_key_id=LOCAL_AWS_ENV["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=LOCAL_AWS_ENV["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=LOCAL_AWS_ENV["AWS_SESSION_TOKEN"],
        )


def localstack_python(venv: Path) -> Path:
    """The interpreter of the venv scripts/bootstrap.sh test makes (.venv-localstack)."""
    return venv / "bin" / "python"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(work_dir: Path, port: int, services: Sequence[str]) -> dict[str, str]:
    """Nothing of the caller's environment but PATH and LANG: no AWS_* variable, no real
    credentials, no profile can reach LocalStack (module docstring: why each setting)."""
    home, tmp = work_dir / "home", work_dir / "tmp"
    home.mkdir(parents=True, exist_ok=True)
    tmp.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "HOME": str(home),
        "TMPDIR": str(tmp),
        "FILESYSTEM_ROOT": str(work_dir / "filesystem"),
        "OVERRIDE_IN_DOCKER": "0",
        "GATEWAY_SERVER": "hypercorn",
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "LOCALSTACK_HOST": f"127.0.0.1:{port}",
        "SQS_ENDPOINT_STRATEGY": "path",
        "SERVICES": ",".join(services),
        "EAGER_SERVICE_LOADING": "1",
        "DNS_ADDRESS": "0",
        "DISABLE_EVENTS": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "PERSISTENCE": "0",
    }


def _health(endpoint: str) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as answer:
            return json.loads(answer.read())
    except (OSError, ValueError):  # not listening yet, or answering half-started
        return None


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_healthy(
    process: subprocess.Popen[bytes],
    endpoint: str,
    services: Sequence[str],
    log: Path,
    limit_s: float,
) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    health: dict[str, Any] | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LocalStackError(f"LocalStack exited ({process.returncode}):\n{_tail(log)}")
        health = _health(endpoint)
        states = (health or {}).get("services", {})
        if health and all(states.get(name) in READY for name in services):
            return health
        time.sleep(0.1)
    states = (health or {}).get("services", {})
    missing = {name: states.get(name) for name in services if states.get(name) not in READY}
    raise LocalStackError(
        f"LocalStack not healthy within {limit_s:.0f} s "
        f"(services not ready: {missing}):\n{_tail(log)}"
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group (the runtime and anything it started), SIGKILL if it
    lingers: LocalStack shuts its services down on SIGTERM, within a few seconds."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def running_localstack(
    venv: Path, work_dir: Path, services: Sequence[str] = SERVICES, limit_s: float = 90.0
) -> Iterator[LocalStack]:
    """A fresh, empty LocalStack on a free loopback port for the duration; its log is
    work_dir/localstack.log."""
    python = localstack_python(venv)
    if not python.exists():
        raise LocalStackError(f"{python} is missing: run scripts/bootstrap.sh test")
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = work_dir / "localstack.log"
    work_dir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(python), "-m", "localstack.runtime.main"],
            cwd=work_dir,
            env=_environment(work_dir, port, services),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so _stop ends all of it
        )
    try:
        health = _wait_healthy(process, endpoint, services, log, limit_s)
        yield LocalStack(
            endpoint, process.pid, time.monotonic() - started, str(health.get("version")), log
        )
    finally:
        _stop(process)
