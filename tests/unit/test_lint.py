"""`helm lint --strict` passes with Helm 4 and Helm 3, for the defaults and
every chart-testing scenario."""

from __future__ import annotations

import subprocess

import pytest

from harness.config import CHART_DIR, find_tool

SCENARIOS = [None, *sorted(p.name for p in (CHART_DIR / "ci").glob("*-values.yaml"))]


@pytest.fixture(scope="module")
def helm3() -> str:
    """Path of the Helm 3 binary; the test fails, never skips, without one."""
    found = find_tool("helm3", "HELM3")
    if found is None:
        pytest.fail(
            "helm3 not found: put it on PATH (scripts/tools.sh install helm3 builds"
            " the pinned one) or set HELM3"
        )
    return found


def _lint(helm: str, scenario: str | None) -> subprocess.CompletedProcess[str]:
    command = [helm, "lint", "--strict", str(CHART_DIR)]
    if scenario:
        command += ["--values", str(CHART_DIR / "ci" / scenario)]
    return subprocess.run(
        command, check=False, timeout=60, capture_output=True, text=True
    )


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s or "defaults")
@pytest.mark.parametrize("which", ["helm4", "helm3"])
def test_lint_strict(
    request: pytest.FixtureRequest, which: str, scenario: str | None
) -> None:
    # Helm 4 is the binary the tier renders with; Helm 3 the pinned build.
    helm = request.getfixturevalue("helm_binary" if which == "helm4" else "helm3")
    result = _lint(helm, scenario)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 chart(s) linted, 0 chart(s) failed" in result.stdout
    assert "[WARNING]" not in result.stdout
    assert "[ERROR]" not in result.stdout
