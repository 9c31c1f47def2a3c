"""Upgrading a release from the previous version of the chart (C13, C14, C01).

The previous version is the chart as the newest commit that changed
charts/fullstack left it, unless the working tree's chart is that commit's
exactly: then it is the commit before. It is taken from git, installed with
its defaults, given data, and upgraded to the working tree's chart under a
new version and appVersion, as a release would publish it: labels that carry
either (helm.sh/chart, app.kubernetes.io/version on objects without an image)
change, and no selector or volumeClaimTemplate may change with them (C13).
"""

from __future__ import annotations

import json
import logging
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from harness.app import add_item, item_names, item_round_trip
from harness.config import ROOT
from harness.fullstack import database_secret, restart_count
from harness.kube import wait_for_workloads
from harness.release import Release, ReleaseFactory
from harness.run import run

log = logging.getLogger("harness")
CHART_PATH = "charts/fullstack"


def previous_chart_commit() -> str:
    """Return the newest commit whose charts/fullstack differs from the working tree."""
    commits = run(["git", "log", "--format=%H", "--", CHART_PATH]).stdout.split()
    untracked = run(
        ["git", "ls-files", "--others", "--exclude-standard", "--", CHART_PATH]
    ).stdout.strip()
    for commit in commits:
        same = run(
            ["git", "diff", "--quiet", commit, "--", CHART_PATH], check=False
        ).returncode
        if same != 0 or untracked:
            return commit
    pytest.fail(
        f"no earlier version of {CHART_PATH} to upgrade from: the commits that "
        f"changed it ({', '.join(c[:12] for c in commits) or 'none'}) all hold the "
        "working tree's chart; the upgrade test needs a history with a previous "
        "chart version (a full clone, not a shallow one)"
    )


@pytest.fixture(scope="module")
def previous_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The previous chart version, exported from git into a temporary folder."""
    commit = previous_chart_commit()
    folder = tmp_path_factory.mktemp("previous-chart")
    archive = folder / "chart.tar"
    run(["git", "archive", "--format=tar", f"--output={archive}", commit, CHART_PATH])
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    changed = run(["git", "diff", "--stat", commit, "--", CHART_PATH], cwd=ROOT)
    log.info("upgrading from %s; chart changes since:\n%s", commit, changed.stdout)
    return folder / CHART_PATH


@pytest.fixture(scope="module")
def release(release_factory: ReleaseFactory, previous_chart: Path) -> Release:
    """A release of the previous chart version with its default values."""
    return release_factory(chart=previous_chart)


def workloads(api: client.ApiClient, release: Release) -> dict[str, dict[str, Any]]:
    """Each Deployment and StatefulSet: its pod template and its running pods."""
    apps = client.AppsV1Api(api)
    core = client.CoreV1Api(api)
    found = [
        *apps.list_namespaced_deployment(
            release.namespace, label_selector=release.selector()
        ).items,
        *apps.list_namespaced_stateful_set(
            release.namespace, label_selector=release.selector()
        ).items,
    ]
    state = {}
    for workload in found:
        labels = workload.spec.selector.match_labels
        selector = ",".join(f"{key}={value}" for key, value in labels.items())
        pods = core.list_namespaced_pod(release.namespace, label_selector=selector)
        state[f"{workload.kind}/{workload.metadata.name}"] = {
            "template": json.dumps(
                api.sanitize_for_serialization(workload.spec.template), sort_keys=True
            ),
            "pods": {
                pod.metadata.uid: restart_count(pod)
                for pod in pods.items
                if not pod.metadata.deletion_timestamp
            },
        }
    return state


def claims(api: client.ApiClient, release: Release) -> dict[str, str]:
    """Names and UIDs of the namespace's PersistentVolumeClaims."""
    return {
        claim.metadata.name: claim.metadata.uid
        for claim in client.CoreV1Api(api)
        .list_namespaced_persistent_volume_claim(release.namespace)
        .items
    }


@pytest.fixture(scope="module")
def next_chart(chart_copy_factory: Callable[..., Path]) -> Path:
    """The working tree's chart as a newer release: version and appVersion bumped."""
    return chart_copy_factory("99.0.0", app_version="99.0.0")


@pytest.mark.upgrade
def test_upgrade_from_the_previous_chart_keeps_data_and_restarts_only_changes(
    release: Release, kube_api: client.ApiClient, next_chart: Path
) -> None:
    # Data written with the previous chart, and what must survive the upgrade.
    written = [f"before-upgrade-{index}" for index in (1, 2)]
    for name in written:
        add_item(kube_api, release, name)
    secret = database_secret(kube_api, release)
    volumes = claims(kube_api, release)
    assert any(name.startswith("data-") for name in volumes), volumes
    before = workloads(kube_api, release)

    # Helm rejects a changed selector or volumeClaimTemplate here (C13).
    release.upgrade(release.values, chart=next_chart)
    wait_for_workloads(kube_api, release.namespace)

    # The data, the password and the volumes are the ones from before.
    assert set(written) <= set(item_names(kube_api, release))
    item_round_trip(kube_api, release, "after-upgrade")
    assert database_secret(kube_api, release) == secret
    assert claims(kube_api, release) == volumes
    status = release.status()
    assert (status["version"], status["info"]["status"]) == (2, "deployed")
    (listed,) = json.loads(release.helm("list", "--output", "json").stdout)
    assert (listed["chart"], listed["app_version"]) == ("fullstack-99.0.0", "99.0.0")
    # A workload whose pod template did not change keeps its pods (no needless
    # database restart); one whose template changed runs only new pods.
    after = workloads(kube_api, release)
    assert after.keys() == before.keys()
    for name, old in before.items():
        new = after[name]
        if new["template"] == old["template"]:
            assert new["pods"] == old["pods"], f"{name} restarted needlessly"
        else:
            log.info("%s has a new pod template: its pods rolled", name)
            assert not new["pods"].keys() & old["pods"].keys(), name
