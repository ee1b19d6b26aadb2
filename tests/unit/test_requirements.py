"""What `sam build` ships, held to what the venv, the tests and the local run use.

pyproject.toml pins the function's direct dependencies; src/requirements.in (the lock's input)
pins the same, minus boto3, which the Lambda python3.13 runtime provides; src/requirements.txt
is uv's hashed lock of everything the artifact installs (src/Makefile installs it with pip's
--require-hashes). Lists kept by hand drift apart, and a lock not made again after a pin moved
would ship the old version: this keeps the three in step. The command that makes the lock heads
requirements.in. tests/build/test_sam_build.py checks the artifact holds exactly the locked set.

The video and JPEG XL decoder layers have their own inputs and locks (layers/video/,
layers/jxl/), pinning what pyproject's `video` and `jxl` extras pin for the tests and the demo.
A layer holds nothing the function holds: Lambda puts /opt/python after /var/task on sys.path, so
a second copy would be dead weight at best, and a different version at worst.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement  # a pytest dependency, so always installed
from packaging.utils import canonicalize_name

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCK_INPUT = REPO_ROOT / "src" / "requirements.in"
LOCK = REPO_ROOT / "src" / "requirements.txt"
VIDEO_LAYER_INPUT = REPO_ROOT / "layers" / "video" / "requirements.in"
VIDEO_LAYER_LOCK = REPO_ROOT / "layers" / "video" / "requirements.txt"
JXL_LAYER_INPUT = REPO_ROOT / "layers" / "jxl" / "requirements.in"
JXL_LAYER_LOCK = REPO_ROOT / "layers" / "jxl" / "requirements.txt"
PROVIDED_BY_THE_RUNTIME = {"boto3"}
# The runtime's AWS SDK, shipped again it would shadow the runtime's own (and its 31 MB).
RUNTIME_SDK = {"boto3", "botocore", "s3transfer"}
SHA256 = re.compile(r"--hash=sha256:[0-9a-f]{64}")


def pins(requirements: list[str]) -> dict[str, str]:
    """name -> specifier (e.g. "==13.0.0"), names canonical, extras and markers ignored."""
    parsed = [Requirement(line) for line in requirements]
    return {canonicalize_name(r.name): str(r.specifier) for r in parsed}


def requirement_lines(path: Path) -> list[str]:
    """The file's logical lines (backslash continuations joined), comments and blanks dropped."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    lines = (line.split("#", 1)[0].strip() for line in joined.splitlines())
    return [line for line in lines if line]


def lock_entries(lock: Path = LOCK) -> dict[str, tuple[Requirement, list[str]]]:
    """Each lock entry as name -> (its requirement, the options that follow it, as written)."""
    entries = {}
    for line in requirement_lines(lock):
        requirement, _, options = line.partition(" --")
        parsed = Requirement(requirement)
        options_given = f"--{options}".split() if options else []
        entries[canonicalize_name(parsed.name)] = (parsed, options_given)
    return entries


def locked_versions(lock: Path = LOCK) -> dict[str, str]:
    """name -> version of every package the artifact (or a layer) installs, as its lock pins it."""
    return {name: str(r.specifier).removeprefix("==") for name, (r, _) in lock_entries(lock).items()}


def project_dependencies() -> list[str]:
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def shipped_direct_pins() -> dict[str, str]:
    project = pins(project_dependencies())
    return {name: spec for name, spec in project.items() if name not in PROVIDED_BY_THE_RUNTIME}


def test_lock_input_matches_pyproject_minus_runtime_provided() -> None:
    assert pins(requirement_lines(LOCK_INPUT)) == shipped_direct_pins()


def test_lock_pins_the_direct_dependencies_as_pyproject_does() -> None:
    """A pin moved in pyproject.toml and requirements.in but not locked again fails here."""
    locked = {name: str(r.specifier) for name, (r, _) in lock_entries().items()}
    direct = shipped_direct_pins()
    assert {name: locked.get(name) for name in direct} == direct


def test_direct_dependencies_are_pinned() -> None:
    """An unpinned input lets each regeneration of the lock pick a different version."""
    for name, spec in pins(requirement_lines(LOCK_INPUT)).items():
        assert spec.startswith("==") and "," not in spec, f"{name}{spec} is not pinned"


def test_every_lock_entry_is_pinned_with_hashes_and_no_marker() -> None:
    """pip's --require-hashes needs `==` and a hash on every line. A marker would be evaluated by
    pip on the build host, not on Lambda (--platform does not change that), so the lock is
    resolved for Lambda's platform and holds none; an option line (an index, -e) fails too."""
    entries = lock_entries()
    assert len(entries) == len(requirement_lines(LOCK))  # no package locked twice
    for name, (requirement, hashes) in entries.items():
        spec = str(requirement.specifier)
        assert spec.startswith("==") and "," not in spec and "*" not in spec, f"{name}{spec}"
        assert not requirement.extras and not requirement.url, name
        assert requirement.marker is None, f"{name}: marker {requirement.marker}"
        assert hashes and all(SHA256.fullmatch(h) for h in hashes), f"{name}: {hashes}"


def test_runtime_provided_packages_are_not_shipped() -> None:
    assert PROVIDED_BY_THE_RUNTIME <= pins(project_dependencies()).keys()
    assert not PROVIDED_BY_THE_RUNTIME & pins(requirement_lines(LOCK_INPUT)).keys()
    assert not RUNTIME_SDK & lock_entries().keys()


@pytest.mark.parametrize(
    "extra, layer_input, layer_lock, pinned",
    [("video", VIDEO_LAYER_INPUT, VIDEO_LAYER_LOCK, {"av": "==19.0.2"}),
     ("jxl", JXL_LAYER_INPUT, JXL_LAYER_LOCK, {"pillow-jxl-plugin": "==1.3.8"})],
)
def test_a_layer_pins_what_its_extra_pins_and_locks_it_with_hashes(
    extra: str, layer_input: Path, layer_lock: Path, pinned: dict[str, str]
) -> None:
    """The tests and the demo install the extra; the stack ships the layer: the same decoder."""
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"][extra]
    assert pins(requirement_lines(layer_input)) == pins(extras) == pinned
    entries = lock_entries(layer_lock)
    assert {name: str(r.specifier) for name, (r, _) in entries.items() if name in pinned} == pinned
    for name, (requirement, options) in entries.items():
        assert options and all(SHA256.fullmatch(option) for option in options), name
        assert not requirement.marker, name


def test_the_video_decoder_is_never_in_the_functions_lock() -> None:
    assert "av" not in lock_entries()


def test_the_jxl_layer_locks_what_the_plugin_requires_but_pillow_which_is_the_functions() -> None:
    """The plugin requires Pillow and packaging: the layer ships packaging, and leaves Pillow to
    the function (layers/jxl/Makefile installs with --no-deps), whose pin the lock was resolved
    against (requirements.in's command: -c src/requirements.in)."""
    from importlib.metadata import requires  # the plugin is the jxl extra's, which the tests install

    required = {canonicalize_name(Requirement(r).name) for r in requires("pillow-jxl-plugin") or []
                if not Requirement(r).marker}  # fmt: skip
    assert required == {"pillow", "packaging"}
    assert lock_entries(JXL_LAYER_LOCK).keys() == required - {"pillow"} | {"pillow-jxl-plugin"}
    assert "pillow" in lock_entries()
    assert "--no-deps" in (REPO_ROOT / "layers" / "jxl" / "Makefile").read_text()


def test_no_package_is_in_two_of_the_function_and_its_layers() -> None:
    locks = {"function": LOCK, "video layer": VIDEO_LAYER_LOCK, "jxl layer": JXL_LAYER_LOCK}
    seen: dict[str, str] = {}
    for where, lock in locks.items():
        for name in lock_entries(lock):
            assert name not in seen, f"{name} is in the {seen[name]} and the {where}"
            seen[name] = where


def test_the_jpeg_xl_decoder_is_never_in_the_functions_lock() -> None:
    assert "pillow-jxl-plugin" not in lock_entries()
