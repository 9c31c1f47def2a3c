"""Fixtures of the CI tests: the workflow linters, run as `nox -s lint` runs them.

actionlint comes from scripts/tools.sh (built by `nox -s unit`), zizmor from
the lint dependency group. A missing linter fails the tests with a message
saying how to get it: skipping would let them pass without checking anything.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from linters import ROOT, Run


def _tool(name: str) -> str:
    """Return the path of a linter: the pinned build, or the session's own."""
    if name == "actionlint":
        folder = subprocess.run(
            ["bash", str(ROOT / "scripts" / "tools.sh"), "dir", name],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
        found = Path(folder) / name
        if found.is_file():
            return str(found)
        pytest.fail(f"{name} is not built: run `scripts/tools.sh install {name}`")
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.is_file() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run the tests with `nox -s unit`")
    return found


@pytest.fixture(scope="session")
def actionlint() -> Run:
    """Run the pinned actionlint (JSON output) in a folder."""
    binary = _tool("actionlint")

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, "-no-color", "-format", "{{json .}}", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    return run


@pytest.fixture(scope="session")
def zizmor() -> Run:
    """Run zizmor offline (JSON output) on paths inside a folder."""
    binary = _tool("zizmor")

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [binary, "--offline", "--no-progress", "--format", "json", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )

    return run


@pytest.fixture(scope="session")
def policy() -> Run:
    """Run scripts/check_workflows.py on paths inside a folder."""

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "check_workflows.py"), *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )

    return run


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty repository folder with .github/workflows, for fixture workflows."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    return tmp_path
