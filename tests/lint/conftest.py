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


def _runner(*command: str, timeout: int = 120) -> Run:
    """Return run(*args, cwd): the command with args in cwd; failures are returned."""

    def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*command, *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )

    return run


@pytest.fixture(scope="session")
def actionlint() -> Run:
    """Run the pinned actionlint (JSON output) in a folder."""
    return _runner(_tool("actionlint"), "-no-color", "-format", "{{json .}}")


@pytest.fixture(scope="session")
def zizmor() -> Run:
    """Run zizmor offline (JSON output) on paths inside a folder."""
    return _runner(_tool("zizmor"), "--offline", "--no-progress", "--format", "json")


@pytest.fixture(scope="session")
def policy() -> Run:
    """Run scripts/check_workflows.py on paths inside a folder."""
    return _runner(
        sys.executable, str(ROOT / "scripts" / "check_workflows.py"), timeout=60
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty repository folder with .github/workflows, for fixture workflows."""
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    return tmp_path
