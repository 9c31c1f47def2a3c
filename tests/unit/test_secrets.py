"""Database credentials: any password survives, never leaves a Secret, and is
read from the same Secret and key by every consumer (C02, C05, C06, C11, C28).

What upgrades do with the live Secret (C01: the generated passwords are kept,
an explicit one wins, another namespace is never read) is tested against a
real cluster in tests/e2e/test_upgrades.py.
"""

from __future__ import annotations

import base64

import pytest
import yaml
from helm_render import Manifests, env_entries, pod_spec

HOSTILE_PASSWORDS = [
    "%&/()=?: #x*y>",
    "p@ss:w/rd?#%1",
    "a,b\\c",
    "0123456789",
    "x" * 2048,
    "*alias &anchor !tag",
    "- not a list",
    "{{ .Release.Name }}",
    "'single' \"double\" `back`",
    "  padded  ",
    "null",
    "true",
    "1e+06",
    "pässwörd-\u00e9\u4e2d\u6587-\U0001f511",
    "multi\nline",
    "tab\tand\\nliteral",
]
SECRET_NAME = "rel-fullstack-postgresql"


def _secret_refs(manifests: Manifests) -> list[tuple[str, str, str, str]]:
    """(workload, container, env name, secret/key) of every secretKeyRef."""
    refs = []
    for doc, container in manifests.containers():
        for name, entry in env_entries(container).items():
            ref = entry.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.append(
                    (
                        f"{doc['kind']}/{doc['metadata']['name']}",
                        container["name"],
                        name,
                        f"{ref['name']}/{ref['key']}",
                    )
                )
    return refs


# Two hostile passwords per render: the application's and the superuser's.
PASSWORD_PAIRS = list(zip(HOSTILE_PASSWORDS[::2], HOSTILE_PASSWORDS[1::2], strict=True))


@pytest.mark.parametrize(
    ("user", "admin"), PASSWORD_PAIRS, ids=range(len(PASSWORD_PAIRS))
)
def test_hostile_passwords_round_trip_byte_exact(render, user: str, admin: str) -> None:
    # C05/C07: passed through a values file, stored with b64enc.
    manifests = render(
        {"postgresql": {"auth": {"password": user, "adminPassword": admin}}}
    )
    data = manifests.get("Secret", SECRET_NAME)["data"]

    assert base64.b64decode(data["password"]) == user.encode()
    assert base64.b64decode(data["postgres-password"]) == admin.encode()
    # C06: the passwords appear nowhere else, neither raw nor in a URL.
    text_without_secret = "\n".join(
        yaml.safe_dump(doc) for doc in manifests.docs if doc["kind"] != "Secret"
    )
    for password in (user, admin):
        if len(password) > 6:
            assert password not in text_without_secret


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"postgresql": {"auth": {"existingSecret": "db", "username": "postgres"}}},
        {
            "postgresql": {"enabled": False},
            "externalDatabase": {"host": "db.example.test", "existingSecret": "ext"},
        },
    ],
    ids=["bundled", "bundled-superuser", "external"],
)
def test_pgpassword_only_from_secret_key_ref(render, values: dict) -> None:
    manifests = render(values)
    clients = 0

    for doc, container in manifests.containers():
        entries = env_entries(container)
        if "PGPASSWORD" in entries:
            clients += 1
            assert set(entries["PGPASSWORD"]) == {"name", "valueFrom"}
            assert "secretKeyRef" in entries["PGPASSWORD"]["valueFrom"]
        for entry in entries.values():
            if "PASSWORD" in entry["name"]:
                assert "value" not in entry, (doc["metadata"]["name"], entry)
        assert not any(
            "DATABASE_URL" in name or "postgres://" in str(entry.get("value", ""))
            for name, entry in entries.items()
        )
    # backend, backup CronJob, install-time dump and the database test.
    assert clients == 4


def test_existing_secret_with_custom_keys_is_used_by_every_consumer(render) -> None:
    # C11/C28: no consumer falls back to the default key names.
    manifests = render(
        {
            "postgresql": {
                "auth": {
                    "existingSecret": "my-db-secret",
                    "secretKeys": {
                        "userPasswordKey": "db-pass",
                        "adminPasswordKey": "db-admin-pass",
                    },
                }
            },
            "restore": {"enabled": True, "dumpFile": "x.dump"},
        }
    )

    assert manifests.of_kind("Secret") == []
    refs = _secret_refs(manifests)
    assert sorted({ref[3] for ref in refs}) == [
        "my-db-secret/db-admin-pass",
        "my-db-secret/db-pass",
    ]
    user_refs = sorted((ref[0], ref[2]) for ref in refs if ref[3].endswith("/db-pass"))
    assert user_refs == [
        ("CronJob/rel-fullstack-backup", "PGPASSWORD"),
        ("Deployment/rel-fullstack-backend", "PGPASSWORD"),
        ("Job/rel-fullstack-restore", "PGPASSWORD"),
        ("Pod/rel-fullstack-test-database", "PGPASSWORD"),
        ("StatefulSet/rel-fullstack-postgresql", "FULLSTACK_APP_PASSWORD"),
    ]


def test_superuser_mode_uses_one_password(render) -> None:
    manifests = render({"postgresql": {"auth": {"username": "postgres"}}})
    statefulset = manifests.get("StatefulSet", SECRET_NAME)
    env = env_entries(pod_spec(statefulset)["containers"][0])

    assert sorted(manifests.get("Secret", SECRET_NAME)["data"]) == ["password"]
    assert env["POSTGRES_USER"]["value"] == "postgres"
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "password"
    assert "FULLSTACK_APP_USER" not in env


def test_application_role_is_created_by_the_init_script(default_manifests) -> None:
    statefulset = default_manifests.get("StatefulSet", SECRET_NAME)
    env = env_entries(pod_spec(statefulset)["containers"][0])
    script = default_manifests.get("ConfigMap", "rel-fullstack-postgresql-initdb")[
        "data"
    ]["fullstack-init.sh"]

    assert env["POSTGRES_USER"]["value"] == "postgres"
    assert env["POSTGRES_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
        "name": SECRET_NAME,
        "key": "postgres-password",
    }
    assert env["FULLSTACK_APP_USER"]["value"] == "app"
    # psql variables quote the role name and the password for any content.
    assert "CREATE ROLE :\"app_user\" LOGIN PASSWORD :'app_password';" in script
    assert 'ALTER DATABASE :"app_db" OWNER TO :"app_user";' in script


@pytest.mark.parametrize(("keep", "annotated"), [(True, True), (False, False)])
def test_secret_is_kept_on_uninstall_by_default(
    render, keep: bool, annotated: bool
) -> None:
    manifests = render({"postgresql": {"auth": {"keepSecret": keep}}})
    annotations = manifests.get("Secret", SECRET_NAME)["metadata"].get(
        "annotations", {}
    )

    assert (annotations.get("helm.sh/resource-policy") == "keep") is annotated
