"""The chart with default values in a real cluster, end to end.

One release for the module; the tests run in file order and the last one
uninstalls it and checks what stays behind.
"""

from __future__ import annotations

import json
import secrets

import pytest
from kubernetes import client

from harness.app import ingress_request, service_name, service_proxy
from harness.fullstack import BackupVolume, run_backup, written_dump
from harness.kube import wait_until
from harness.release import HELM_TEST_CHECKS, Release, ReleaseFactory


@pytest.fixture(scope="module")
def release(release_factory: ReleaseFactory) -> Release:
    """The chart installed with its defaults (plus an Ingress host for this release)."""
    return release_factory()


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


def test_item_round_trip_through_frontend(
    release: Release, kube_api: client.ApiClient
) -> None:
    # The frontend Service's nginx proxies /api/ to the backend Service:
    # frontend -> backend -> PostgreSQL.
    frontend = service_name(kube_api, release, "frontend")
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
    # Run the CronJob now, as `kubectl create job --from=cronjob/...` does.
    backup = run_backup(kube_api, release)
    assert backup.succeeded, backup.logs
    dump = written_dump(backup)

    # Read that dump back with the same image, volumes and security context.
    with BackupVolume(kube_api, release) as volume:
        listing = volume.sh(f'pg_restore --list "/backups/{dump}"').stdout

    assert "TABLE public items" in listing, listing
    assert "TABLE DATA public items" in listing, listing


HELM_TEST_ANSWERS = {
    "backend health": "GET http://fs-fullstack-backend:8080/healthz answered ",
    "backend readiness (database reachable, schema ready)": (
        "GET http://fs-fullstack-backend:8080/readyz answered "
    ),
    "database": "SELECT 1 as app@fs-fullstack-postgresql:5432/app (sslmode "
    "prefer) returned '1' ",
    "frontend health": "GET http://fs-fullstack-frontend:80/healthz answered ",
    "frontend page": "GET http://fs-fullstack-frontend:80/ answered ",
}


def test_helm_test_passes_twice(release: Release) -> None:
    # A second run must not trip over the first run's pods (case C60).
    for _ in range(2):
        checks = release.helm_test()
        # Each check says what it asked and what it got.
        assert sorted(checks) == sorted(HELM_TEST_CHECKS), checks
        for name, start in HELM_TEST_ANSWERS.items():
            assert checks[name].startswith(start), checks[name]


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
