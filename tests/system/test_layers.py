"""The package layout keeps its rules (../shared/ARCHITECTURE.md): the import contracts in
pyproject.toml ``[tool.importlinter]``, checked by import-linter on every test run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    linter = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(linter), "--no-cache"], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout and "6 kept" in done.stdout, done.stdout[-1500:]
