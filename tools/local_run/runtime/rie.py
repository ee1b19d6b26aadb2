"""The built function under the AWS Lambda Runtime Interface Emulator, as `sam local` runs it
inside its container, minus the container.

The emulator (the `aws-lambda-rie` binary the SAM CLI wheel ships) is the Lambda runtime API:
it starts the runtime process on the first invocation, hands it events, enforces the timeout
(AWS_LAMBDA_FUNCTION_TIMEOUT: it kills the process and answers "Task timed out after N
seconds"), and starts a fresh process on the next invocation after a timeout. The runtime
process is the runtime interface client, awslambdaric, which imports the handler from the
build directory, our stand-in for /var/task. When the function's SOURCE_FORMATS includes video
or jxl, the stack would attach the video or JPEG XL decoder layer (template.yaml's ReadsVideo,
ReadsJxl): its stand-in is on PYTHONPATH ahead of the runtime's packages, as /opt/python is
ahead of /var/runtime on Lambda.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from local_run.runtime.build import host_architecture
from local_run.runtime.report import RAPID_LINE, START, Block, Report, split_block
from local_run.runtime.rss import watch_peak
from local_run.runtime.runtime_dir import LAYER_DISTRIBUTIONS, make_runtime_dir
from local_run.runtime.template import FunctionSpec

INVOKE_PATH = "/2015-03-31/functions/function/invocations"
ERROR_KEYS = {"errorMessage", "errorType", "stackTrace", "requestId", "cause"}
LOG_WAIT_S = 10.0  # the emulator prints REPORT just after it answers


class EmulatorError(Exception):
    """The emulator itself failed (would not start, died, or its output made no sense)."""


@dataclass
class Invocation:
    payload: bytes
    report: Report
    logs: list[str]  # the function's output with START and END, as Lambda's log stream has it
    error: dict[str, Any] | None = None  # {"errorType", "errorMessage", ...} when it failed

    @property
    def response(self) -> Any:
        """The payload as JSON when it is JSON, else as text."""
        text = self.payload.decode("utf-8", errors="replace")
        try:
            return json.loads(text)
        except ValueError:
            return text


def emulator_binary() -> Path:
    import samcli  # the test set's, as in template.py

    path = (
        Path(samcli.__file__).parent / "local" / "rapid" / f"aws-lambda-rie-{host_architecture()}"
    )
    if not path.is_file():
        raise EmulatorError(f"the SAM CLI ships no emulator for this machine: {path} is missing")
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _error_of(payload: bytes, block: Block) -> dict[str, Any] | None:
    """A function error is only told apart by the payload's shape: the emulator answers 200 and
    sets no X-Amz-Function-Error header."""
    text = payload.decode("utf-8", errors="replace")
    if block.timed_out:
        return {"errorType": "Sandbox.Timedout", "errorMessage": text.strip()}
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if isinstance(parsed, dict) and {"errorType", "errorMessage"} <= parsed.keys() <= ERROR_KEYS:
        return parsed
    return None


class Emulator:
    """One execution environment: started once, invoked any number of times, then stopped."""

    def __init__(
        self,
        spec: FunctionSpec,
        function_dir: Path,
        variables: Mapping[str, str],
        work_dir: Path,
        on_log: Callable[[str], None] | None = None,
    ) -> None:
        expected = f"python{sys.version_info.major}.{sys.version_info.minor}"
        if spec.runtime != expected:
            raise EmulatorError(f"{spec.logical_id} runs on {spec.runtime}; this is {expected}")
        self._spec = spec
        self._function_dir = function_dir
        self._variables = dict(variables)
        self._work_dir = work_dir
        self._on_log = on_log
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._process: subprocess.Popen[str] | None = None
        self._url = ""

    def _environment(self, runtime_dir: Path, layer_dirs: list[Path]) -> dict[str, str]:
        """Lambda's defined runtime variables, then the function's (which include the
        AWS_LAMBDA_FUNCTION_* settings the emulator reads, timeout among them)."""
        return {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "LAMBDA_TASK_ROOT": str(self._function_dir),
            "LAMBDA_RUNTIME_DIR": str(runtime_dir),
            "PYTHONPATH": os.pathsep.join(str(path) for path in [*layer_dirs, runtime_dir]),
            # /var/task is read-only on Lambda: every cold start compiles what it imports.
            "PYTHONDONTWRITEBYTECODE": "1",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{self._spec.runtime}",
            "_HANDLER": self._spec.handler,
            **self._variables,
        }

    @property
    def _layers(self) -> list[str]:
        """As template.yaml's ReadsVideo and ReadsJxl conditions, on the value the function is
        given: the layers a stack with it would attach."""
        formats = {name.strip() for name in self._variables.get("SOURCE_FORMATS", "").split(",")}
        return [name for name in LAYER_DISTRIBUTIONS if name in formats]

    def start(self) -> None:
        runtime_dir = make_runtime_dir(self._work_dir / "runtime")
        layer_dirs = [make_runtime_dir(self._work_dir / f"{name}-layer", LAYER_DISTRIBUTIONS[name], follow=False)
                      for name in self._layers]  # fmt: skip
        port = _free_port()
        command = [
            str(emulator_binary()),
            "--runtime-interface-emulator-address",
            f"127.0.0.1:{port}",
            "--runtime-api-address",
            f"127.0.0.1:{_free_port()}",
            sys.executable,
            "-S",
            "-m",
            "awslambdaric",
            self._spec.handler,
        ]
        self._process = subprocess.Popen(
            command,
            cwd=self._function_dir,
            env=self._environment(runtime_dir, layer_dirs),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            start_new_session=True,  # so stop() can end the runtime process with it
        )
        threading.Thread(target=self._read, name="rie-output", daemon=True).start()
        self._url = f"http://127.0.0.1:{port}{INVOKE_PATH}"
        self._wait_listening(port)

    def _read(self) -> None:
        assert self._process is not None and self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _wait_listening(self, port: int, limit_s: float = 10.0) -> None:
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise EmulatorError(f"the emulator exited ({self._process.returncode})")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.02)
        raise EmulatorError(f"the emulator did not listen on port {port} within {limit_s:.0f} s")

    def invoke(self, event: Any) -> Invocation:
        if self._process is None:
            raise EmulatorError("start() the emulator first")
        request = urllib.request.Request(self._url, data=json.dumps(event).encode(), method="POST")
        # The emulator enforces the timeout; ours only guards against a wedged emulator.
        with (
            watch_peak(self._process.pid) as peak,
            urllib.request.urlopen(request, timeout=self._spec.timeout_s + 30) as answer,
        ):
            payload = answer.read()
        block = split_block(self._block())
        if block.duration_ms is None:
            raise EmulatorError(
                "no duration in the emulator's log:\n" + "\n".join(block.rapid_lines)
            )
        report = Report(
            block.request_id,
            block.duration_ms,
            self._spec.memory_mb,
            peak.mb,
            block.init_duration_ms,
            block.timed_out,
        )
        return Invocation(payload, report, block.function_lines, _error_of(payload, block))

    def _block(self) -> list[str]:
        """This invocation's lines, START to the emulator's REPORT. Function lines go to on_log
        as they arrive; what the emulator prints before START is its start-up chatter, kept only
        for an error message."""
        lines: list[str] = []
        before: list[str] = []
        while True:
            try:
                line = self._lines.get(timeout=LOG_WAIT_S)
            except queue.Empty:
                raise EmulatorError(
                    "no REPORT line from the emulator:\n" + "\n".join(before + lines)
                ) from None
            if line is None:
                raise EmulatorError("the emulator exited:\n" + "\n".join(before + lines))
            if not lines and not START.match(line):
                before.append(line)
                continue
            lines.append(line)
            if line.startswith("REPORT RequestId:"):
                return lines
            if self._on_log is not None and not RAPID_LINE.match(line):
                self._on_log(line)

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        os.killpg(self._process.pid, signal.SIGTERM)
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
