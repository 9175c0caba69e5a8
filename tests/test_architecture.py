"""core/ is PyTorch and numpy only, never streamlit: a benchmark, a script or
another front end can use it, and what a page shows can be tested without a
page. Checked twice: no module names streamlit in an import, and every module
imports with streamlit made unimportable (which also catches an import hidden
behind a helper or done through another package)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"
MODULES = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                 for p in CORE.rglob("*.py"))


def imported_names(path: Path) -> list[str]:
    """Every module name an import statement in `path` names (relative ones as written)."""
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


def test_the_walk_finds_the_core_modules():
    assert len(MODULES) > 20 and "core.data.files" in MODULES and "core.train.trainer" in MODULES


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_core_module_imports_streamlit(path):
    found = [n for n in imported_names(path) if n == "streamlit" or n.startswith("streamlit.")]
    assert not found, f"{path.relative_to(ROOT)} imports {found}"


def test_imported_names_sees_every_kind_of_import(tmp_path):
    f = tmp_path / "m.py"
    f.write_text("import streamlit as st\nfrom streamlit.testing import v1\ndef g():\n    import streamlit\n"
                 "from . import sibling\n", encoding="utf-8")
    assert sorted(imported_names(f)) == [".", "streamlit", "streamlit", "streamlit.testing"]


BLOCKED = """
import importlib, sys
sys.modules["streamlit"] = None  # any `import streamlit` now raises ImportError
failed = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as e:
        failed.append(f"{name}: {type(e).__name__}: {e}")
assert "streamlit" not in [m for m in sys.modules if sys.modules[m] is not None], "streamlit got imported"
print("\\n".join(failed))
sys.exit(1 if failed else 0)
"""


def import_blocked(*modules: str) -> subprocess.CompletedProcess:
    """Import `modules` in a fresh interpreter where streamlit cannot be imported."""
    return subprocess.run([sys.executable, "-c", BLOCKED, *modules], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def test_every_core_module_imports_without_streamlit():
    result = import_blocked(*MODULES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_block_catches_a_module_that_needs_streamlit():
    result = import_blocked("core.data.files", "playground.state")
    assert result.returncode == 1, result.stdout
    assert result.stdout.splitlines() == [
        "playground.state: ModuleNotFoundError: import of streamlit halted; None in sys.modules"]
