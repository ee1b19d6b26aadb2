"""A stand-in for Lambda's /var/runtime: the runtime interface client and the SDK, nothing else;
and for /opt/python, the decoder layers a stack that reads video or JPEG XL attaches.

On Lambda the function's process sees its own package (/var/task), the runtime's awslambdaric
and the boto3 the runtime ships. Run with the venv's site-packages instead, a package missing
from the artifact would import from the venv and the artifact would look fine until deployed.
So the function runs with `python -S` (no site-packages) and PYTHONPATH set to a directory of
links to exactly these distributions and what they require, as installed in the venv (pinned
in pyproject.toml's [dev] extras, which ./scripts/bootstrap.sh test installs).

The video layer (template.yaml's VideoDecoderLayer, layers/video/) holds PyAV alone, at the pin of
pyproject.toml's video extra (tests/build holds the two equal): the venv's copy is the wheel a
build for this machine would put in it. The JPEG XL layer (JxlDecoderLayer, layers/jxl/) holds
pillow-jxl-plugin and packaging, its lock's two, not Pillow, which the plugin requires but the
function ships: a layer's stand-in links what its lock names and follows nothing further.
"""

from __future__ import annotations

import shutil
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

RUNTIME_DISTRIBUTIONS = ("awslambdaric", "boto3")
VIDEO_LAYER_DISTRIBUTIONS = ("av",)  # layers/video/requirements.in
JXL_LAYER_DISTRIBUTIONS = ("pillow-jxl-plugin", "packaging")  # layers/jxl/requirements.txt
# Each layer's stand-in by the SOURCE_FORMATS name that attaches it (template.yaml's ReadsVideo,
# ReadsJxl), in the order the template lists the function's layers.
LAYER_DISTRIBUTIONS = {"video": VIDEO_LAYER_DISTRIBUTIONS, "jxl": JXL_LAYER_DISTRIBUTIONS}


def _closure(names: tuple[str, ...]) -> list[str]:
    """The distributions and everything they require (extras and markers that do not apply
    to this interpreter left out)."""
    from packaging.requirements import Requirement  # the SAM CLI's; the demo's set has none

    seen: dict[str, None] = {}
    pending = list(names)
    while pending:
        name = pending.pop()
        key = name.lower().replace("_", "-")
        if key in seen:
            continue
        seen[key] = None
        for text in distribution(name).requires or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                pending.append(requirement.name)
    return list(seen)


def make_runtime_dir(
    target: Path, distributions: tuple[str, ...] = RUNTIME_DISTRIBUTIONS, follow: bool = True
) -> Path:
    """(Re)creates target as links to the distributions' packages (the runtime's by default),
    and to everything they require if follow; returns it for PYTHONPATH."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in _closure(distributions) if follow else distributions:
        try:
            dist = distribution(name)
        except PackageNotFoundError as error:
            raise RuntimeError(
                f"{name} is not installed: run ./scripts/bootstrap.sh test (pyproject's dev extra)"
            ) from error
        tops = {Path(str(f)).parts[0] for f in dist.files or []}
        for top in tops - {"..", "__pycache__"}:
            source = Path(str(dist.locate_file(top)))
            if source.exists() and not (target / top).exists():
                (target / top).symlink_to(source, target_is_directory=source.is_dir())
    return target
