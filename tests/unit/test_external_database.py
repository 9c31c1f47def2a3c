"""External database mode renders nothing of the bundled PostgreSQL (C56)."""

from __future__ import annotations

import pytest
from helm_render import Manifests, env_entries, env_values, pod_spec

EXTERNAL = {
    "postgresql": {"enabled": False},
    "externalDatabase": {
        "host": "db.example.test",
        "port": 6543,
        "database": "shop",
        "username": "shopper",
        "existingSecret": "ext-db",
        "existingSecretPasswordKey": "pw",
        "sslmode": "verify-full",
        "cidrs": ["10.20.0.0/16"],
    },
    "networkPolicy": {"enabled": True},
    "restore": {"enabled": True, "dumpFile": "shop.dump"},
}


@pytest.fixture(scope="module")
def external(render) -> Manifests:
    return render(EXTERNAL)


def test_nothing_refers_to_the_bundled_database(external: Manifests) -> None:
    assert "postgresql" not in external.text.replace("docker.io/library/postgres", "")
    assert external.of_kind("StatefulSet") == []
    assert external.of_kind("Secret") == []
    assert sorted(external.names("PersistentVolumeClaim")) == ["rel-fullstack-backup"]
    assert external.names("Service") == [
        "rel-fullstack-backend",
        "rel-fullstack-frontend",
    ]
    assert [c["metadata"]["name"] for c in external.of_kind("ConfigMap")] == [
        "rel-fullstack-backend"
    ]


def test_every_client_connects_to_the_external_server(external: Manifests) -> None:
    clients = []
    for doc, container in external.containers():
        entries = env_entries(container)
        if "PGHOST" not in entries:
            continue
        clients.append(f"{doc['kind']}/{container['name']}")
        assert {
            k: v for k, v in env_values(container).items() if k.startswith("PG")
        } == {
            "PGHOST": "db.example.test",
            "PGPORT": "6543",
            "PGDATABASE": "shop",
            "PGUSER": "shopper",
            "PGSSLMODE": "verify-full",
        }
        assert entries["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": "ext-db",
            "key": "pw",
        }

    assert sorted(clients) == [
        "CronJob/backup",
        "Deployment/backend",
        "Job/restore",
        "Pod/test-database",
    ]


def test_network_policies_allow_the_external_cidr(external: Manifests) -> None:
    for name in ("rel-fullstack-backend", "rel-fullstack-backup"):
        egress = external.get("NetworkPolicy", name)["spec"]["egress"]
        assert {
            "ports": [{"protocol": "TCP", "port": 6543}],
            "to": [{"ipBlock": {"cidr": "10.20.0.0/16"}}],
        } in egress


def test_without_cidrs_the_port_is_open_to_any_address(render) -> None:
    values = {
        **EXTERNAL,
        "externalDatabase": {**EXTERNAL["externalDatabase"], "cidrs": []},
    }
    manifests = render(values)

    egress = manifests.get("NetworkPolicy", "rel-fullstack-backend")["spec"]["egress"]
    assert {"ports": [{"protocol": "TCP", "port": 6543}]} in egress


CA = {
    "extraEnv": [{"name": "PGSSLROOTCERT", "value": "/etc/db-ca/ca.crt"}],
    "extraVolumes": [{"name": "db-ca", "configMap": {"name": "db-ca"}}],
    "extraVolumeMounts": [
        {"name": "db-ca", "mountPath": "/etc/db-ca", "readOnly": True}
    ],
}


def test_verify_full_ca_reaches_every_client_as_the_readme_says(render) -> None:
    # README "External database": the same extra* settings on backend, backup
    # and tests put the CA into every pod that connects (the restore Job
    # takes backup's), so verify-full works for all of them.
    manifests = render({**EXTERNAL, "backend": CA, "backup": CA, "tests": CA})

    clients = []
    for doc, container in manifests.containers():
        if "PGHOST" not in env_entries(container):
            continue
        clients.append(f"{doc['kind']}/{container['name']}")
        assert env_values(container)["PGSSLROOTCERT"] == "/etc/db-ca/ca.crt"
        assert CA["extraVolumeMounts"][0] in container["volumeMounts"]
        assert CA["extraVolumes"][0] in pod_spec(doc)["volumes"]
    assert sorted(clients) == [
        "CronJob/backup",
        "Deployment/backend",
        "Job/restore",
        "Pod/test-database",
    ]


def test_restore_job_takes_every_extra_setting_of_the_backup(render) -> None:
    init = {"name": "fetch", "image": "busybox:1.37", "command": ["true"]}
    env_from = {"secretRef": {"name": "dump-store"}}
    manifests = render(
        {
            **EXTERNAL,
            "backup": {**CA, "extraEnvFrom": [env_from], "extraInitContainers": [init]},
        }
    )

    for kind, name in [
        ("CronJob", "rel-fullstack-backup"),
        ("Job", "rel-fullstack-restore"),
    ]:
        spec = pod_spec(manifests.get(kind, name))
        assert spec["initContainers"] == [init], kind
        assert spec["containers"][0]["envFrom"] == [env_from], kind


def test_database_settings_cannot_be_replaced_in_any_client(render_error) -> None:
    pghost = [{"name": "PGHOST", "value": "elsewhere"}]
    error = render_error(
        {
            "backend": {"extraEnv": pghost},
            "backup": {"extraEnv": pghost},
            "tests": {"extraEnv": pghost},
        }
    )

    assert error.splitlines() == [
        "fullstack: 3 problems in the values:",
        *(
            f"- {component}.extraEnv[0].name: PGHOST is set by the chart from "
            "postgresql.auth or externalDatabase and cannot be replaced."
            for component in ("backend", "backup", "tests")
        ),
    ]
