"""PostgreSQL crashes while items are written, and its pod is replaced (C24, C19).

A writer thread keeps adding items through the backend. First a server
process is killed: the postmaster ends every session and replays the WAL
written since the last checkpoint (crash recovery) while the container keeps
running, so the liveness probe is checked throughout. The release makes that
test sharp: its liveness probe runs every second and restarts after two
failures, and a gigabyte of WAL with no checkpoint keeps the server from
accepting connections for longer than that (measured from the server's log,
and required). A liveness probe that took "in recovery" for dead would
restart the container in the middle of it. Then the pod is deleted, and the
StatefulSet's new pod opens the same volume. Every item the backend
acknowledged must survive both.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import urllib3
from kubernetes import client

from harness.app import service_name, service_proxy
from harness.cluster import Cluster
from harness.fullstack import postgres_exec, postgres_pod, psql, restart_count
from harness.kube import pod_log, wait_until
from harness.release import Release, ReleaseFactory

log = logging.getLogger("harness")

# A strict liveness probe: checked every second, two failed checks restart the
# container. (Its timeout stays generous: a busy two-core machine can take
# more than a second to run any exec probe.)
STRICT_LIVENESS = {"periodSeconds": 1, "timeoutSeconds": 5, "failureThreshold": 2}
VALUES: dict[str, Any] = {
    "frontend": {"enabled": False},
    "ingress": {"enabled": False},
    "tests": {"enabled": False},
    "backup": {"enabled": False},
    "postgresql": {
        "probes": {"liveness": STRICT_LIVENESS},
        # No checkpoint between the ballast and the crash: all of it is replayed.
        "parameters": {"max_wal_size": "8GB", "checkpoint_timeout": "1h"},
    },
}
# Rows of the ballast table written just before the crash (about 1 GB of WAL).
BALLAST_ROWS = 10_000_000
# The replay must outlast this many liveness checks for the test to mean anything.
CHECKS_DURING_RECOVERY = 3


@pytest.fixture(scope="module")
def release(release_factory: ReleaseFactory) -> Release:
    """The backend and PostgreSQL with a strict liveness probe and no checkpoints."""
    return release_factory(VALUES)


class Writer:
    """Adds items through the backend Service until stopped; keeps the acknowledged."""

    def __init__(self, api: client.ApiClient, release: Release) -> None:
        self.api = api
        self.release = release
        self.backend = service_name(api, release, "backend")
        self.acknowledged: list[str] = []
        self.refused = 0
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self._write()
        except BaseException as exc:  # reported by wait_for and stop
            self.error = exc

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
        assert not self._thread.is_alive(), "the writer did not stop within 30s"
        assert self.error is None, f"the writer failed: {self.error!r}"

    def wait_for(self, more: int, what: str) -> None:
        """Wait until `more` items beyond the present ones are acknowledged."""
        goal = len(self.acknowledged) + more
        wait_until(
            lambda: len(self.acknowledged),
            lambda count: count >= goal,
            what=f"{more} acknowledged writes {what}",
            timeout=180,
            interval=0.5,
            failed=lambda _: (
                f"the writer failed: {self.error!r}" if self.error else None
            ),
        )


@pytest.fixture
def writer(kind_cluster: Cluster, release: Release) -> Iterator[Writer]:
    """A writer with its own API client (the main thread keeps its own)."""
    api = kind_cluster.api_client()
    running = Writer(api, release)
    with running:
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


def ready(pod: client.V1Pod) -> bool:
    """Whether the pod's Ready condition is True."""
    conditions = pod.status.conditions or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def live_postgres_pods(api: client.ApiClient, release: Release) -> list[client.V1Pod]:
    """The release's PostgreSQL pods that are not being deleted (none or one)."""
    pods = client.CoreV1Api(api).list_namespaced_pod(
        release.namespace, label_selector=release.selector("postgresql")
    )
    return [pod for pod in pods.items if not pod.metadata.deletion_timestamp]


def server_log(api: client.ApiClient, pod: client.V1Pod) -> str:
    """The log of the pod's running postgresql container."""
    return pod_log(
        api, pod.metadata.namespace, pod.metadata.name, container="postgresql"
    )


# A log line's timestamp (log_line_prefix '%m [%p] ', PostgreSQL's default).
STAMP = r"^(?P<{}>\d{{4}}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{{3}}) \S+ \[\d+\] "
CRASH_RECOVERY = re.compile(
    STAMP.format("crashed")
    + r"LOG:  all server processes terminated; reinitializing\n.*?"
    + r"redo done at .*?\n.*?"
    + STAMP.format("ready")
    + r"LOG:  database system is ready to accept connections",
    re.DOTALL | re.MULTILINE,
)


def outage_seconds(text: str) -> float | None:
    """Seconds from the crash restart to accepting connections again, once logged."""
    found = CRASH_RECOVERY.search(text)
    if not found:
        return None
    crashed, ready_at = (
        datetime.fromisoformat(found[group]) for group in ("crashed", "ready")
    )
    return (ready_at - crashed).total_seconds()


def test_acknowledged_writes_survive_a_crash_recovery_and_a_new_pod(
    release: Release, kube_api: client.ApiClient, writer: Writer
) -> None:
    core = client.CoreV1Api(kube_api)
    pod = postgres_pod(kube_api, release)
    restarts = restart_count(pod, "postgresql")
    writer.wait_for(20, "before the crash")

    # 1. WAL to replay, then a server process killed: crash recovery in place.
    psql(
        kube_api,
        release,
        "CREATE TABLE ballast AS SELECT g, md5(g::text) AS filler "
        f"FROM generate_series(1, {BALLAST_ROWS}) AS g;",
        timeout=300,
    )
    killed = postgres_exec(
        kube_api,
        release,
        "sh",
        "-c",
        "kill -KILL $(psql --username=postgres --no-psqlrc --tuples-only "
        '--command="SELECT pid FROM pg_stat_activity WHERE backend_type = '
        "'checkpointer'\")",
        check=False,  # reported by the assertion, with psql's or kill's error
    )
    assert killed.returncode == 0, killed.stderr
    outage = outage_seconds(
        wait_until(
            lambda: server_log(kube_api, pod),
            lambda text: outage_seconds(text) is not None,
            what="PostgreSQL's crash recovery",
            timeout=300,
            failed=lambda _: "; ".join(liveness_failures(kube_api, release)),
            describe=lambda text: text[-2000:],
        )
    )
    assert outage is not None
    log.info("crash recovery: no connections accepted for %.1fs", outage)
    assert outage >= CHECKS_DURING_RECOVERY * STRICT_LIVENESS["periodSeconds"], (
        f"the recovery took {outage}s: too short to show that the liveness "
        "probe leaves it alone; raise BALLAST_ROWS"
    )
    writer.wait_for(10, "after crash recovery")
    after_crash = core.read_namespaced_pod(pod.metadata.name, release.namespace)
    assert restart_count(after_crash, "postgresql") == restarts, "it was restarted"

    # 2. A new pod of the StatefulSet opens the same volume.
    core.delete_namespaced_pod(pod.metadata.name, release.namespace)
    wait_until(
        lambda: live_postgres_pods(kube_api, release),
        lambda found: (
            len(found) == 1
            and found[0].metadata.uid != pod.metadata.uid
            and ready(found[0])
        ),
        what="a new PostgreSQL pod, ready",
        timeout=300,
        describe=lambda found: str([(p.metadata.name, ready(p)) for p in found]),
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
    # No liveness probe failed, during the recovery or after.
    assert liveness_failures(kube_api, release) == []
