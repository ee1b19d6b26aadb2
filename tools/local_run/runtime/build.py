"""`sam build` of the function for this machine's CPU, reused while its inputs are unchanged.

The deployed artifact is arm64; its compiled wheels (Pillow) cannot load on an x86_64 laptop.
So a local run builds a variant of the same template that differs only in Architectures, with
the same SAM CLI and src/Makefile, into a directory of its own; sam tells make nothing about
the architecture, so the Makefile also gets LAMBDA_ARCHITECTURE in its environment. A
fingerprint of everything the build reads (the variant template, the files under CodeUri, the
interpreter and SAM CLI versions) decides whether the last build can be reused: a rebuild takes
seconds, a check milliseconds.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from local_run.runtime.template import FunctionSpec, host_variant

# platform.machine() -> Lambda's name for the architecture
LAMBDA_ARCHITECTURES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


class BuildError(Exception):
    """sam build failed or cannot run here; the message carries sam's own output."""


@dataclass(frozen=True)
class Built:
    function_dir: Path  # what Lambda would unpack into /var/task
    reused: bool


def host_architecture() -> str:
    machine = platform.machine().lower()
    if machine not in LAMBDA_ARCHITECTURES:
        raise BuildError(f"Lambda has no architecture for this machine ({machine})")
    return LAMBDA_ARCHITECTURES[machine]


def default_build_root(template: Path) -> Path:
    """Beside sam's own .aws-sam/build, and ignored by git with it."""
    return template.parent / ".aws-sam" / f"local-{host_architecture()}"


def _fingerprint(variant: str, code_dir: Path) -> str:
    digest = hashlib.sha256()
    for part in (variant, sys.version, version("aws-sam-cli"), host_architecture()):
        digest.update(part.encode() + b"\0")
    for path in sorted(code_dir.rglob("*")):
        # src/Makefile ships none of src/'s bytecode (it compiles afresh); the tests write it.
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(code_dir)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _sam_command() -> str:
    beside = Path(sys.executable).parent / "sam"
    found = str(beside) if beside.exists() else shutil.which("sam")
    if not found:
        raise BuildError("the SAM CLI (sam) is not installed: run ./scripts/bootstrap.sh test")
    return found


def ensure_built(template: Path, spec: FunctionSpec, build_root: Path) -> Built:
    """The host-architecture build of spec's function, built now only if something changed."""
    variant = host_variant(template, spec.logical_id, host_architecture())
    fingerprint = _fingerprint(variant, spec.code_uri)
    function_dir = build_root / "build" / spec.logical_id
    stamp = build_root / "fingerprint"
    if function_dir.is_dir() and stamp.is_file() and stamp.read_text() == fingerprint:
        return Built(function_dir, reused=True)
    build_root.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    (build_root / "template.yaml").write_text(variant, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    # src/Makefile runs the python3.13 it finds on PATH: the venv's first.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["SAM_CLI_TELEMETRY"] = "0"
    # src/Makefile picks the wheels' platform from this; sam passes make only ARTIFACTS_DIR.
    env["LAMBDA_ARCHITECTURE"] = host_architecture()
    command = [
        _sam_command(),
        "build",
        spec.logical_id,
        "--template-file",
        str(build_root / "template.yaml"),
        "--build-dir",
        str(build_root / "build"),
        # Our fingerprint decides reuse. sam's own cache would put its dependency folder in
        # ./.aws-sam/deps of the working directory whatever --cache-dir says.
        "--no-cached",
    ]
    # cwd: no samconfig.toml there, so the project's deploy defaults do not leak into this build.
    result = subprocess.run(
        command, cwd=build_root, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    if result.returncode != 0 or not function_dir.is_dir():
        raise BuildError(f"sam build failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    stamp.write_text(fingerprint)
    return Built(function_dir, reused=False)
