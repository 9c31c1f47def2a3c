"""Backup CronJob, install-time dump and restore Job (C27-C32, C35, C36).

The dump and restore scripts are also run here, outside any cluster, with
stand-ins for pg_dump, pg_restore and pg_isready, to check how they behave
when a dump fails, is invalid, or when retention applies.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest
from helm_render import Manifests, container, env_entries, env_values, pod_spec

CRONJOB = "rel-fullstack-backup"
SERVER_IMAGE = "docker.io/library/postgres:18.6"
STUB_PG_DUMP = """#!/bin/bash
# Stand-in for pg_dump: STUB_DUMP=ok|fail|garbage.
for arg; do case "$arg" in --file=*) out="${arg#--file=}" ;; esac; done
echo "$@" > "$STUB_LOG.pg_dump"
case "$STUB_DUMP" in
  ok) printf 'PGDMP-custom-format' > "$out" ;;
  garbage) printf 'half a dump' > "$out" ;;
  fail) printf 'PGD' > "$out"; echo 'pg_dump: error: connection failed' >&2; exit 1 ;;
esac
"""
STUB_PG_RESTORE = """#!/bin/bash
# Stand-in for pg_restore: --list checks the magic bytes, a restore logs its args.
if [ "$1" = --list ]; then
  if [ "$(head -c 5 "$2")" != PGDMP ]; then
    echo 'pg_restore: error: input file is not a dump' >&2
    exit 1
  fi
  exit 0
fi
echo "$@" > "$STUB_LOG.pg_restore"
"""
STUB_PG_ISREADY = "#!/bin/bash\nexit 0\n"


@pytest.fixture(scope="module")
def backup_script(default_manifests: Manifests) -> str:
    cronjob = default_manifests.get("CronJob", CRONJOB)
    command = container(cronjob, "backup")["command"]
    assert command[:2] == ["/bin/bash", "-c"]
    assert command[3] == "fullstack-backup"
    return command[2]


@pytest.fixture(scope="module")
def restore_script(render) -> str:
    job = render({"restore": {"enabled": True, "dumpFile": "x.dump"}}).get(
        "Job", "rel-fullstack-restore"
    )
    return container(job, "restore")["command"][2]


@pytest.fixture
def stubs(tmp_path: Path) -> dict[str, str]:
    """Environment that puts stand-ins for the PostgreSQL client tools first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (
        ("pg_dump", STUB_PG_DUMP),
        ("pg_restore", STUB_PG_RESTORE),
        ("pg_isready", STUB_PG_ISREADY),
    ):
        path = bin_dir / name
        path.write_text(body)
        path.chmod(0o755)
    backups = tmp_path / "backups"
    backups.mkdir()
    return {
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "BACKUP_DIR": str(backups),
        "STUB_LOG": str(tmp_path / "log"),
        "BACKUP_PREFIX": "rel-fullstack",
        "BACKUP_KEEP_LAST": "3",
        "BACKUP_MAX_AGE_DAYS": "0",
        "PGHOST": "db",
        "PGPORT": "5432",
        "PGDATABASE": "app",
        "PGUSER": "app",
        "STUB_DUMP": "ok",
    }


def _run(
    script: str, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script, "fullstack", *args],
        check=False,
        timeout=60,
        capture_output=True,
        text=True,
        env=env,
    )


def _files(env: dict[str, str]) -> list[str]:
    return sorted(os.listdir(env["BACKUP_DIR"]))


def _old_dump(env: dict[str, str], stamp: str, age_days: float = 0) -> None:
    path = Path(env["BACKUP_DIR"]) / f"rel-fullstack-{stamp}.dump"
    path.write_text("PGDMP-old")
    mtime = time.time() - age_days * 86400
    os.utime(path, (mtime, mtime))


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


def test_dump_success_writes_a_validated_file(backup_script: str, stubs) -> None:
    result = _run(backup_script, stubs, "--exclude-table=audit")

    assert result.returncode == 0, result.stderr
    files = _files(stubs)
    assert len(files) == 1
    assert re.fullmatch(r"rel-fullstack-\d{8}T\d{6}Z\.dump", files[0])
    dump = Path(stubs["BACKUP_DIR"]) / files[0]
    assert oct(dump.stat().st_mode & 0o777) == "0o600"
    assert "--format=custom" in Path(stubs["STUB_LOG"] + ".pg_dump").read_text()
    assert "--exclude-table=audit" in Path(stubs["STUB_LOG"] + ".pg_dump").read_text()
    assert f"backup: wrote {files[0]} (19 bytes)" in result.stdout


@pytest.mark.parametrize(
    ("mode", "error"),
    [
        ("fail", "pg_dump: error: connection failed"),
        ("garbage", "pg_restore: error: input file is not a dump"),
    ],
)
def test_failed_dump_fails_the_job_and_leaves_no_file(
    backup_script: str, stubs, mode: str, error: str
) -> None:
    # C30: a failed or invalid dump never looks like a good one.
    _old_dump(stubs, "20260101T000000Z")
    stubs["STUB_DUMP"] = mode

    result = _run(backup_script, stubs)

    assert result.returncode != 0
    assert error in result.stderr
    assert _files(stubs) == ["rel-fullstack-20260101T000000Z.dump"]


def test_leftover_partial_files_are_removed(backup_script: str, stubs) -> None:
    partial = Path(stubs["BACKUP_DIR"]) / ".rel-fullstack-20260101T000000Z.dump.partial"
    partial.write_text("PGD")

    result = _run(backup_script, stubs)

    assert result.returncode == 0, result.stderr
    assert not partial.exists()


def test_retention_keeps_the_newest_n(backup_script: str, stubs) -> None:
    # C31: five old dumps plus a new one, keepLast 3.
    for day in range(1, 6):
        _old_dump(stubs, f"2026010{day}T023000Z")
    other = Path(stubs["BACKUP_DIR"]) / "someone-else.dump"
    other.write_text("not ours")

    result = _run(backup_script, stubs)

    assert result.returncode == 0, result.stderr
    files = _files(stubs)
    assert files[:2] == [
        "rel-fullstack-20260104T023000Z.dump",
        "rel-fullstack-20260105T023000Z.dump",
    ]
    assert len(files) == 4
    assert files[3] == "someone-else.dump"
    assert (
        "backup: retention removes rel-fullstack-20260101T023000Z.dump" in result.stdout
    )


def test_retention_by_age_never_deletes_the_newest(backup_script: str, stubs) -> None:
    stubs.update(BACKUP_KEEP_LAST="0", BACKUP_MAX_AGE_DAYS="7")
    _old_dump(stubs, "20260101T023000Z", age_days=30)
    _old_dump(stubs, "20260102T023000Z", age_days=2)

    result = _run(backup_script, stubs)

    assert result.returncode == 0, result.stderr
    files = _files(stubs)
    assert "rel-fullstack-20260101T023000Z.dump" not in files
    assert "rel-fullstack-20260102T023000Z.dump" in files
    assert len(files) == 2


def test_install_run_does_not_prune(backup_script: str, stubs) -> None:
    stubs.update(BACKUP_KEEP_LAST="1", BACKUP_PRUNE="0", BACKUP_WAIT_SECONDS="5")
    _old_dump(stubs, "20260101T023000Z")

    result = _run(backup_script, stubs)

    assert result.returncode == 0, result.stderr
    assert len(_files(stubs)) == 2
    assert "backup: retention skipped for this run" in result.stdout


def test_restore_script_restores_with_clean_if_exists(
    restore_script: str, stubs
) -> None:
    _old_dump(stubs, "20260101T023000Z")
    stubs.update(
        RESTORE_FILE="rel-fullstack-20260101T023000Z.dump", RESTORE_WAIT_SECONDS="5"
    )

    result = _run(restore_script, stubs, "--jobs=1")

    assert result.returncode == 0, result.stderr
    args = Path(stubs["STUB_LOG"] + ".pg_restore").read_text().split()
    assert args[:6] == [
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        "--no-password",
    ]
    assert args[6:] == [
        "--dbname=app",
        "--jobs=1",
        f"{stubs['BACKUP_DIR']}/rel-fullstack-20260101T023000Z.dump",
    ]


def test_restore_script_lists_dumps_when_the_file_is_missing(
    restore_script: str, stubs
) -> None:
    _old_dump(stubs, "20260101T023000Z")
    stubs.update(RESTORE_FILE="nope.dump", RESTORE_WAIT_SECONDS="5")

    result = _run(restore_script, stubs)

    assert result.returncode == 1
    assert result.stderr == (
        "restore: nope.dump is not in the backup volume. Dumps there:\n  "
        "rel-fullstack-20260101T023000Z.dump\n"
    )
