"""Backups and restores with the real pg_dump, pg_restore and backup volume
(C27, C28, C30, C31, the restore Job).

One release for the module, with `backup.retention.keepLast: 3`, PostgreSQL on
port 5433 instead of 5432 (C27), and its passwords in an existing Secret under
custom key names (C11, C28), the application's full of characters that YAML,
URLs and shells treat specially (C06); the tests run in file order and count the dumps
the earlier ones left. Backup runs are Jobs made from the release's CronJob;
the volume is looked into from a pod with the same image, volume and security
context.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from harness.app import add_item, item_names
from harness.fullstack import (
    BackupVolume,
    dumps,
    initial_dump_job,
    psql,
    run_backup,
    wait_for_initial_dump,
    written_dump,
)
from harness.kube import job_logs
from harness.release import Release, ReleaseFactory, merge

PASSWORD = "p@ss:w/rd?#%1 'single' \"double\" `back` $HOME *a &b, \\c"
SECRET = "db-credentials"
USER_KEY = "app-pass"
VALUES: dict[str, Any] = {
    "frontend": {"enabled": False},
    "ingress": {"enabled": False},
    "tests": {"enabled": False},
    "postgresql": {
        "auth": {
            "existingSecret": SECRET,
            "secretKeys": {"userPasswordKey": USER_KEY, "adminPasswordKey": "su-pass"},
        },
        "service": {"port": 5433},
    },
    "backup": {"retention": {"keepLast": 3}},
}
DUMP_NAME = re.compile(r"fs-fullstack-\d{8}T\d{6}Z\.dump")


@pytest.fixture(scope="module")
def release(release_factory: ReleaseFactory, kube_api: client.ApiClient) -> Release:
    """The backend, PostgreSQL and backups, after the install-time dump (C62)."""

    def credentials(namespace: str) -> None:
        client.CoreV1Api(kube_api).create_namespaced_secret(
            namespace,
            {
                "metadata": {"name": SECRET},
                "stringData": {USER_KEY: PASSWORD, "su-pass": "superuser-secret"},
            },
        )

    release = release_factory(VALUES, prepare=credentials)
    wait_for_initial_dump(kube_api, release)
    return release


@pytest.fixture(scope="module")
def volume(release: Release, kube_api: client.ApiClient) -> Iterator[BackupVolume]:
    """A pod like the backup pods, to list and change the backup volume."""
    with BackupVolume(kube_api, release) as volume:
        yield volume


def test_backup_with_a_wrong_password_fails_and_leaves_no_file(
    release: Release, kube_api: client.ApiClient, volume: BackupVolume
) -> None:
    # C30: the install-time dump is there; a Secret with a wrong password.
    before = volume.files()
    assert len(dumps(before, release)) == 1, before
    client.CoreV1Api(kube_api).create_namespaced_secret(
        release.namespace,
        {"metadata": {"name": "wrong-password"}, "stringData": {USER_KEY: "wrong"}},
    )

    backup = run_backup(kube_api, release, password_secret="wrong-password")

    # The Job fails after its one retry (backoffLimit 1) ...
    assert backup.condition == "Failed", backup.logs
    assert backup.logs.count("backup: pg_dump -Fc of database app") == 2
    assert 'password authentication failed for user "app"' in backup.logs
    # ... and leaves nothing behind: no dump, no partial file.
    assert volume.files() == before


def test_backup_writes_a_private_restorable_dump(
    release: Release, kube_api: client.ApiClient, volume: BackupVolume
) -> None:
    # C28/C30: the CronJob's own credentials, with the hostile password.
    add_item(kube_api, release, "in-the-dump")

    backup = run_backup(kube_api, release)

    assert backup.succeeded, backup.logs
    dump = written_dump(backup)
    assert DUMP_NAME.fullmatch(dump), dump
    # Readable by the backup user only, and the size the log reported.
    file = volume.files()[dump]
    assert file.mode == "600"
    assert f"backup: wrote {dump} ({file.size} bytes)" in backup.logs
    listing = volume.sh(f'pg_restore --list "/backups/{dump}"').stdout
    assert "TABLE public items" in listing, listing
    assert "TABLE DATA public items" in listing, listing


def test_invalid_dump_fails_the_job_and_leaves_no_file(
    release: Release, kube_api: client.ApiClient, volume: BackupVolume
) -> None:
    # C30: pg_dump succeeds but writes plain SQL (backup.extraArgs can do that);
    # the pg_restore --list check refuses it. One attempt is enough here.
    before = volume.files()

    backup = run_backup(kube_api, release, args=["--format=plain"], backoff_limit=0)

    assert backup.condition == "Failed", backup.logs
    assert "backup: checking the dump with pg_restore --list" in backup.logs
    assert "pg_restore: error: input file appears to be a text format dump" in (
        backup.logs
    )
    assert "backup: wrote" not in backup.logs
    assert volume.files() == before


def test_retention_keeps_the_newest_three(
    release: Release, kube_api: client.ApiClient, volume: BackupVolume
) -> None:
    # C31: a partial file of a run killed two hours ago (older than the Job
    # deadline), one of a run that may still be going, and files of others:
    # one whose name merely starts with this release's full name.
    stale = ".fs-fullstack-20200101T000000Z.dump.partial"
    running = ".fs-fullstack-20200101T000001Z.dump.partial"
    others = ["someone-else.dump", "fs-fullstack-eu-20200101T000000Z.dump"]
    volume.sh(
        f"touch -d '2 hours ago' /backups/{stale}; "
        f"touch /backups/{running} " + " ".join(f"/backups/{n}" for n in others)
    )

    written = []
    for _ in range(5):
        backup = run_backup(kube_api, release)
        assert backup.succeeded, backup.logs
        written.append(written_dump(backup))

    files = volume.files()
    assert len(set(written)) == 5, written
    # Exactly the three newest dumps stay; the newest is one of them.
    assert dumps(files, release) == written[-3:]
    assert [name for name in others if name not in files] == []
    assert [name for name in files if name.endswith(".partial")] == [running]
    volume.sh(f"rm /backups/{running}")


def test_install_time_dump_never_prunes(
    release: Release, kube_api: client.ApiClient, volume: BackupVolume
) -> None:
    # Three dumps, keepLast 3: a pruning run would delete the oldest.
    before = dumps(volume.files(), release)
    assert len(before) == 3
    spec = kube_api.sanitize_for_serialization(initial_dump_job(kube_api, release).spec)

    backup = run_backup(kube_api, release, spec=spec)

    assert backup.succeeded, backup.logs
    assert "backup: retention skipped for this run" in backup.logs
    after = dumps(volume.files(), release)
    assert after == [*before, written_dump(backup)]


def test_retention_by_age_deletes_only_old_dumps(
    release: Release, kube_api: client.ApiClient, volume: BackupVolume
) -> None:
    # Keep dumps younger than 7 days, whatever their number.
    by_age = {"backup": {"retention": {"keepLast": 0, "maxAgeDays": 7}}}
    release.upgrade(merge(release.values, by_age))
    wait_for_initial_dump(kube_api, release)
    young = dumps(volume.files(), release)
    # Two copies of a dump, 30 and 2 days old.
    volume.sh(
        f'cd /backups; cp "{young[-1]}" fs-fullstack-20200101T000000Z.dump; '
        "touch -d '30 days ago' fs-fullstack-20200101T000000Z.dump; "
        f'cp "{young[-1]}" fs-fullstack-20200102T000000Z.dump; '
        "touch -d '2 days ago' fs-fullstack-20200102T000000Z.dump"
    )

    backup = run_backup(kube_api, release)

    assert backup.succeeded, backup.logs
    assert "backup: retention removes fs-fullstack-20200101T000000Z.dump" in backup.logs
    assert dumps(volume.files(), release) == [
        "fs-fullstack-20200102T000000Z.dump",
        *young,
        written_dump(backup),
    ]


def test_restore_brings_back_the_dumped_items(
    release: Release, kube_api: client.ApiClient
) -> None:
    # Items in a dump; after it, they are deleted and another one is added.
    kept = [f"restore-me-{index}" for index in range(3)]
    for name in kept:
        add_item(kube_api, release, name)
    backup = run_backup(kube_api, release)
    assert backup.succeeded, backup.logs
    dump = written_dump(backup)
    psql(kube_api, release, "DELETE FROM items WHERE name LIKE 'restore-me-%';")
    add_item(kube_api, release, "after-the-dump")
    assert not set(kept) & set(item_names(kube_api, release))
    restore_job = f"{release.name}-fullstack-restore"
    without_restore = release.values

    # A file that is not in the volume fails the upgrade; the Job lists the dumps.
    missing = release.upgrade(
        merge(without_restore, {"restore": {"enabled": True, "dumpFile": "nope.dump"}}),
        check=False,
    )

    assert missing.returncode != 0
    assert release.status()["info"]["status"] == "failed"
    listing = job_logs(kube_api, release.namespace, restore_job).splitlines()
    assert listing[0] == "restore: nope.dump is not in the backup volume. Dumps there:"
    assert f"  {dump}" in listing[1:]

    # Restoring the dump by name (helm waits for the restore Job); extraArgs
    # reach pg_restore.
    restore = {"enabled": True, "dumpFile": dump, "extraArgs": ["--verbose"]}
    result = release.upgrade(merge(without_restore, {"restore": restore}))

    logs = job_logs(kube_api, release.namespace, restore_job)
    assert f"restore: restoring {dump} into database app as app" in logs
    assert 'pg_restore: creating TABLE "public.items"' in logs
    assert logs.rstrip().endswith("restore: done"), logs
    names = item_names(kube_api, release)
    assert set(kept) <= set(names)
    assert "after-the-dump" not in names
    assert "restore     Job fs-fullstack-restore restoring" in result.stdout

    # Restore off again: the next upgrade does not run it.
    batch = client.BatchV1Api(kube_api)
    restored = batch.read_namespaced_job(restore_job, release.namespace).metadata.uid
    release.upgrade(without_restore)

    assert release.status()["info"]["status"] == "deployed"
    job = batch.read_namespaced_job(restore_job, release.namespace)
    assert job.metadata.uid == restored
    wait_for_initial_dump(kube_api, release)
    assert set(kept) <= set(item_names(kube_api, release))
