"""The function's layout holds: the imaging path (create_thumbnail/imaging/) knows nothing of
where images come from or go to, and the readers (imaging/readers/) only decode. Neither imports
the Lambda wiring, the lifecycle, storage or boto3; the readers not the path that calls them
either. Read from the source's imports (ast), so a lazy import inside a function counts as much
as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "create_thumbnail"
IMAGING = PACKAGE / "imaging"
READERS = IMAGING / "readers"
# What the imaging path is called by, and what does I/O: the package's modules that are not
# imaging's (config and errors are everyone's), and the AWS libraries.
NOT_FOR_IMAGING = {
    *(f"create_thumbnail.{name}" for name in ("app", "pipeline", "lifecycle", "events", "storage",
                                              "naming", "manifest", "completion", "metrics")),
    "boto3", "botocore", "aws_lambda_powertools",
}  # fmt: skip
# Readers turn bytes into pixels: beside the above, not the path that calls them.
NOT_FOR_READERS = NOT_FOR_IMAGING | {"create_thumbnail.imaging.thumbnails"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module a source imports, absolute (relative imports resolved against module)."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + is_package]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def violations(source: str, module: str, forbidden: set[str], is_package: bool = False) -> list[str]:
    return [
        f"imports {name}"
        for name in sorted(imported(source, module, is_package))
        if any(name == banned or name.startswith(f"{banned}.") for banned in forbidden)
    ]


def _modules(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


@pytest.mark.parametrize("path", _modules(IMAGING), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_the_imaging_path_imports_no_wiring_lifecycle_or_storage(path: Path) -> None:
    forbidden = NOT_FOR_READERS if READERS in path.parents else NOT_FOR_IMAGING
    source = path.read_text(encoding="utf-8")
    assert violations(source, module_name(path), forbidden, path.name == "__init__.py") == []


# The decoders a layer brings (template.yaml's VideoDecoderLayer, JxlDecoderLayer): not in the
# artifact, so never imported at the top of a module, where a function without the layer would
# fail to start and every other function's cold start would pay for them.
LAYERED = {"av", "pillow_jxl"}


def top_level_imports(source: str) -> set[str]:
    """The modules a source imports at import time (its module body), not inside a function."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", _modules(PACKAGE), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_a_layers_decoder_is_imported_only_where_a_file_needs_it(path: Path) -> None:
    assert not top_level_imports(path.read_text(encoding="utf-8")) & LAYERED


def test_the_check_sees_a_layers_decoder_imported_at_the_top() -> None:
    assert top_level_imports("import pillow_jxl\nfrom av import open\n") == {"pillow_jxl", "av"}
    assert top_level_imports("def load():\n    import pillow_jxl\n") == set()


def test_every_module_is_where_the_layout_says() -> None:
    """docs/layout.md names each of these; a module added elsewhere should be placed on purpose."""
    top = {path.stem for path in PACKAGE.glob("*.py")}
    assert top == {"__init__", "app", "pipeline", "lifecycle", "events", "config", "errors", "naming",
                   "manifest", "storage", "ranged", "completion", "metrics"}  # fmt: skip
    assert {path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__"} == {"imaging"}


def test_the_check_sees_a_reader_reaching_into_the_lifecycle_and_imaging_into_storage() -> None:
    """The rule can fail: a crafted import of each kind is caught, lazy, relative or not."""
    reader = "create_thumbnail.imaging.readers.pdf"
    lazy = "def load():\n    from create_thumbnail.pipeline import handle_event\n"
    assert violations(lazy, reader, NOT_FOR_READERS) == [
        "imports create_thumbnail.pipeline", "imports create_thumbnail.pipeline.handle_event"
    ]  # fmt: skip
    assert violations("from ..thumbnails import make_renditions\n", reader, NOT_FOR_READERS) == [
        "imports create_thumbnail.imaging.thumbnails", "imports create_thumbnail.imaging.thumbnails.make_renditions"
    ]  # fmt: skip
    assert violations("import boto3\n", reader, NOT_FOR_READERS) == ["imports boto3"]
    imaging = "create_thumbnail.imaging.renditions"
    assert violations("from create_thumbnail import storage\n", imaging, NOT_FOR_IMAGING) == [
        "imports create_thumbnail.storage"
    ]  # fmt: skip
    assert violations("from create_thumbnail.app import lambda_handler\n", imaging, NOT_FOR_IMAGING) != []
    # what they may import
    assert violations("from create_thumbnail.imaging.thumbnails import Thumbnail\n", imaging, NOT_FOR_IMAGING) == []
    assert violations("from create_thumbnail.config import Box\nfrom create_thumbnail.errors import NotAnImage\n"
                      "from create_thumbnail.imaging.budget import Budget\n", reader, NOT_FOR_READERS) == []  # fmt: skip
    assert module_name(READERS / "__init__.py") == "create_thumbnail.imaging.readers"
    assert module_name(READERS / "png.py") == "create_thumbnail.imaging.readers.png"
