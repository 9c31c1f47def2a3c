"""The chart with default values in a real cluster, end to end.

One release for the module; the tests run in file order and the last one
uninstalls it and checks what stays behind.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from harness.kube import wait_for_job, wait_until
from harness.release import Release, ReleaseFactory


@pytest.fixture(scope="module")
def release(release_factory: ReleaseFactory) -> Release:
    """The chart installed with its defaults (plus an Ingress host for this release)."""
    return release_factory()


def ingress_request(
    release: Release,
    port: int,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> tuple[int, str]:
    """Send a request through Traefik on the host port, with the release's host name."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method=method,
        headers={"Host": release.host, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def workload(
    kube_api: client.ApiClient, release: Release, component: str
) -> dict[str, Any]:
    """Return the names the chart gave a component's objects, read from the cluster."""
    selector = (
        f"app.kubernetes.io/instance={release.name},"
        f"app.kubernetes.io/component={component}"
    )
    services = (
        client.CoreV1Api(kube_api)
        .list_namespaced_service(release.namespace, label_selector=selector)
        .items
    )
    return {"services": sorted(s.metadata.name for s in services)}


def test_frontend_page_through_ingress(release: Release, kind_cluster) -> None:
    # The Ingress route may need a moment after the pods are ready.
    _, body = wait_until(
        lambda: ingress_request(release, kind_cluster.http_port, "GET", "/"),
        lambda result: result[0] == 200,
        what=f"GET / on {release.host}",
        timeout=60,
        interval=1,
    )

    assert "<title>fullstack</title>" in body


def test_item_round_trip_through_ingress(release: Release, kind_cluster) -> None:
    name = f"item-{secrets.token_hex(4)}"

    status, body = ingress_request(
        release, kind_cluster.http_port, "POST", "/api/items", {"name": name}
    )
    assert status == 201, body
    created = json.loads(body)
    status, body = ingress_request(release, kind_cluster.http_port, "GET", "/api/items")

    assert status == 200, body
    assert created in json.loads(body)


def service_proxy(
    kube_api: client.ApiClient,
    release: Release,
    service: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> tuple[int, str]:
    """Send a request to a Service through the API server's service proxy.

    The generated CoreV1Api proxy methods of the kubernetes client take no
    request body, so the request goes through the client's ApiClient directly.
    """
    request = kube_api.param_serialize(
        method,
        f"/api/v1/namespaces/{release.namespace}/services/{service}:http/proxy/{path}",
        header_params={"Content-Type": "application/json"},
        body=body,
        auth_settings=["BearerToken"],
    )
    try:
        response = kube_api.call_api(*request, _request_timeout=10)
    except ApiException as exc:
        return exc.status, str(exc.body)
    response.read()
    return response.status, response.data.decode()


def test_item_round_trip_through_frontend(
    release: Release, kube_api: client.ApiClient
) -> None:
    # The frontend Service's nginx proxies /api/ to the backend Service:
    # frontend -> backend -> PostgreSQL.
    (frontend,) = workload(kube_api, release, "frontend")["services"]
    name = f"via-frontend-{secrets.token_hex(4)}"

    status, body = service_proxy(
        kube_api, release, frontend, "POST", "api/items", {"name": name}
    )
    assert status == 201, body
    status, body = service_proxy(kube_api, release, frontend, "GET", "api/items")

    assert status == 200, body
    assert name in [item["name"] for item in json.loads(body)]


def test_backup_dump_is_restorable(
    release: Release, kube_api: client.ApiClient
) -> None:
    batch = client.BatchV1Api(kube_api)
    (cronjob,) = batch.list_namespaced_cron_job(
        release.namespace, label_selector=f"app.kubernetes.io/instance={release.name}"
    ).items

    # Run the CronJob now, as `kubectl create job --from=cronjob/...` does.
    job = client.V1Job(
        metadata=client.V1ObjectMeta(name=f"manual-{secrets.token_hex(3)}"),
        spec=cronjob.spec.job_template.spec,
    )
    job = batch.create_namespaced_job(release.namespace, job)
    wait_for_job(kube_api, release.namespace, job.metadata.name, timeout=300)

    # Read the newest dump back with the same image, volumes and security context.
    pod_spec = cronjob.spec.job_template.spec.template.spec
    container = pod_spec.containers[0]
    container.command = [
        "/bin/bash",
        "-c",
        'f=$(ls -1t /backups/*.dump | head -n1); echo "dump: $f"; '
        'pg_restore --list "$f"',
    ]
    container.args = None
    check = client.V1Job(
        metadata=client.V1ObjectMeta(name=f"verify-{secrets.token_hex(3)}"),
        spec=client.V1JobSpec(
            backoff_limit=0, template=client.V1PodTemplateSpec(spec=pod_spec)
        ),
    )
    check = batch.create_namespaced_job(release.namespace, check)
    wait_for_job(kube_api, release.namespace, check.metadata.name, timeout=180)
    core = client.CoreV1Api(kube_api)
    (pod,) = core.list_namespaced_pod(
        release.namespace, label_selector=f"job-name={check.metadata.name}"
    ).items
    listing = core.read_namespaced_pod_log(pod.metadata.name, release.namespace)

    assert "TABLE public items" in listing, listing
    assert "TABLE DATA public items" in listing, listing


def test_helm_test_passes_twice(release: Release) -> None:
    # A second run must not trip over the first run's pods (CASES.md C60).
    for _ in range(2):
        result = release.helm("test", release.name, "--logs", "--timeout", "3m")
        assert "Phase:          Succeeded" in result.stdout, result.stdout
        assert "Failed" not in result.stdout, result.stdout


def test_uninstall_keeps_data_and_credentials(
    release: Release, kube_api: client.ApiClient
) -> None:
    core = client.CoreV1Api(kube_api)
    apps = client.AppsV1Api(kube_api)
    selector = f"app.kubernetes.io/instance={release.name}"
    claims_before = {
        p.metadata.name
        for p in core.list_namespaced_persistent_volume_claim(release.namespace).items
    }

    release.helm("uninstall", release.name, "--wait", "--timeout", "3m")

    # Workloads, Services and ConfigMaps go; what README.md says stays, stays:
    # the database and backup volumes and the database Secret.
    assert (
        apps.list_namespaced_deployment(
            release.namespace, label_selector=selector
        ).items
        == []
    )
    assert (
        apps.list_namespaced_stateful_set(
            release.namespace, label_selector=selector
        ).items
        == []
    )
    assert (
        core.list_namespaced_service(release.namespace, label_selector=selector).items
        == []
    )
    assert (
        core.list_namespaced_config_map(
            release.namespace, label_selector=selector
        ).items
        == []
    )
    claims_after = {
        p.metadata.name
        for p in core.list_namespaced_persistent_volume_claim(release.namespace).items
    }
    assert claims_after == claims_before
    assert any(name.startswith("data-") for name in claims_after), claims_after
    assert any(name.endswith("-backup") for name in claims_after), claims_after
    secrets_left = core.list_namespaced_secret(
        release.namespace, label_selector=selector
    ).items
    assert [s.metadata.name for s in secrets_left] == [
        f"{release.name}-fullstack-postgresql"
    ]
