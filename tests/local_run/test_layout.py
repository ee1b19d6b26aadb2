"""The tools' layout holds: a command (invoke/, demo/, backfill/, eventbridge/) imports no other
command, and nothing a command builds on (runtime/, inputs/, shared.py) imports a command. Only
cli.py, which dispatches to them, sees them all. Read from the source's imports (ast), so a lazy
import inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"
COMMANDS = {"invoke", "demo", "backfill", "eventbridge"}


def imported(source: str) -> set[str]:
    """Every module a source imports, absolute, as written."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def part(module: str) -> str | None:
    """The local_run part a dotted name belongs to: a command, a library, or None (elsewhere)."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 and pieces[0] == "local_run" else None


def violations(owner: str | None, source: str) -> list[str]:
    """owner: the part of local_run the importing module belongs to ("cli", which dispatches to
    every command, may import them all; None: a module outside local_run)."""
    return [
        f"imports {name}"
        for name in sorted(imported(source))
        if part(name) in COMMANDS and part(name) != owner and owner != "cli"
    ]


def owner_of(path: Path) -> str | None:
    relative = path.relative_to(TOOLS).parts
    return relative[1].removesuffix(".py") if relative[0] == "local_run" else None


def test_every_command_and_library_is_where_the_layout_says() -> None:
    parts = {path.name for path in (TOOLS / "local_run").iterdir() if not path.name.startswith("__")}
    assert parts == {"cli.py", "shared.py", "runtime", "inputs", *COMMANDS}


@pytest.mark.parametrize("path", sorted(TOOLS.rglob("*.py")), ids=lambda path: str(path.relative_to(TOOLS)))
def test_no_module_reaches_into_a_command_it_does_not_belong_to(path: Path) -> None:
    assert violations(owner_of(path), path.read_text(encoding="utf-8")) == []


def test_the_check_sees_a_command_importing_another_and_a_library_importing_one() -> None:
    """The rule can fail: a crafted import of each kind is caught, lazy or not."""
    lazy = "def f():\n    from local_run.invoke.command import run_invoke\n"
    assert violations("demo", lazy) == ["imports local_run.invoke.command", "imports local_run.invoke.command.run_invoke"]
    assert violations("runtime", "import local_run.demo.gallery\n") == ["imports local_run.demo.gallery"]
    assert violations(None, "from local_run import backfill\n") == ["imports local_run.backfill"]
    assert violations("demo", "from local_run.demo.gallery import write_gallery\nfrom local_run.shared import Progress\n") == []
    assert violations("cli", lazy) == []
    assert owner_of(TOOLS / "local_run" / "demo" / "gallery.py") == "demo"
    assert owner_of(TOOLS / "local_run" / "shared.py") == "shared"
    assert owner_of(TOOLS / "rehearsal" / "stack.py") is None
