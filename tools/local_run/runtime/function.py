"""The function as the template configures it, built for this machine by `sam build` (or the last
build reused): what the invoke and demo commands and the rehearsal run under the emulator."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from local_run.runtime.build import Built, default_build_root, ensure_built, host_architecture
from local_run.runtime.template import FunctionSpec, bucket_names, load, read_function
from local_run.shared import Progress


@dataclass(frozen=True)
class LocalFunction:
    template: Path
    spec: FunctionSpec
    built: Built
    build_root: Path
    buckets: dict[str, str]  # template logical ID -> local bucket name



def prepare_function(
    template: Path, function: str | None, build_root: Path | None, progress: Progress
) -> LocalFunction:
    """The function as the template configures it, built for this machine (or reused)."""
    template = template.resolve()
    spec = read_function(template, function)
    root = build_root or default_build_root(template)
    progress.say(f"building {spec.logical_id} for {host_architecture()} (sam build) in {root} ...")
    built = ensure_built(template, spec, root)
    if built.reused:
        progress.say("  sources unchanged since the last build: reusing it")
    return LocalFunction(template, spec, built, root, bucket_names(load(template)))


def add_build_options(parser: argparse.ArgumentParser) -> None:
    """-t/--template-file and --build-dir, as every command that builds the function takes them."""
    parser.add_argument(
        "-t",
        "--template-file",
        "--template",
        dest="template",
        type=Path,
        default=Path("template.yaml"),
        help="SAM template (default: template.yaml)",
    )
    parser.add_argument(
        "--build-dir",
        type=Path,
        help="where the build for this machine goes (default: .aws-sam/local-<arch> beside the "
        "template)",
    )
