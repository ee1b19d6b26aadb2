"""The decoder layers' stand-ins under the emulator: each layer's own distributions, linked from
the venv, importable by an interpreter that sees no site-packages (and, for JPEG XL, the
function's Pillow)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from local_run.runtime.runtime_dir import JXL_LAYER_DISTRIBUTIONS, VIDEO_LAYER_DISTRIBUTIONS, make_runtime_dir

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_the_layers_stand_in_holds_what_its_requirements_name() -> None:
    lines = (REPO_ROOT / "layers" / "video" / "requirements.in").read_text().splitlines()
    named = {re.split(r"[=<>~!\[ ]", line)[0] for line in lines if line.strip() and not line.startswith("#")}
    assert set(VIDEO_LAYER_DISTRIBUTIONS) == named


def test_the_layers_stand_in_imports_pyav_without_site_packages(tmp_path: Path) -> None:
    layer = make_runtime_dir(tmp_path / "video-layer", VIDEO_LAYER_DISTRIBUTIONS, follow=False)
    assert {path.name for path in layer.iterdir() if not path.name.endswith(".dist-info")} == {"av", "av.libs"}
    done = subprocess.run([sys.executable, "-S", "-c", "import av; print(av.__version__)"],
                          env={"PYTHONPATH": str(layer)}, capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_jxl_layers_stand_in_holds_its_lock_and_no_pillow(tmp_path: Path) -> None:
    """Its lock's two distributions, not the Pillow the plugin requires: the function ships that
    (layers/jxl/requirements.in), and here the function's own, linked apart, serves it."""
    lock = (REPO_ROOT / "layers" / "jxl" / "requirements.txt").read_text().splitlines()
    locked = {line.split("==")[0] for line in lock if "==" in line and not line.startswith((" ", "#"))}
    assert set(JXL_LAYER_DISTRIBUTIONS) == locked
    layer = make_runtime_dir(tmp_path / "jxl-layer", JXL_LAYER_DISTRIBUTIONS, follow=False)
    assert {path.name for path in layer.iterdir() if not path.name.endswith(".dist-info")} == {"pillow_jxl", "packaging"}
    function = make_runtime_dir(tmp_path / "function", ("pillow",))
    done = subprocess.run([sys.executable, "-S", "-c", "import pillow_jxl; print(pillow_jxl.Decoder())"],
                          env={"PYTHONPATH": f"{function}:{layer}"}, capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
