"""The chart-testing scenarios (charts/fullstack/ci/*-values.yaml), installed here.

On GitHub `nox -s ct` installs each scenario with chart-testing; this module
installs the same files into the local kind cluster, so a scenario that no
longer installs fails here first. The defaults scenario is test_smoke.py's.
Each release must pass every check of its own `helm test` and store an item
through its backend.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from kubernetes import client

from harness.app import item_round_trip
from harness.config import CHART_DIR
from harness.release import HELM_TEST_CHECKS, Release, ReleaseFactory

SCENARIOS = sorted(
    path.name.removesuffix("-values.yaml")
    for path in (CHART_DIR / "ci").glob("*-values.yaml")
    if path.name != "default-values.yaml"
)


def scenario_values(name: str) -> dict[str, Any]:
    """The values of a chart-testing scenario."""
    return yaml.safe_load((CHART_DIR / "ci" / f"{name}-values.yaml").read_text())


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_installs_and_passes_helm_test(
    scenario: str, release_factory: ReleaseFactory, kube_api: client.ApiClient
) -> None:
    release: Release = release_factory(scenario_values(scenario))

    checks = release.helm_test(timeout="5m")

    assert sorted(checks) == sorted(HELM_TEST_CHECKS), checks
    item_round_trip(kube_api, release, scenario)
