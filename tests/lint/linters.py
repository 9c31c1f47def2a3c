"""Paths and types shared by the CI tests (conftest.py and the test modules)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"

# A linter run: arguments, then the folder it runs in.
Run = Callable[..., subprocess.CompletedProcess[str]]
