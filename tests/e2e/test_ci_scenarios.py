"""The chart-testing scenarios (charts/fullstack/ci/*-values.yaml), installed here.

On GitHub `nox -s ct` installs each scenario with chart-testing; this module
installs the same files into this machine's cluster, so a scenario that no
longer installs fails here first. The defaults scenario is test_smoke.py's.
Each release must pass its own `helm test` and store an item through its
backend.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from kubernetes import client

from harness.app import item_round_trip
from harness.config import CHART_DIR
from harness.release import Release, ReleaseFactory

SCENARIOS = sorted(
    path.name.removesuffix("-values.yaml")
    for path in (CHART_DIR / "ci").glob("*-values.yaml")
    if path.name != "default-values.yaml"
)


def scenario_values(name: str) -> dict[str, Any]:
    return yaml.safe_load((CHART_DIR / "ci" / f"{name}-values.yaml").read_text())


def test_every_scenario_but_the_defaults_is_installed_here() -> None:
    # A renamed or added scenario file is picked up, not silently dropped.
    assert SCENARIOS == ["external-database", "production"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario_installs_and_passes_helm_test(
    scenario: str, release_factory: ReleaseFactory, kube_api: client.ApiClient
) -> None:
    release: Release = release_factory(scenario_values(scenario))

    result = release.helm("test", release.name, "--logs", "--timeout", "5m")

    assert "Phase:          Succeeded" in result.stdout, result.stdout
    assert "Failed" not in result.stdout, result.stdout
    item_round_trip(kube_api, release, scenario)
