"""Backup CronJob, install-time dump and restore Job (C27-C32, C35, C36).

What the dump and restore scripts do (a failed or invalid dump leaves no file,
retention by count and age, the install-time run never prunes, a restore by
file name, a missing dump listed) is tested with the real pg_dump, pg_restore
and backup volume in tests/e2e/test_backups.py; here only what a render shows.
"""

from __future__ import annotations

import pytest
from helm_render import Manifests, container, env_entries, env_values, pod_spec

CRONJOB = "rel-fullstack-backup"
SERVER_IMAGE = "docker.io/library/postgres:18.6"


def test_cronjob_defaults(default_manifests: Manifests) -> None:
    # C32: no overlapping runs, every run bounded, history kept.
    cronjob = default_manifests.get("CronJob", CRONJOB)
    spec = cronjob["spec"]
    job = spec["jobTemplate"]["spec"]

    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["startingDeadlineSeconds"] == 600
    assert spec["successfulJobsHistoryLimit"] == 3
    assert spec["failedJobsHistoryLimit"] == 3
    assert spec["schedule"] == "30 2 * * *"
    assert job["activeDeadlineSeconds"] == 3600
    assert job["backoffLimit"] == 1
    assert job["template"]["spec"]["restartPolicy"] == "Never"


@pytest.mark.parametrize(
    ("values", "image"),
    [
        ({}, SERVER_IMAGE),
        ({"postgresql": {"image": {"tag": "18.7"}}}, "docker.io/library/postgres:18.7"),
        (
            {"global": {"imageRegistry": "mirror.example.test"}},
            "mirror.example.test/library/postgres:18.6",
        ),
        ({"backup": {"image": {"tag": "19.1"}}}, "docker.io/library/postgres:19.1"),
    ],
    ids=["default", "server-tag", "global-registry", "newer-client"],
)
def test_backup_image_follows_the_server_image(
    render, values: dict, image: str
) -> None:
    # C29: by default the exact PostgreSQL image, so pg_dump matches the server.
    manifests = render(values)
    statefulset = manifests.get("StatefulSet", "rel-fullstack-postgresql")

    assert container(manifests.get("CronJob", CRONJOB), "backup")["image"] == image
    if "backup" not in values:
        assert container(statefulset, "postgresql")["image"] == image


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        (
            "15",
            'backup.image.tag: pg_dump 15 ("15") is older than the PostgreSQL 18 '
            "server and cannot dump it; use a tag with major 18 or higher, or leave "
            "backup.image.tag empty to use postgresql.image.",
        ),
        (
            "bookworm",
            'backup.image.tag: "bookworm" does not start with the PostgreSQL major '
            "version, so it cannot be checked against the server; use a tag such as "
            '"18.6", or leave backup.image.tag empty to use postgresql.image.',
        ),
    ],
)
def test_backup_image_older_than_server_fails(
    render_error, tag: str, message: str
) -> None:
    error = render_error({"backup": {"image": {"tag": tag}}})

    assert error == f"fullstack: 1 problem in the values:\n- {message}"


def test_backup_uses_the_backend_connection(render) -> None:
    # C27/C28: same host, Service port (not the container port), Secret and key.
    manifests = render({"postgresql": {"service": {"port": 5433}}})
    backend = container(manifests.get("Deployment", "rel-fullstack-backend"), "backend")
    backup = container(manifests.get("CronJob", CRONJOB), "backup")
    names = ("PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD", "PGSSLMODE")

    for name in names:
        assert env_entries(backup)[name] == env_entries(backend)[name]
    assert env_values(backup)["PGHOST"] == "rel-fullstack-postgresql"
    assert env_values(backup)["PGPORT"] == "5433"


def test_backup_never_mounts_the_database_volume(default_manifests: Manifests) -> None:
    # C35: the dump goes over the network; only the backup claim is mounted.
    for kind in ("CronJob", "Job"):
        for doc in default_manifests.of_kind(kind):
            volumes = pod_spec(doc)["volumes"]
            claims = [
                v["persistentVolumeClaim"]["claimName"]
                for v in volumes
                if "persistentVolumeClaim" in v
            ]
            assert claims == ["rel-fullstack-backup"]


def test_large_integers_stay_integers(render) -> None:
    # C36: no scientific notation anywhere.
    manifests = render(
        {
            "backup": {
                "activeDeadlineSeconds": 86400000,
                "startingDeadlineSeconds": 1000000,
            },
            "backend": {"config": {"MAX_UPLOAD_BYTES": 1048576, "RATIO": 0.5}},
        }
    )
    cronjob = manifests.get("CronJob", CRONJOB)

    assert "e+0" not in manifests.text
    assert cronjob["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 86400000
    assert cronjob["spec"]["startingDeadlineSeconds"] == 1000000
    data = manifests.get("ConfigMap", "rel-fullstack-backend")["data"]
    assert data["MAX_UPLOAD_BYTES"] == "1048576"
    assert data["RATIO"] == "0.5"


def test_backup_claim_is_kept_on_uninstall_by_default(
    render, default_manifests
) -> None:
    kept = default_manifests.get("PersistentVolumeClaim", "rel-fullstack-backup")
    deleted = render({"backup": {"persistence": {"whenDeleted": "Delete"}}}).get(
        "PersistentVolumeClaim", "rel-fullstack-backup"
    )

    assert kept["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert "annotations" not in deleted["metadata"]


def test_existing_claim_replaces_the_chart_claim(render) -> None:
    manifests = render({"backup": {"persistence": {"existingClaim": "nfs-backups"}}})

    assert manifests.of_kind("PersistentVolumeClaim") == []
    for doc in manifests.of_kind("CronJob") + manifests.of_kind("Job"):
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in pod_spec(doc)["volumes"]
            if "persistentVolumeClaim" in v
        ]
        assert claims == ["nfs-backups"]


def test_initial_dump_job(default_manifests: Manifests, render) -> None:
    # The install run binds the claim, waits for the database, never prunes.
    job = default_manifests.of_kind("Job")[0]
    env = env_values(container(job, "backup"))

    assert env["BACKUP_WAIT_SECONDS"] == "600"
    assert env["BACKUP_PRUNE"] == "0"
    assert "helm.sh/hook" not in job["metadata"].get("annotations", {})
    scheduled = env_values(
        container(default_manifests.get("CronJob", CRONJOB), "backup")
    )
    assert scheduled["BACKUP_PRUNE"] == "1"
    assert "BACKUP_WAIT_SECONDS" not in scheduled


def test_initial_dump_job_gets_a_new_name_when_its_spec_changes(
    render, chart_copy_factory, default_manifests
) -> None:
    # A Job's pod template is immutable; a new spec must mean a new Job.
    name = default_manifests.names("Job")
    bumped_chart = render(chart=chart_copy_factory("0.9.0")).names("Job")
    new_image = render({"postgresql": {"image": {"tag": "18.7"}}}).names("Job")

    assert bumped_chart == name
    assert new_image != name
    assert render({"backup": {"initialDump": {"enabled": False}}}).of_kind("Job") == []


def test_restore_job(render) -> None:
    manifests = render(
        {"restore": {"enabled": True, "dumpFile": "rel-fullstack-x.dump"}}
    )
    job = manifests.get("Job", "rel-fullstack-restore")
    restore = container(job, "restore")
    volumes = pod_spec(job)["volumes"]

    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    assert (
        job["metadata"]["annotations"]["helm.sh/hook-delete-policy"]
        == "before-hook-creation"
    )
    assert env_values(restore)["RESTORE_FILE"] == "rel-fullstack-x.dump"
    assert {"name": "backups", "mountPath": "/backups", "readOnly": True} in restore[
        "volumeMounts"
    ]
    assert volumes[0]["persistentVolumeClaim"] == {
        "claimName": "rel-fullstack-backup",
        "readOnly": True,
    }
    # The install-time dump is left out while a restore is configured.
    assert manifests.names("Job") == ["rel-fullstack-restore"]
