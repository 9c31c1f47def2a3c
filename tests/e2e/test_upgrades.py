"""Upgrading a release in place, against the live objects (C01, C12, C15, C22).

The chart reads the live Secret and StatefulSet with `lookup` on upgrades: it
keeps the generated passwords and refuses storage and PostgreSQL major changes
before anything is patched. These tests run those upgrades on one release (the
refused ones fail at render time and take about a second each) in file order;
the last ones break the release on purpose (helm test failures, a changed
password) and repair it the documented way.

The release has no frontend, Ingress or backup: what is tested here is the
backend and its database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from kubernetes import client

from harness.app import item_round_trip
from harness.fullstack import (
    database_secret,
    database_secret_name,
    postgres_pod,
    psql,
    restart_count,
    statefulset,
)
from harness.kube import (
    restart_deployment,
    scale_deployment,
    wait_for_rollout,
    wait_for_workloads,
    wait_until,
)
from harness.release import (
    Release,
    ReleaseFactory,
    failure_message,
    merge,
    notes_warnings,
)

MAJOR_ANNOTATION = "fullstack-chart.github.io/postgresql-major"
# Scripts that record the order they ran in; both create the table if needed,
# so a wrong order shows in the rows instead of stopping initdb.
INIT_SCRIPTS = {
    "10-first.sh": (
        'psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" '
        '--dbname "$POSTGRES_DB" <<SQL\n'
        "CREATE TABLE IF NOT EXISTS init_log (id serial PRIMARY KEY, script text,"
        " note text);\n"
        "INSERT INTO init_log (script, note) SELECT '10-first.sh',"
        " 'database $POSTGRES_DB, app roles: ' || count(*)"
        " FROM pg_roles WHERE rolname = 'app';\n"
        "SQL\n"
    ),
    "20-second.sql": (
        "CREATE TABLE IF NOT EXISTS init_log (id serial PRIMARY KEY, script text,"
        " note text);\n"
        "INSERT INTO init_log (script, note) VALUES ('20-second.sql', current_user);\n"
    ),
}
VALUES: dict[str, Any] = {
    "frontend": {"enabled": False},
    "backup": {"enabled": False},
    "ingress": {"enabled": False},
    # Failing helm tests report after two quick attempts instead of ten.
    "tests": {"attempts": 2, "intervalSeconds": 1},
    "postgresql": {"initScripts": INIT_SCRIPTS},
}
PASSWORD_CHANGED = (
    "postgresql.auth.password differs from the password stored before. PostgreSQL "
    "keeps the password it was created with: change it in the database too (ALTER "
    "ROLE ... PASSWORD), or the backend cannot log in."
)


@pytest.fixture(scope="module")
def release(release_factory: ReleaseFactory) -> Release:
    """The backend and PostgreSQL, with a generated password and init scripts."""
    return release_factory(VALUES)


@dataclass(frozen=True)
class Deployed:
    """What a refused upgrade must leave as it was."""

    revision: int
    status: str
    statefulset: tuple[int, str, str]
    pod: tuple[str, int]


def deployed(api: client.ApiClient, release: Release) -> Deployed:
    status = release.status()
    sts = statefulset(api, release)
    pod = postgres_pod(api, release)
    return Deployed(
        revision=status["version"],
        status=status["info"]["status"],
        statefulset=(
            sts.metadata.generation,
            sts.metadata.resource_version,
            json.dumps(api.sanitize_for_serialization(sts.spec), sort_keys=True),
        ),
        pod=(pod.metadata.uid, restart_count(pod)),
    )


def backend_pods(api: client.ApiClient, release: Release) -> set[str]:
    pods = client.CoreV1Api(api).list_namespaced_pod(
        release.namespace, label_selector=release.selector("backend")
    )
    return {pod.metadata.name for pod in pods.items}


def assert_refused(
    api: client.ApiClient, release: Release, change: dict[str, Any], message: str
) -> None:
    """Upgrade with `change`: the chart's message, and nothing changed."""
    before = deployed(api, release)

    result = release.upgrade(merge(release.values, change), check=False)

    assert result.returncode != 0, result.stdout
    assert failure_message(result.stderr) == message
    # The release stays at its revision, deployed; the StatefulSet and its pod
    # are untouched (same generation, resourceVersion, spec, pod UID, restarts).
    assert deployed(api, release) == before


def test_database_is_initialised_with_the_role_then_the_scripts(
    release: Release, kube_api: client.ApiClient
) -> None:
    # The backend creates its table as the application role.
    item_round_trip(kube_api, release, "init")

    log = psql(kube_api, release, "SELECT script, note FROM init_log ORDER BY id")
    role = psql(
        kube_api,
        release,
        "SELECT rolsuper, rolcanlogin FROM pg_roles WHERE rolname = 'app';"
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'app';"
        "SELECT tableowner FROM pg_tables WHERE tablename = 'items'",
    )

    # The chart's role setup ran first, then the user's scripts in name order.
    assert log.splitlines() == [
        "10-first.sh|database app, app roles: 1",
        "20-second.sql|postgres",
    ]
    # The application role logs in, is no superuser and owns its database.
    assert role.splitlines() == ["f|t", "app", "app"]


def test_generated_password_survives_upgrades(
    release: Release, kube_api: client.ApiClient
) -> None:
    # C01: the passwords generated at install, and the pods running now.
    generated = database_secret(kube_api, release)
    assert sorted(generated) == ["password", "postgres-password"]
    assert all(len(value) == 32 for value in generated.values()), generated.keys()
    backend_before = backend_pods(kube_api, release)
    database_before = deployed(kube_api, release).pod

    # An upgrade with the same values keeps the passwords and restarts no pod
    # (C12: nothing random in the pod templates).
    release.upgrade(release.values)
    wait_for_workloads(kube_api, release.namespace)

    assert database_secret(kube_api, release) == generated
    assert backend_pods(kube_api, release) == backend_before
    item_round_trip(kube_api, release, "after-unchanged-upgrade")

    # An upgrade that only scales the backend keeps them too.
    release.upgrade(merge(release.values, {"backend": {"replicaCount": 2}}))
    wait_for_workloads(kube_api, release.namespace)

    assert database_secret(kube_api, release) == generated
    assert len(backend_pods(kube_api, release)) == 2
    # Both backend pods (the Service picks one per request) still log in.
    for attempt in range(4):
        item_round_trip(kube_api, release, f"after-scaling-{attempt}")
    assert deployed(kube_api, release).pod == database_before


def test_missing_secret_key_is_generated_and_the_others_kept(
    release: Release, kube_api: client.ApiClient
) -> None:
    # The Secret lost its superuser key (edited by hand, say).
    before = database_secret(kube_api, release)
    name = database_secret_name(kube_api, release)
    client.CoreV1Api(kube_api).patch_namespaced_secret(
        name, release.namespace, {"data": {"postgres-password": None}}
    )
    assert "postgres-password" not in database_secret(kube_api, release)

    release.upgrade(release.values)

    # Only the missing key is generated; the application's password is kept.
    after = database_secret(kube_api, release)
    assert after["password"] == before["password"]
    assert len(after["postgres-password"]) == 32
    assert after["postgres-password"] != before["postgres-password"]
    item_round_trip(kube_api, release, "after-key-generated")


def test_volume_size_change_is_refused_with_the_resize_procedure(
    release: Release, kube_api: client.ApiClient
) -> None:
    # C15: volumeClaimTemplates are immutable; the chart explains the way round.
    ns = release.namespace

    assert_refused(
        kube_api,
        release,
        {"postgresql": {"persistence": {"size": "16Gi"}}},
        "fullstack: 1 problem in the values:\n- postgresql.persistence.size: the "
        "StatefulSet fs-fullstack-postgresql was created with 8Gi and Kubernetes "
        "cannot change volumeClaimTemplates, so 16Gi cannot be applied by the chart. "
        "Keep 8Gi, or resize by hand (the StorageClass must allow expansion): 1) "
        f"kubectl patch pvc data-fs-fullstack-postgresql-0 -n {ns} -p "
        """'{"spec":{"resources":{"requests":{"storage":"16Gi"}}}}' """
        f"2) kubectl delete statefulset fs-fullstack-postgresql -n {ns} "
        "--cascade=orphan 3) helm upgrade again with postgresql.persistence.size=16Gi "
        '(README "Resizing the database volume").',
    )


def test_storage_class_change_is_refused(
    release: Release, kube_api: client.ApiClient
) -> None:
    # C15: naming the cluster's default class is still a change of the template.
    assert_refused(
        kube_api,
        release,
        {"postgresql": {"persistence": {"storageClass": "standard"}}},
        "fullstack: 1 problem in the values:\n- postgresql.persistence.storageClass: "
        "the StatefulSet fs-fullstack-postgresql was created with storage class "
        "(cluster default) and Kubernetes cannot change volumeClaimTemplates, so "
        '"standard" cannot be applied. Keep the old class, or move the data: take a '
        "dump, uninstall, delete the claim data-fs-fullstack-postgresql-0, install "
        'with the new class and restore the dump (README "Restoring").',
    )


def test_all_claim_changes_are_listed_in_one_message(
    release: Release, kube_api: client.ApiClient
) -> None:
    assert_refused(
        kube_api,
        release,
        {
            "postgresql": {
                "persistence": {
                    "storageClass": "fast",
                    "accessModes": ["ReadWriteOncePod"],
                    "annotations": {"backup.velero.io/skip": "true"},
                }
            }
        },
        "fullstack: 3 problems in the values:\n"
        "- postgresql.persistence.storageClass: the StatefulSet "
        "fs-fullstack-postgresql was created with storage class (cluster default) "
        'and Kubernetes cannot change volumeClaimTemplates, so "fast" cannot be '
        "applied. Keep the old class, or move the data: take a dump, uninstall, "
        "delete the claim data-fs-fullstack-postgresql-0, install with the new class "
        'and restore the dump (README "Restoring").\n'
        "- postgresql.persistence.accessModes: the StatefulSet "
        'fs-fullstack-postgresql was created with ["ReadWriteOnce"] and Kubernetes '
        'cannot change volumeClaimTemplates; keep ["ReadWriteOnce"].\n'
        "- postgresql.persistence.annotations: the StatefulSet "
        "fs-fullstack-postgresql was created with {} and Kubernetes cannot change "
        "volumeClaimTemplates; keep them, and annotate the claim "
        "data-fs-fullstack-postgresql-0 with kubectl instead.",
    )


def test_switching_to_an_existing_claim_is_refused(
    release: Release, kube_api: client.ApiClient
) -> None:
    assert_refused(
        kube_api,
        release,
        {"postgresql": {"persistence": {"existingClaim": "pg-data"}}},
        "fullstack: 1 problem in the values:\n- postgresql.persistence: the "
        "StatefulSet fs-fullstack-postgresql was created with its own volume claim, "
        "and Kubernetes cannot remove volumeClaimTemplates; keep "
        "persistence.enabled=true without existingClaim, or delete the StatefulSet "
        'first with "kubectl delete statefulset fs-fullstack-postgresql -n '
        f'{release.namespace} --cascade=orphan" (the claim and its data stay).',
    )


def test_upgrades_that_keep_the_claim_succeed(
    release: Release, kube_api: client.ApiClient
) -> None:
    # The same size written in other units is no change (8Gi = 8192Mi).
    for values in (
        release.values,
        merge(release.values, {"postgresql": {"persistence": {"size": "8192Mi"}}}),
    ):
        before = deployed(kube_api, release)

        release.upgrade(values)

        after = deployed(kube_api, release)
        assert (after.revision, after.status) == (before.revision + 1, "deployed")
        assert after.pod == before.pod
    wait_for_workloads(kube_api, release.namespace)
    item_round_trip(kube_api, release, "after-claim-upgrades")


MAJOR_REFUSED = (
    "fullstack: 1 problem in the values:\n- postgresql.image.tag: the StatefulSet "
    'fs-fullstack-postgresql runs PostgreSQL 18 and "19.1" is PostgreSQL 19; a new '
    "major cannot open the old data directory, so nothing was changed. Keep a 18.x "
    'tag, or move by dump and restore (README "Upgrading PostgreSQL to a new major '
    'version").'
)


def test_new_postgresql_major_is_refused_before_anything_changes(
    release: Release, kube_api: client.ApiClient
) -> None:
    # C22: the StatefulSet records the major it runs; 19.1 is refused.
    sts = statefulset(kube_api, release)
    assert sts.metadata.annotations[MAJOR_ANNOTATION] == "18"

    assert_refused(
        kube_api, release, {"postgresql": {"image": {"tag": "19.1"}}}, MAJOR_REFUSED
    )


def test_new_major_is_refused_by_image_tag_without_the_annotation(
    release: Release, kube_api: client.ApiClient
) -> None:
    # A StatefulSet without the annotation (as an older chart could have made
    # it): the major comes from the running image's tag.
    apps = client.AppsV1Api(kube_api)
    name = statefulset(kube_api, release).metadata.name
    apps.patch_namespaced_stateful_set(
        name,
        release.namespace,
        {"metadata": {"annotations": {MAJOR_ANNOTATION: None}}},
    )
    assert MAJOR_ANNOTATION not in (statefulset(kube_api, release).metadata.annotations)

    assert_refused(
        kube_api, release, {"postgresql": {"image": {"tag": "19.1"}}}, MAJOR_REFUSED
    )

    # The next upgrade within the major records it again.
    release.upgrade(release.values)
    assert statefulset(kube_api, release).metadata.annotations[MAJOR_ANNOTATION] == (
        "18"
    )


def test_lookup_reads_only_the_release_namespace(
    release: Release, kube_api: client.ApiClient, release_factory: ReleaseFactory
) -> None:
    # A release of the same name in another namespace, on a claim of its own.
    def create_claim(namespace: str) -> None:
        client.CoreV1Api(kube_api).create_namespaced_persistent_volume_claim(
            namespace,
            {
                "metadata": {"name": "pg-data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            },
        )

    other_values = merge(
        VALUES,
        {
            "backend": {"enabled": False},
            "tests": {"enabled": False},
            "postgresql": {"persistence": {"existingClaim": "pg-data"}},
        },
    )
    other = release_factory(other_values, wait=False, prepare=create_claim)

    # Its Secret was not read from this release's namespace: new passwords.
    mine = database_secret(kube_api, release)
    theirs = database_secret(kube_api, other)
    assert theirs.keys() == mine.keys()
    assert all(theirs[key] != mine[key] for key in mine)

    # Its upgrade checks its own StatefulSet (no claim template), not this one.
    result = other.upgrade(
        merge(other_values, {"postgresql": {"persistence": {"existingClaim": ""}}}),
        check=False,
    )
    assert failure_message(result.stderr) == (
        "fullstack: 1 problem in the values:\n- postgresql.persistence: the "
        "StatefulSet fs-fullstack-postgresql was created without its own volume "
        "claim (persistence off or an existing claim), and Kubernetes cannot add "
        "volumeClaimTemplates; keep the previous persistence values, or delete the "
        'StatefulSet first with "kubectl delete statefulset fs-fullstack-postgresql '
        f'-n {other.namespace} --cascade=orphan".'
    )


def helm_test(release: Release) -> tuple[int, str]:
    result = release.helm(
        "test", release.name, "--logs", "--timeout", "2m", check=False
    )
    return result.returncode, result.stdout + result.stderr


def test_helm_test_says_which_check_failed_when_the_backend_is_down(
    release: Release, kube_api: client.ApiClient
) -> None:
    # Stop the backend behind helm's back.
    deployment = f"{release.name}-fullstack-backend"
    scale_deployment(kube_api, release.namespace, deployment, 0)
    # Terminating pods still serve while no other endpoint is ready: wait
    # until they are gone.
    wait_until(
        lambda: backend_pods(kube_api, release),
        lambda pods: not pods,
        what=f"backend pods of {release.namespace} gone",
        timeout=90,
        interval=1,
    )

    code, output = helm_test(release)

    # The first check fails after its two attempts and says what it got.
    assert code != 0, output
    url = "http://fs-fullstack-backend:8080/healthz"
    assert [line for line in output.splitlines() if "backend health" in line] == [
        f"wait backend health: GET {url} answered 'nothing' (attempt 1/2)",
        f"wait backend health: GET {url} answered 'nothing' (attempt 2/2)",
        f"FAIL backend health: GET {url} never answered 200; last answer 'nothing'",
    ]

    # Scaled back, the backend serves again.
    scale_deployment(kube_api, release.namespace, deployment, 2)
    wait_for_workloads(kube_api, release.namespace)
    item_round_trip(kube_api, release, "after-scale-up")


def test_changed_password_is_warned_about_and_fixed_as_documented(
    release: Release, kube_api: client.ApiClient
) -> None:
    # An explicit password wins over the stored one (values.yaml, README
    # "Generated passwords"); characters YAML, URLs and shells treat specially.
    stored = database_secret(kube_api, release)
    new_password = "n3w p@ss:w/rd?#%1,a\\b 'q' \"dq\" $HOME *x &y"
    values = merge(release.values, {"postgresql": {"auth": {"password": new_password}}})

    result = release.upgrade(values)

    secret = database_secret(kube_api, release)
    assert secret["password"] == new_password.encode()
    assert secret["postgres-password"] == stored["postgres-password"]
    # NOTES warns: PostgreSQL still has the old password.
    assert PASSWORD_CHANGED in notes_warnings(result.stdout)

    # helm test's database check logs in with the Secret's password and says
    # what PostgreSQL answered.
    code, output = helm_test(release)

    assert code != 0, output
    failed = [line for line in output.splitlines() if line.startswith("FAIL ")]
    assert len(failed) == 1, output
    assert failed[0].startswith(
        "FAIL database: SELECT 1 as app@fs-fullstack-postgresql:5432/app "
        "(sslmode prefer) never returned 1; last output 'psql: error: "
    ), failed
    assert 'password authentication failed for user "app"' in failed[0]

    # The documented fix: ALTER ROLE in the database, then restart the backend.
    psql(
        kube_api,
        release,
        "ALTER ROLE app PASSWORD :'new_password';",
        variables={"new_password": new_password},
    )
    backend = f"{release.name}-fullstack-backend"
    restart_deployment(kube_api, release.namespace, backend)
    wait_for_rollout(kube_api, release.namespace, backend)

    item_round_trip(kube_api, release, "with-new-password")

    # Upgrading again with the same password warns no more.
    warnings = notes_warnings(release.upgrade(values).stdout)
    assert PASSWORD_CHANGED not in warnings
    assert not any("password was generated" in warning for warning in warnings)
    assert database_secret(kube_api, release)["password"] == new_password.encode()
