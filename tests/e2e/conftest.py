"""Fixtures of the end-to-end tier: a kind cluster, its API, and chart releases.

The cluster is created (or reused) once per session by harness.cluster.up(),
which also builds and loads the images. Test namespaces enforce Pod Security
"restricted"; each module's namespaces are deleted when the module ends
without waiting (deleting a namespace with volumes takes about 15 seconds),
and the session waits for all of them at its end.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from harness import cluster as harness_cluster
from harness.config import CHART_DIR
from harness.kube import dump_namespace, wait_for_workloads, wait_until
from harness.release import Release, ReleaseFactory, ingress_values, merge

# Pod Security "restricted" is enforced on every test namespace unless a test
# asks for another level (the opt-in root init container needs "baseline"): a
# chart pod that does not meet it is rejected by the API server.
POD_SECURITY_LABEL = "pod-security.kubernetes.io/enforce"


@pytest.fixture(scope="session")
def kind_cluster() -> harness_cluster.Cluster:
    """The kind cluster, created or reused, with images loaded and Traefik running."""
    return harness_cluster.up()


@pytest.fixture(scope="session")
def kube_api(kind_cluster: harness_cluster.Cluster) -> Iterator[client.ApiClient]:
    """An API client of the official kubernetes package for the cluster."""
    api = kind_cluster.api_client()
    yield api
    api.close()


@pytest.fixture(scope="session")
def deleted_namespaces(kube_api: client.ApiClient) -> Iterator[list[str]]:
    """Namespaces deleted by the modules; the session waits until they are gone."""
    names: list[str] = []
    yield names
    core = client.CoreV1Api(kube_api)
    wait_until(
        lambda: [
            ns.metadata.name
            for ns in core.list_namespace().items
            if ns.metadata.name in names
        ],
        lambda left: not left,
        what="deletion of the test namespaces",
        timeout=300,
    )


@pytest.fixture(scope="module")
def namespace_factory(
    kube_api: client.ApiClient, deleted_namespaces: list[str]
) -> Iterator[Callable[[str], str]]:
    """create(name, level) -> name: a namespace enforcing a Pod Security level.

    The namespaces are deleted when the module ends, without waiting; the
    session waits for all of them at its end (deleted_namespaces).
    """
    core = client.CoreV1Api(kube_api)
    created: list[str] = []

    def create(name: str, level: str = "restricted") -> str:
        labels = {POD_SECURITY_LABEL: level}
        core.create_namespace({"metadata": {"name": name, "labels": labels}})
        created.append(name)
        return name

    yield create

    for name in created:
        core.delete_namespace(name)
        deleted_namespaces.append(name)


@pytest.fixture(scope="module")
def release_factory(
    request: pytest.FixtureRequest,
    kind_cluster: harness_cluster.Cluster,
    kube_api: client.ApiClient,
    namespace_factory: Callable[..., str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ReleaseFactory]:
    """Install releases of the chart into fresh namespaces; uninstall them afterwards.

    Values go through a file, never --set (which mangles commas and backslashes,
    case C07). `chart` installs another copy of the chart (an earlier
    version); `prepare(namespace)` runs between creating the namespace and
    installing; `pod_security` is the namespace's enforced level. When a test
    of the module failed, the namespace is dumped.
    """
    releases: list[Release] = []
    failed_before = request.session.testsfailed

    def install(
        values: dict[str, Any] | None = None,
        *,
        wait: bool = True,
        chart: Path = CHART_DIR,
        prepare: Callable[[str], None] | None = None,
        pod_security: str = "restricted",
    ) -> Release:
        suffix = secrets.token_hex(3)
        namespace = f"e2e-{suffix}"
        namespace_factory(namespace, pod_security)
        if prepare:
            prepare(namespace)
        rel = Release(
            name="fs",
            namespace=namespace,
            host=f"{namespace}.fullstack.test",
            kubeconfig=str(kind_cluster.kubeconfig),
        )
        rel.values = merge(ingress_values(rel.host), values or {})
        values_file = tmp_path_factory.mktemp("values") / "values.yaml"
        values_file.write_text(yaml.safe_dump(rel.values))
        releases.append(rel)
        rel.helm("install", rel.name, chart, "--values", values_file, "--timeout", "5m")
        if wait:
            wait_for_workloads(kube_api, namespace)
        return rel

    yield install

    # When a test of this module failed, the namespace's state goes to the
    # terminal before teardown (failures of earlier modules do not count).
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    failed = request.session.testsfailed > failed_before
    for rel in releases:
        if failed and reporter:
            reporter.write_line(dump_namespace(rel.namespace, rel.kubeconfig))
        rel.helm("uninstall", rel.name, "--wait", "--timeout", "3m", check=False)
