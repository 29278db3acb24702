"""The test suite's own layout: tests import shared code only from ``tests.support``, never
from a conftest or from another test module, and every test folder is a package."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.settings import ROOT

TESTS = ROOT / "tests"


def _imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            found.append("." * node.level + (node.module or ""))
    return found


def _forbidden(module: str) -> bool:
    if module.startswith("."):
        return True  # relative imports hide where a helper lives
    parts = module.split(".")
    test_module = parts[0] == "tests" and any(p.startswith("test_") for p in parts)
    return "conftest" in parts or test_module


def test_no_test_imports_a_conftest_or_another_test_module() -> None:
    offenders = {
        str(path.relative_to(ROOT)): bad
        for path in sorted(TESTS.rglob("*.py"))
        if (bad := [m for m in _imported_modules(path) if _forbidden(m)])
    }
    assert offenders == {}, "import shared helpers from tests.support instead"


def test_the_check_sees_the_imports_it_forbids() -> None:
    assert _forbidden("tests.conftest")
    assert _forbidden("tests.api.test_people")
    assert _forbidden("tests.api.test_people.invite")
    assert _forbidden(".conftest")
    assert not _forbidden("tests.support.factories")
    assert not _forbidden("app.services.invitations")


def test_every_test_folder_is_a_package_and_support_holds_no_tests() -> None:
    folders = {p.parent for p in TESTS.rglob("*.py") if "__pycache__" not in p.parts}
    assert [f for f in folders if not (f / "__init__.py").exists()] == []
    assert list((TESTS / "support").glob("test_*.py")) == []
