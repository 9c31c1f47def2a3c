"""The default render: which objects, in which namespace, valid, deterministic."""

from __future__ import annotations

import base64
import re
import string

import kubernetes_validate
import pytest
import yaml
from helm_render import CHART_DIR, DEFAULT_NAMESPACE, Manifests, walk_strings

# Oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest
# the validator knows; every rendered object must be valid for both.
KUBERNETES_VERSIONS = ("1.33", "1.37")
# Kinds whose schema is not part of Kubernetes itself.
CRD_KINDS = {"HTTPRoute"}
CI_SCENARIOS = sorted(p.name for p in (CHART_DIR / "ci").glob("*-values.yaml"))

EXPECTED_DEFAULT_OBJECTS = [
    ("ConfigMap", "rel-fullstack-backend"),
    ("ConfigMap", "rel-fullstack-postgresql-initdb"),
    ("CronJob", "rel-fullstack-backup"),
    ("Deployment", "rel-fullstack-backend"),
    ("Deployment", "rel-fullstack-frontend"),
    ("Ingress", "rel-fullstack"),
    ("Job", "INITIAL-DUMP"),
    ("PersistentVolumeClaim", "rel-fullstack-backup"),
    ("Pod", "rel-fullstack-test-backend"),
    ("Pod", "rel-fullstack-test-database"),
    ("Pod", "rel-fullstack-test-frontend"),
    ("Secret", "rel-fullstack-postgresql"),
    ("Service", "rel-fullstack-backend"),
    ("Service", "rel-fullstack-frontend"),
    ("Service", "rel-fullstack-postgresql"),
    ("Service", "rel-fullstack-postgresql-hl"),
    ("ServiceAccount", "rel-fullstack-backend"),
    ("ServiceAccount", "rel-fullstack-frontend"),
    ("StatefulSet", "rel-fullstack-postgresql"),
]


def test_default_render_has_every_expected_object(default_manifests: Manifests) -> None:
    # The install-time dump Job is named after a hash of its spec.
    jobs = default_manifests.names("Job")
    assert len(jobs) == 1
    assert re.fullmatch(r"rel-fullstack-backup-[0-9a-f]{8}", jobs[0])

    expected = sorted(
        (kind, jobs[0] if name == "INITIAL-DUMP" else name)
        for kind, name in EXPECTED_DEFAULT_OBJECTS
    )
    assert default_manifests.kinds() == expected


def test_default_render_has_no_null_and_no_empty_names(
    default_manifests: Manifests,
) -> None:
    # C42: optional blocks are omitted, not rendered as null or empty entries.
    assert not re.search(r":\s*null\s*$", default_manifests.text, re.MULTILINE)
    for doc in default_manifests.docs:
        for path, leaf in walk_strings(doc):
            assert leaf is not None, f"{doc['kind']} {path} is null"
            if path.endswith(".name"):
                assert leaf != "", f"{doc['kind']} {path} is an empty name"


@pytest.mark.parametrize(
    ("values", "namespace"),
    [
        ({}, DEFAULT_NAMESPACE),
        ({"namespaceOverride": "shop-prod"}, "shop-prod"),
    ],
    ids=["release-namespace", "namespaceOverride"],
)
def test_every_object_carries_the_namespace(render, values, namespace) -> None:
    # C46: nothing lands in the kubectl context's namespace or in "default".
    manifests = render({**values, "networkPolicy": {"enabled": True}})

    assert {doc["metadata"].get("namespace") for doc in manifests.docs} == {namespace}
    assert "default" not in {
        leaf for _, leaf in walk_strings(list(manifests.docs)) if isinstance(leaf, str)
    }
    assert ".svc.cluster.local" not in manifests.text


def test_rendering_twice_gives_identical_output(renderer) -> None:
    values = {"postgresql": {"auth": {"password": "p", "adminPassword": "a"}}}

    first = renderer.run(values, cache=False)
    second = renderer.run(values, cache=False)

    assert first.returncode == second.returncode == 0
    assert first.stdout == second.stdout


def test_offline_renders_differ_only_in_the_generated_passwords(renderer) -> None:
    # C02 and C12: only the Secret carries random data, and no checksum hashes it.
    first = renderer.run(cache=False)
    second = renderer.run(cache=False)
    docs = [list(yaml.safe_load_all(r.stdout)) for r in (first, second)]

    changed = [
        (a["kind"], a["metadata"]["name"])
        for a, b in zip(*docs, strict=True)
        if a is not None and a != b
    ]
    assert changed == [("Secret", "rel-fullstack-postgresql")]


def test_generated_passwords_are_32_alphanumeric_characters(
    default_manifests: Manifests,
) -> None:
    # C02: a generated value is valid base64 of the expected length.
    secret = default_manifests.get("Secret", "rel-fullstack-postgresql")
    allowed = set(string.ascii_letters + string.digits)

    assert sorted(secret["data"]) == ["password", "postgres-password"]
    for encoded in secret["data"].values():
        decoded = base64.b64decode(encoded, validate=True).decode()
        assert len(decoded) == 32
        assert set(decoded) <= allowed


# Every optional object and opt-in container at once.
EVERYTHING = {
    "networkPolicy": {"enabled": True},
    "restore": {"enabled": True, "dumpFile": "x.dump"},
    "frontend": {
        "service": {"type": "NodePort", "nodePort": 30080},
        "autoscaling": {"enabled": True},
        "resources": {"requests": {"cpu": "10m"}},
        "podDisruptionBudget": {"enabled": True},
        "extraEnv": [{"name": "FLAG", "value": True}],
    },
    "backend": {"service": {"type": "LoadBalancer"}, "config": {"N": 1000000}},
    "postgresql": {
        "volumePermissions": {"enabled": True},
        "parameters": {"max_connections": 50},
        "initScripts": {"01.sql": "select 1;"},
        "persistence": {"storageClass": "-"},
    },
    "backup": {"volumePermissions": {"enabled": True}, "timeZone": "Etc/UTC"},
    "global": {"imagePullSecrets": ["regcred"]},
}


@pytest.mark.parametrize("scenario", [*CI_SCENARIOS, "everything"])
@pytest.mark.parametrize("kubernetes_version", KUBERNETES_VERSIONS)
def test_ci_scenarios_render_valid_kubernetes_objects(
    render, scenario: str, kubernetes_version: str
) -> None:
    # C38/C40/C42/C43: types and shapes are accepted by the Kubernetes schema.
    if scenario == "everything":
        values = EVERYTHING
    else:
        values = yaml.safe_load((CHART_DIR / "ci" / scenario).read_text()) or {}
    manifests = render(values)

    for doc in manifests.docs:
        if doc["kind"] in CRD_KINDS:
            continue
        kubernetes_validate.validate(doc, kubernetes_version, strict=True)


def test_ci_scenario_files_are_named_for_chart_testing() -> None:
    # ct only reads ci/*-values.yaml; any other file there would be ignored.
    assert sorted(p.name for p in (CHART_DIR / "ci").iterdir()) == CI_SCENARIOS
    assert CI_SCENARIOS == [
        "default-values.yaml",
        "external-database-values.yaml",
        "production-values.yaml",
    ]
