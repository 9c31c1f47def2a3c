"""The bundled PostgreSQL StatefulSet (C15, C18, C19, C21, C22, C24, C25, C26)."""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path

import pytest
import yaml
from helm_render import Manifests, container, env_values, failure_message, pod_spec

STS = "rel-fullstack-postgresql"
MAJOR_ANNOTATION = "fullstack-chart.github.io/postgresql-major"


@pytest.fixture(scope="module")
def statefulset(default_manifests: Manifests) -> dict:
    return default_manifests.get("StatefulSet", STS)


def _mounts(item: dict) -> dict[str, str]:
    return {m["mountPath"]: m["name"] for m in item.get("volumeMounts", [])}


def test_pgdata_is_a_subdirectory_of_the_volume(statefulset: dict) -> None:
    # C18: lost+found at the mount root must not stop initdb.
    postgres = container(statefulset, "postgresql")

    assert env_values(postgres)["PGDATA"] == "/var/lib/postgresql/data/pgdata"
    assert _mounts(postgres)["/var/lib/postgresql/data"] == "data"


def test_security_defaults_match_the_image_user(statefulset: dict) -> None:
    # C19/C54: uid/gid 999, fsGroup applied only when the root does not match.
    pod = pod_spec(statefulset)["securityContext"]
    postgres = container(statefulset, "postgresql")["securityContext"]

    assert pod["runAsUser"] == pod["fsGroup"] == pod["runAsGroup"] == 999
    assert pod["fsGroupChangePolicy"] == "OnRootMismatch"
    assert postgres["runAsUser"] == 999
    assert postgres["runAsNonRoot"] is True


def test_read_only_root_has_writable_run_tmp_and_shm(statefulset: dict) -> None:
    # C26: socket/lock dir, temp files and shared memory are emptyDirs.
    postgres = container(statefulset, "postgresql")
    volumes = {v["name"]: v for v in pod_spec(statefulset)["volumes"]}
    mounts = _mounts(postgres)

    assert postgres["securityContext"]["readOnlyRootFilesystem"] is True
    assert volumes[mounts["/var/run/postgresql"]] == {"name": "run", "emptyDir": {}}
    assert volumes[mounts["/tmp"]] == {"name": "tmp", "emptyDir": {}}
    assert volumes[mounts["/dev/shm"]]["emptyDir"] == {
        "medium": "Memory",
        "sizeLimit": "256Mi",
    }


def test_volume_permissions_is_opt_in(statefulset: dict, render) -> None:
    # C21: storage that ignores fsGroup gets a root init container on request.
    names = [c["name"] for c in pod_spec(statefulset)["initContainers"]]
    manifests = render({"postgresql": {"volumePermissions": {"enabled": True}}})
    init = pod_spec(manifests.get("StatefulSet", STS))["initContainers"]

    assert names == ["check-data-version"]
    assert [c["name"] for c in init] == ["volume-permissions", "check-data-version"]
    assert init[0]["securityContext"]["runAsUser"] == 0
    assert init[0]["securityContext"]["capabilities"]["add"] == [
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
    ]
    assert "-exec chown 999:999 {} +" in init[0]["command"][2]


def test_startup_probe_gates_a_patient_liveness_probe(statefulset: dict) -> None:
    # C24: minutes of startup budget; liveness tolerates "starting/recovering".
    postgres = container(statefulset, "postgresql")
    startup, liveness = postgres["startupProbe"], postgres["livenessProbe"]

    assert startup["periodSeconds"] * startup["failureThreshold"] >= 600
    assert liveness["exec"]["command"][-1].endswith("; test $? -le 1")
    assert "pg_isready" in liveness["exec"]["command"][-1]
    assert postgres["readinessProbe"]["exec"]["command"][-1] == (
        "pg_isready --quiet --host=/var/run/postgresql --port=5432"
    )


def test_user_liveness_timings_keep_the_startup_gate(render) -> None:
    # C24's trigger: an impatient liveness probe still waits for startup.
    manifests = render(
        {
            "postgresql": {
                "probes": {
                    "liveness": {
                        "initialDelaySeconds": 10,
                        "periodSeconds": 5,
                        "failureThreshold": 3,
                    }
                }
            }
        }
    )
    postgres = container(manifests.get("StatefulSet", STS), "postgresql")

    assert postgres["livenessProbe"]["periodSeconds"] == 5
    assert postgres["startupProbe"]["failureThreshold"] == 60


def test_custom_probe_replaces_the_chart_probe(render) -> None:
    custom = {"tcpSocket": {"port": "postgresql"}, "periodSeconds": 7}
    manifests = render({"postgresql": {"probes": {"readiness": {"custom": custom}}}})
    postgres = container(manifests.get("StatefulSet", STS), "postgresql")

    assert postgres["readinessProbe"] == custom


def test_headless_service_matches_service_name(default_manifests, statefulset) -> None:
    # C25: serviceName resolves, and clients use a separate ClusterIP Service.
    headless = default_manifests.get("Service", statefulset["spec"]["serviceName"])
    client = default_manifests.get("Service", STS)

    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    assert (
        headless["spec"]["selector"] == statefulset["spec"]["selector"]["matchLabels"]
    )
    assert "clusterIP" not in client["spec"]
    assert client["spec"]["type"] == "ClusterIP"


def test_claims_are_retained_by_default(statefulset: dict) -> None:
    assert statefulset["spec"]["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Retain",
    }
    assert statefulset["metadata"]["annotations"][MAJOR_ANNOTATION] == "18"


@pytest.mark.parametrize(
    ("persistence", "volume", "templates"),
    [
        ({"enabled": False}, {"name": "data", "emptyDir": {}}, None),
        (
            {"existingClaim": "pg-data"},
            {"name": "data", "persistentVolumeClaim": {"claimName": "pg-data"}},
            None,
        ),
        ({"storageClass": "-"}, None, ""),
        ({"storageClass": "fast-ssd"}, None, "fast-ssd"),
    ],
    ids=["emptyDir", "existingClaim", "no-provisioning", "storageClass"],
)
def test_persistence_modes(render, persistence, volume, templates) -> None:
    statefulset = render({"postgresql": {"persistence": persistence}}).get(
        "StatefulSet", STS
    )
    volumes = {v["name"]: v for v in pod_spec(statefulset)["volumes"]}

    if volume is not None:
        assert volumes["data"] == volume
        assert "volumeClaimTemplates" not in statefulset["spec"]
    else:
        [claim] = statefulset["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["storageClassName"] == templates
        assert "data" not in volumes


def test_server_parameters_become_command_arguments(render) -> None:
    manifests = render(
        {
            "postgresql": {
                "parameters": {
                    "max_connections": 200,
                    "shared_buffers": "256MB",
                    "work_mem": 4194304,
                    "jit": False,
                }
            }
        }
    )
    postgres = container(manifests.get("StatefulSet", STS), "postgresql")

    assert postgres["args"] == [
        "postgres",
        "-c",
        "jit=false",
        "-c",
        "max_connections=200",
        "-c",
        "shared_buffers=256MB",
        "-c",
        "work_mem=4194304",
    ]


def test_init_scripts_land_in_the_init_configmap(render) -> None:
    scripts = {
        "10-schema.sql": "CREATE TABLE t (id int);\n",
        "20-seed.sh": "echo seed\n",
    }
    manifests = render({"postgresql": {"initScripts": scripts}})
    data = manifests.get("ConfigMap", "rel-fullstack-postgresql-initdb")["data"]

    assert {k: v for k, v in data.items() if k != "fullstack-init.sh"} == scripts


def test_init_script_creates_the_role_then_runs_scripts_in_order(
    default_manifests: Manifests, tmp_path: Path
) -> None:
    # Run the chart's init script as docker-entrypoint.sh would (sourced by bash)
    # with a psql stand-in that records its arguments and input.
    script = default_manifests.get("ConfigMap", "rel-fullstack-postgresql-initdb")[
        "data"
    ]["fullstack-init.sh"]
    scripts = tmp_path / "initdb.d"
    scripts.mkdir()
    (scripts / "b-second.sql").write_text("select 2;\n")
    (scripts / "A-first.sh").write_text('echo "user script sees $POSTGRES_DB"\n')
    (scripts / "fullstack-init.sh").write_text(script)
    stub = tmp_path / "psql"
    stub.write_text('#!/bin/bash\n{ echo "psql $*"; cat; } >> "$PSQL_LOG"\n')
    stub.chmod(0o755)
    log = tmp_path / "psql.log"
    entry = script.replace("/fullstack/initdb.d", str(scripts))

    result = subprocess.run(
        ["bash", "-Eeo", "pipefail", "-c", entry],
        check=False,
        timeout=30,
        capture_output=True,
        text=True,
        input="",
        env={
            "PATH": f"{tmp_path}:/usr/bin:/bin",
            "PSQL_LOG": str(log),
            "POSTGRES_USER": "postgres",
            "POSTGRES_DB": "shop",
            "FULLSTACK_APP_USER": "app'user",
            "FULLSTACK_APP_PASSWORD": "pw'\"; --",
        },
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "fullstack: creating role app'user, owner of database shop",
        f"fullstack: sourcing {scripts}/A-first.sh",
        "user script sees shop",
        f"fullstack: running {scripts}/b-second.sql",
    ]
    calls = log.read_text()
    assert calls.startswith(
        "psql -v ON_ERROR_STOP=1 --no-psqlrc --no-password --username postgres "
        "--dbname shop --set=app_user=app'user --set=app_password=pw'\"; -- "
        "--set=app_db=shop\nCREATE ROLE"
    )
    assert f"--dbname shop -f {scripts}/b-second.sql" in calls


def _check_data_version(script: str, tmp_path: Path, found: str | None, major: str):
    pgdata = tmp_path / "pgdata"
    pgdata.mkdir(exist_ok=True)
    if found is not None:
        (pgdata / "PG_VERSION").write_text(found + "\n")
    return subprocess.run(
        ["bash", "-ec", script],
        check=False,
        timeout=30,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "PGDATA": str(pgdata), "PG_MAJOR": major},
    )


@pytest.mark.parametrize(
    ("found", "rc", "output"),
    [
        (
            None,
            0,
            "check-data-version: no data directory yet; PostgreSQL 18 will create it\n",
        ),
        (
            "18",
            0,
            "check-data-version: data directory and image are both PostgreSQL 18\n",
        ),
    ],
)
def test_data_version_check_passes(statefulset, tmp_path, found, rc, output) -> None:
    script = container(statefulset, "check-data-version")["command"][2]

    result = _check_data_version(script, tmp_path, found, "18")

    assert (result.returncode, result.stdout, result.stderr) == (rc, output, "")


def test_data_version_check_refuses_an_older_data_directory(
    statefulset, tmp_path
) -> None:
    # C22: a new major never starts on an old data directory.
    script = container(statefulset, "check-data-version")["command"][2]

    result = _check_data_version(script, tmp_path, "17", "18")

    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"check-data-version: ERROR: the data directory {tmp_path}/pgdata was created "
        "by PostgreSQL 17, but the image runs PostgreSQL 18.",
        "PostgreSQL 18 cannot open the data files of another major version;",
        "nothing was started or changed. To move to PostgreSQL 18: go back to the",
        "PostgreSQL 17 image (postgresql.image.tag), take a dump (backup Job or",
        "pg_dump -Fc), install PostgreSQL 18 on a new volume and restore the dump",
        "(restore.enabled, restore.dumpFile). See the chart README, section",
        '"Upgrading PostgreSQL to a new major version".',
    ]


def _live_statefulset(fixed_manifests: Manifests, **changes) -> dict:
    """The chart's own StatefulSet as the API server would return it."""
    live = copy.deepcopy(fixed_manifests.get("StatefulSet", STS))
    claim = live["spec"]["volumeClaimTemplates"][0]
    claim["spec"]["volumeMode"] = "Filesystem"
    claim["status"] = {"phase": "Pending"}
    if "major" in changes:
        live["metadata"]["annotations"][MAJOR_ANNOTATION] = changes["major"]
    if changes.get("drop_annotation"):
        del live["metadata"]["annotations"][MAJOR_ANNOTATION]
        container(live, "postgresql")["image"] = "docker.io/library/postgres:17.2"
    if "size" in changes:
        claim["spec"]["resources"]["requests"]["storage"] = changes["size"]
    if "storage_class" in changes:
        claim["spec"]["storageClassName"] = changes["storage_class"]
    return live


def _live_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0, "the upgrade render should have failed"
    return failure_message(result.stderr)


def test_unchanged_upgrade_passes_the_live_checks(
    cluster, render_live, fixed_manifests
):
    # An upgrade that changes nothing about storage or the major never fails.
    cluster.add(_live_statefulset(fixed_manifests, size="8192Mi"), "rel")

    result = render_live(
        {
            "postgresql": {"auth": {"password": "p", "adminPassword": "a"}},
            "backend": {"replicaCount": 3},
        }
    )

    assert result.returncode == 0, result.stderr
    assert f"/apis/apps/v1/namespaces/team-a/statefulsets/{STS}" in cluster.requests


@pytest.mark.parametrize(
    "live",
    [{"major": "17"}, {"drop_annotation": True}],
    ids=["annotation", "image-tag"],
)
def test_major_version_change_fails_before_anything_is_patched(
    cluster, render_live, fixed_manifests, live
) -> None:
    # C22: the recorded major (or the running image's) differs from the request.
    cluster.add(_live_statefulset(fixed_manifests, **live), "rel")

    error = _live_error(render_live())

    assert error == (
        "fullstack: 1 problem in the values:\n- postgresql.image.tag: the StatefulSet "
        "rel-fullstack-postgresql runs PostgreSQL "
        '17 and "18.6" is PostgreSQL 18; a new major cannot open the old data '
        "directory, so nothing was changed. Keep a 17.x tag, or move by dump and "
        "restore (README "
        '"Upgrading PostgreSQL to a new major version").'
    )


def test_volume_size_change_fails_with_the_resize_procedure(
    cluster, render_live, fixed_manifests
) -> None:
    # C15: volumeClaimTemplates are immutable.
    cluster.add(_live_statefulset(fixed_manifests), "rel")

    error = _live_error(render_live({"postgresql": {"persistence": {"size": "20Gi"}}}))

    assert error == (
        "fullstack: 1 problem in the values:\n- postgresql.persistence.size: the "
        "StatefulSet rel-fullstack-postgresql was created with 8Gi and Kubernetes "
        "cannot change volumeClaimTemplates, so 20Gi cannot be applied by the chart. "
        "Keep 8Gi, or resize by hand (the StorageClass must allow expansion): 1) "
        "kubectl patch pvc data-rel-fullstack-postgresql-0 -n team-a -p "
        """'{"spec":{"resources":{"requests":{"storage":"20Gi"}}}}' """
        "2) kubectl delete statefulset rel-fullstack-postgresql -n team-a "
        "--cascade=orphan 3) helm upgrade again with postgresql.persistence.size=20Gi "
        '(README "Resizing the database volume").'
    )


def test_storage_class_and_claim_changes_are_listed_together(
    cluster, render_live, fixed_manifests
) -> None:
    cluster.add(_live_statefulset(fixed_manifests, storage_class="standard"), "rel")

    error = _live_error(
        render_live(
            {
                "postgresql": {
                    "persistence": {
                        "storageClass": "fast",
                        "accessModes": ["ReadWriteOncePod"],
                        "annotations": {"backup.velero.io/skip": "true"},
                    }
                }
            }
        )
    )

    assert error.splitlines() == [
        "fullstack: 3 problems in the values:",
        "- postgresql.persistence.storageClass: the StatefulSet "
        "rel-fullstack-postgresql "
        'was created with storage class "standard" and Kubernetes cannot change '
        'volumeClaimTemplates, so "fast" cannot be applied. Keep the old class, or '
        "move the data: take a dump, uninstall, delete the claim "
        "data-rel-fullstack-postgresql-0, install with the new class and restore the "
        "dump "
        '(README "Restoring").',
        "- postgresql.persistence.accessModes: the StatefulSet "
        "rel-fullstack-postgresql "
        'was created with ["ReadWriteOnce"] and Kubernetes cannot change '
        'volumeClaimTemplates; keep ["ReadWriteOnce"].',
        "- postgresql.persistence.annotations: the StatefulSet "
        "rel-fullstack-postgresql was created with {} and Kubernetes cannot change "
        "volumeClaimTemplates; keep them, and annotate the claim "
        "data-rel-fullstack-postgresql-0 with kubectl instead.",
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"postgresql": {"persistence": {"existingClaim": "pg"}}},
            "- postgresql.persistence: the StatefulSet rel-fullstack-postgresql was "
            "created with its own volume claim, and Kubernetes cannot remove "
            "volumeClaimTemplates; keep persistence.enabled=true without "
            "existingClaim, or delete the StatefulSet "
            'first with "kubectl delete statefulset rel-fullstack-postgresql -n team-a '
            '--cascade=orphan" (the claim and its data stay).',
        ),
    ],
)
def test_switching_to_an_existing_claim_is_refused(
    cluster, render_live, fixed_manifests, values, message
) -> None:
    cluster.add(_live_statefulset(fixed_manifests), "rel")

    error = _live_error(render_live(values))

    assert error.splitlines()[1] == message


def test_switching_from_an_existing_claim_is_refused(
    cluster, render_live, render
) -> None:
    installed = render({"postgresql": {"persistence": {"existingClaim": "pg"}}})
    cluster.add(copy.deepcopy(installed.get("StatefulSet", STS)), "rel")

    error = _live_error(render_live())

    assert error.splitlines()[1] == (
        "- postgresql.persistence: the StatefulSet rel-fullstack-postgresql was "
        "created without its own volume claim (persistence off or an existing claim), "
        "and Kubernetes cannot add volumeClaimTemplates; keep the previous persistence "
        'values, or delete the StatefulSet first with "kubectl delete statefulset '
        'rel-fullstack-postgresql -n team-a --cascade=orphan".'
    )


def test_offline_render_skips_the_live_checks(render) -> None:
    # Without a cluster, lookup finds nothing: no failure, no panic (C02).
    manifests = render({"postgresql": {"persistence": {"size": "20Gi"}}})

    claim = manifests.get("StatefulSet", STS)["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert yaml.safe_dump(claim["metadata"]["labels"]).count("\n") == 3
