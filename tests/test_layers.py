"""The layer contracts in pyproject.toml bite: an injected upward, sideways or heavy import
breaks `lint-imports` (which `make lint` runs), and the real tree keeps every contract."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGES = ("core", "advisor", "simulator", "prototype", "report", "pipeline", "ui")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_tree_keeps_every_contract():
    r = lint_imports(ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count(" KEPT") == 3 and "BROKEN" not in r.stdout


@pytest.mark.parametrize(
    ("module", "injected", "message"),
    [
        ("core/errors.py", "import pipeline.cli", "core is not allowed to import pipeline"),
        # sideways, and hidden inside a function: grimp still sees it
        (
            "simulator/model.py",
            "def _peek():\n    from advisor import recommend",
            "simulator is not allowed to import advisor",
        ),
        ("report/text.py", "import prototype.runner", "report is not allowed to import prototype"),
        (
            "simulator/model.py",
            "def _f():\n    import torch",
            "simulator is not allowed to import torch",
        ),
        (
            "report/text.py",
            "def _f():\n    import sklearn",
            "report is not allowed to import sklearn",
        ),
    ],
)
def test_an_injected_import_breaks_the_contract(tmp_path, module, injected, message):
    for p in PACKAGES:
        shutil.copytree(ROOT / p, tmp_path / p, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    with open(tmp_path / module, "a", encoding="utf-8") as f:
        f.write(f"\n\n{injected}  # noqa\n")
    r = lint_imports(tmp_path)
    assert r.returncode != 0
    assert message in " ".join(r.stdout.split())
