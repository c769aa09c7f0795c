"""Project-wide rules: the layering contracts hold and the code is lint-clean."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    exe = Path(sys.executable).with_name(name)
    return str(exe) if exe.exists() else (shutil.which(name) or name)


def test_layers_respect_import_contracts():
    run = subprocess.run([_tool("lint-imports")], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 3 kept, 0 broken" in run.stdout


def test_ruff_clean():
    run = subprocess.run([_tool("ruff"), "check", "rnnviz", "tests", "tools"], cwd=ROOT,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_package_is_listed_for_installation():
    """A normal (non-editable) install ships only the packages pyproject lists."""
    import re

    block = re.search(r"^packages = \[(.*?)\]", (ROOT / "pyproject.toml").read_text(),
                      re.S | re.M)
    listed = set(re.findall(r'"([\w.]+)"', block.group(1)))
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "rnnviz").rglob(
        "__init__.py")}
    assert found | {"rnnviz.resources"} == listed
