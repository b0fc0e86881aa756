"""The lab's boundary: only its command and the `--lab` option import it; it imports no check.

Every module of the package is parsed and every import in it (module level and
inside functions, absolute and relative) is resolved to the full module name.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "diagnose"
LAB = "diagnose.lab"
# The only modules outside the lab that may import it (docs/design.md, layers).
LAB_USERS = {"diagnose.cli.lab", "diagnose.cli.options"}
# What the lab must not import: it imitates the services, it knows nothing of the tool's checks.
NOT_FOR_THE_LAB = (
    "diagnose.checks",
    "diagnose.usecases",
    "diagnose.render",
    "diagnose.triage",
    "diagnose.payload",
    "diagnose.delays",
    "diagnose.runner",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import in the file; `from a import b` yields `a` and `a.b`."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            yield node.lineno, source
            for alias in node.names:
                yield node.lineno, f"{source}.{alias.name}"


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_the_resolver_sees_function_level_imports() -> None:
    found = dict((m, line) for line, m in imports(PACKAGE / "cli" / "options.py"))
    assert "diagnose.lab" in found  # imported inside the --lab handler, not at module level
    assert any(within(m, LAB) for _, m in imports(PACKAGE / "lab" / "__init__.py"))


def test_only_the_lab_command_and_the_lab_option_import_the_lab() -> None:
    importers = {
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if not within(module_name(path), LAB) and any(within(m, LAB) for _, m in imports(path))
    }
    assert importers == LAB_USERS


def test_the_lab_imports_nothing_of_the_checks_or_the_use_cases() -> None:
    crossings = [
        f"{path.relative_to(PACKAGE.parent)}:{line}: {module}"
        for path in sorted((PACKAGE / "lab").rglob("*.py"))
        for line, module in imports(path)
        if any(within(module, banned) for banned in NOT_FOR_THE_LAB)
    ]
    assert crossings == []
