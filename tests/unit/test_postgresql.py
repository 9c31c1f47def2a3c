"""The bundled PostgreSQL StatefulSet (C15, C18, C19, C21, C22, C24, C25, C26).

The upgrade-time checks against the live StatefulSet (C15 volume claim
changes, C22 PostgreSQL major) and the init scripts' order are tested against
a real cluster in tests/e2e/test_upgrades.py; here only what a render shows,
and the data-version script of the init container run on a directory.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from helm_render import Manifests, container, env_values, pod_spec

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


def test_offline_render_skips_the_live_checks(render) -> None:
    # Without a cluster, lookup finds nothing: no failure, no panic (C02).
    manifests = render({"postgresql": {"persistence": {"size": "20Gi"}}})

    claim = manifests.get("StatefulSet", STS)["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    assert yaml.safe_dump(claim["metadata"]["labels"]).count("\n") == 3
