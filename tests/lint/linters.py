"""Paths and types shared by the CI tests (conftest.py and the test modules)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable

from harness.config import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"

# A linter run: arguments, then the folder it runs in.
Run = Callable[..., subprocess.CompletedProcess[str]]
