"""The tools' layout holds: a command (invoke/, demo/, backfill/) imports no other command, and
nothing a command builds on (runtime/, inputs/, shared.py) imports a command. Only cli.py, which
dispatches to them, sees them all. Read from the source's imports (ast), so a lazy import inside
a function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parents[2] / "tools"
COMMANDS = {"invoke", "demo", "backfill"}
LIBRARIES = {"runtime", "inputs", "shared"}


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
    """owner: the part the importing module belongs to (None: outside local_run)."""
    found = []
    for name in sorted(imported(source)):
        target = part(name)
        if target not in COMMANDS or target == owner:
            continue
        if owner in COMMANDS or owner in LIBRARIES or owner is None:
            found.append(f"imports {name}")
    return found


def _modules() -> list[Path]:
    return sorted(path for path in TOOLS.rglob("*.py") if path.name != "cli.py" or path.parent.name != "local_run")


def test_every_command_and_library_is_where_the_layout_says() -> None:
    parts = {path.name for path in (TOOLS / "local_run").iterdir() if not path.name.startswith("__")}
    assert parts == {"cli.py", "shared.py"} | {f"{name}" for name in COMMANDS | LIBRARIES - {"shared"}}


@pytest.mark.parametrize("path", _modules(), ids=lambda path: str(path.relative_to(TOOLS)))
def test_no_module_reaches_into_a_command_it_does_not_belong_to(path: Path) -> None:
    relative = path.relative_to(TOOLS).parts
    owner = relative[1].removesuffix(".py") if relative[0] == "local_run" and len(relative) > 2 else None
    if relative[:1] == ("local_run",) and relative[1:] == ("shared.py",):
        owner = "shared"
    assert violations(owner, path.read_text(encoding="utf-8")) == []


def test_the_check_sees_a_command_importing_another_and_a_library_importing_one() -> None:
    """The rule can fail: a crafted import of each kind is caught, lazy or not."""
    lazy = "def f():\n    from local_run.invoke.command import run_invoke\n"
    assert violations("demo", lazy) == ["imports local_run.invoke.command", "imports local_run.invoke.command.run_invoke"]
    assert violations("runtime", "import local_run.demo.gallery\n") == ["imports local_run.demo.gallery"]
    assert violations(None, "from local_run import backfill\n") == ["imports local_run.backfill"]
    assert violations("demo", "from local_run.demo.gallery import write_gallery\nfrom local_run.shared import Progress\n") == []
