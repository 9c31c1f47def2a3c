"""Storage that ignores fsGroup: the opt-in volumePermissions init container (C21).

kind's local-path volumes are created world-writable, which would let the
database start whatever the chart does. These tests take that away: a volume
is prepared owned by root with mode 0700 (what storage that ignores fsGroup
gives a non-root pod) and handed to the chart as an existing claim. Without
volumePermissions PostgreSQL cannot create its data directory; with it, the
root init container gives the volume to the database user first, and the
backup's init container does the same for a prepared backup volume. The init
containers run as root, so these namespaces enforce Pod Security "baseline".
"""

from __future__ import annotations

from collections.abc import Callable

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from harness.app import item_round_trip
from harness.config import postgres_image
from harness.fullstack import postgres_pod, wait_for_initial_dump
from harness.kube import job_logs, pod_log, run_job, wait_until
from harness.release import Release, ReleaseFactory

CLAIM = "prepared-data"
BACKUP_CLAIM = "prepared-backups"
# Only the database: no backup Job waiting for it, no Ingress needed.
VALUES = {
    "backup": {"enabled": False},
    "postgresql": {"persistence": {"existingClaim": CLAIM}},
}


def root_owned_volume(api: client.ApiClient, *claims: str) -> Callable[[str], None]:
    """prepare(namespace): create each claim (CLAIM by default), root:root 0700."""

    def prepare(namespace: str) -> None:
        for claim in claims or (CLAIM,):
            root_owned_claim(api, namespace, claim)

    return prepare


def root_owned_claim(api: client.ApiClient, namespace: str, claim: str) -> None:
    """Create a claim whose volume root is owned by root with mode 0700."""
    client.CoreV1Api(api).create_namespaced_persistent_volume_claim(
        namespace,
        {
            "metadata": {"name": claim},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    container = {
        "name": "prepare",
        "image": postgres_image(),
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-ec", "chown 0:0 /data; chmod 0700 /data; ls -ldn /data"],
        "securityContext": {"runAsUser": 0, "allowPrivilegeEscalation": False},
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
    }
    spec = {
        "backoffLimit": 0,
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "containers": [container],
                "volumes": [
                    {"name": "data", "persistentVolumeClaim": {"claimName": claim}}
                ],
            }
        },
    }
    job = run_job(api, namespace, f"prepare-{claim}", spec, timeout=180)
    assert job.succeeded, job.logs
    mode, _, owner, group, *_ = job.logs.split()
    assert (mode, owner, group) == ("drwx------", "0", "0"), job.logs


def test_without_volume_permissions_the_database_cannot_start(
    release_factory: ReleaseFactory, kube_api: client.ApiClient
) -> None:
    # Negative control: the prepared volume really is unusable for uid 999.
    release = release_factory(
        VALUES,
        wait=False,
        prepare=root_owned_volume(kube_api),
        pod_security="baseline",
    )
    core = client.CoreV1Api(kube_api)

    def postgres_log() -> str:
        # Installed without waiting: the StatefulSet may not have made its pod
        # yet, or the container may not have started.
        pods = core.list_namespaced_pod(
            release.namespace, label_selector=release.selector("postgresql")
        ).items
        if not pods:
            return ""
        try:
            return pod_log(
                kube_api,
                release.namespace,
                pods[0].metadata.name,
                container="postgresql",
            )
        except ApiException:
            return ""

    log = wait_until(
        postgres_log,
        lambda text: "Permission denied" in text,
        what=f"PostgreSQL of {release.namespace} failing on its data directory",
        timeout=180,
    )

    # The failure names the volume's mount point (GNU mkdir -p reports the
    # first component it cannot enter, not PGDATA itself).
    assert "/var/lib/postgresql/data" in log, log


def test_volume_permissions_hands_the_volumes_to_the_database_and_backups(
    release_factory: ReleaseFactory, kube_api: client.ApiClient
) -> None:
    release: Release = release_factory(
        {
            "postgresql": {
                **VALUES["postgresql"],
                "volumePermissions": {"enabled": True},
            },
            "backup": {
                "persistence": {"existingClaim": BACKUP_CLAIM},
                "volumePermissions": {"enabled": True},
            },
        },
        prepare=root_owned_volume(kube_api, CLAIM, BACKUP_CLAIM),
        pod_security="baseline",
    )

    # The workloads are ready (the factory waited): the database started on
    # the prepared volume, and the app can write and read through it.
    pod = postgres_pod(kube_api, release)
    statuses = {s.name: s for s in pod.status.init_container_statuses or []}
    assert statuses["volume-permissions"].state.terminated.exit_code == 0
    item_round_trip(kube_api, release, "volume-permissions")
    # The install-time dump was written to the prepared backup volume.
    job = wait_for_initial_dump(kube_api, release)
    logs = job_logs(kube_api, release.namespace, job.metadata.name)
    assert "backup: wrote " in logs, logs
