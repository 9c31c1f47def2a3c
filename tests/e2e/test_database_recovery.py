"""PostgreSQL stopped without warning while items are written (C24, C19).

Two blows, one after the other, while a writer thread keeps adding items
through the backend: the server is stopped in `immediate` mode (no
checkpoint, so the next start replays the WAL: crash recovery), then the pod
is force-deleted (`--grace-period=0 --force`) and the StatefulSet makes a new
one on the same volume. Every item the backend acknowledged must still be
there, writes must resume on their own, and no liveness probe may fail on
the way. The recovery here is short (little data); that the probes give a
long one its time is a render test (tests/unit/test_postgresql.py).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest
import urllib3
from kubernetes import client

from harness.app import service_name, service_proxy
from harness.cluster import Cluster
from harness.fullstack import postgres_exec, postgres_pod, psql
from harness.kube import wait_until
from harness.release import Release, ReleaseFactory

log = logging.getLogger("harness")


@pytest.fixture(scope="module")
def release(release_factory: ReleaseFactory) -> Release:
    """The chart with its defaults."""
    return release_factory()


class Writer:
    """Adds items through the backend Service until stopped; keeps the acknowledged."""

    def __init__(self, api: client.ApiClient, release: Release) -> None:
        self.api = api
        self.release = release
        self.backend = service_name(api, release, "backend")
        self.acknowledged: list[str] = []
        self.refused = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._write, daemon=True)

    def _write(self) -> None:
        number = 0
        while not self._stop.is_set():
            name = f"written-{number}"
            number += 1
            try:
                status, _ = service_proxy(
                    self.api,
                    self.release,
                    self.backend,
                    "POST",
                    "api/items",
                    {"name": name},
                )
            except (urllib3.exceptions.HTTPError, OSError):
                status = 0  # a dropped connection counts as a refusal
            if status == 201:
                self.acknowledged.append(name)
                self._stop.wait(0.05)
            else:
                self.refused += 1
                self._stop.wait(0.2)

    def __enter__(self) -> Writer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop writing; return once the last request has ended."""
        self._stop.set()
        self._thread.join(timeout=30)

    def wait_for(self, more: int, what: str) -> None:
        """Wait until `more` items beyond the present ones are acknowledged."""
        goal = len(self.acknowledged) + more
        wait_until(
            lambda: len(self.acknowledged),
            lambda count: count >= goal,
            what=f"{more} acknowledged writes {what}",
            timeout=180,
            interval=0.5,
        )


@pytest.fixture
def writer(kind_cluster: Cluster, release: Release) -> Iterator[Writer]:
    """A writer with its own API client (the main thread's one stays its own)."""
    api = kind_cluster.api_client()
    with Writer(api, release) as running:
        yield running
    api.close()


def liveness_failures(api: client.ApiClient, release: Release) -> list[str]:
    """Events of the namespace that report a failed liveness probe of PostgreSQL."""
    events = client.CoreV1Api(api).list_namespaced_event(release.namespace).items
    return [
        f"{event.involved_object.name}: {event.reason}: {event.message}"
        for event in events
        if "-postgresql-" in (event.involved_object.name or "")
        and "liveness" in (event.message or "").lower()
    ]


def postgres_pods(api: client.ApiClient, release: Release) -> list[client.V1Pod]:
    """The release's PostgreSQL pods that are not being deleted (none or one)."""
    pods = client.CoreV1Api(api).list_namespaced_pod(
        release.namespace, label_selector=release.selector("postgresql")
    )
    return [pod for pod in pods.items if not pod.metadata.deletion_timestamp]


def ready(pod: client.V1Pod) -> bool:
    conditions = pod.status.conditions or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def server_restarts(pod: client.V1Pod) -> int:
    """Restarts of the postgresql container (not of init containers)."""
    return sum(
        status.restart_count
        for status in pod.status.container_statuses or []
        if status.name == "postgresql"
    )


def test_acknowledged_writes_survive_a_crash_and_a_forced_pod_deletion(
    release: Release, kube_api: client.ApiClient, writer: Writer
) -> None:
    core = client.CoreV1Api(kube_api)
    writer.wait_for(20, "before the crash")

    # 1. Stop the server without a checkpoint: the container exits, the
    # kubelet restarts it and PostgreSQL replays its WAL.
    pod = postgres_pod(kube_api, release)
    restarts = server_restarts(pod)
    postgres_exec(
        kube_api,
        release,
        "sh",
        "-c",
        'pg_ctl stop --mode=immediate --pgdata="$PGDATA"',
        check=False,  # the exec may lose its container before it reports
    )
    wait_until(
        lambda: core.read_namespaced_pod(pod.metadata.name, release.namespace),
        lambda found: server_restarts(found) > restarts and ready(found),
        what="PostgreSQL restarted and ready after the immediate stop",
        timeout=300,
        describe=lambda found: (
            f"restarts {server_restarts(found)}, ready {ready(found)}"
        ),
    )
    server_log = core.read_namespaced_pod_log(
        pod.metadata.name, release.namespace, container="postgresql"
    )
    assert "automatic recovery in progress" in server_log, server_log
    writer.wait_for(10, "after crash recovery")

    # 2. Force-delete the pod, as `kubectl delete --grace-period=0 --force`.
    core.delete_namespaced_pod(
        pod.metadata.name,
        release.namespace,
        grace_period_seconds=0,
        body=client.V1DeleteOptions(grace_period_seconds=0),
    )
    (new_pod,) = wait_until(
        lambda: postgres_pods(kube_api, release),
        lambda found: (
            len(found) == 1
            and found[0].metadata.uid != pod.metadata.uid
            and ready(found[0])
        ),
        what="a new PostgreSQL pod, ready",
        timeout=300,
        describe=lambda found: str([(p.metadata.uid, ready(p)) for p in found]),
    )
    writer.wait_for(10, "on the new pod")
    writer.stop()
    log.info(
        "writes: %d acknowledged, %d refused during the outages",
        len(writer.acknowledged),
        writer.refused,
    )

    # Nothing acknowledged is lost (all rows: the API lists only the newest
    # 100); the writer saw the outages.
    stored = set(psql(kube_api, release, "SELECT name FROM items;").splitlines())
    lost = [name for name in writer.acknowledged if name not in stored]
    assert not lost, f"{len(lost)} acknowledged items lost: {lost[:10]}"
    assert writer.refused > 0, "the writer never noticed the database going away"
    # The new pod uses the same claim (the StatefulSet's volumeClaimTemplate).
    claims = [
        volume.persistent_volume_claim.claim_name
        for volume in new_pod.spec.volumes
        if volume.persistent_volume_claim
    ]
    assert claims == [f"data-{pod.metadata.name}"], claims
    # Recovery ran under the probes without a single liveness failure.
    assert liveness_failures(kube_api, release) == []
