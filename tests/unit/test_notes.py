"""NOTES.txt: what was installed, how to reach it, credentials, tests, warnings.

`helm install --dry-run=client` prints the notes without a cluster. The
warning about a password that differs from the stored one needs the live
Secret: tests/e2e/test_upgrades.py checks it on a real upgrade.
"""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Callable

import pytest
from helm_render import (
    CHART_DIR,
    RENDER_TIMEOUT_SECONDS,
    dump_values,
    helm_is_v3,
    isolated_env,
)

from harness.release import merge, notes_warnings


@pytest.fixture(scope="module")
def notes(helm_binary: str, tmp_path_factory) -> Callable[..., str]:
    if helm_is_v3(helm_binary):
        pytest.skip("Helm 3 cannot print NOTES without a cluster (install --dry-run)")
    workdir = tmp_path_factory.mktemp("notes")
    cache: dict[str, str] = {}

    def run(values: dict | None = None) -> str:
        text = dump_values(values or {})
        if text in cache:
            return cache[text]
        values_file = workdir / f"values-{len(cache)}.yaml"
        values_file.write_text(text)
        command = [
            helm_binary,
            "install",
            "rel",
            str(CHART_DIR),
            "-n",
            "team-a",
            "--dry-run=client",
            "--disable-openapi-validation",
            "-f",
            str(values_file),
        ]
        env = {
            "KUBECONFIG": str(workdir / "no-cluster"),
            "PATH": "",
            **isolated_env(workdir),
        }
        result = subprocess.run(
            command,
            check=True,
            timeout=RENDER_TIMEOUT_SECONDS,
            capture_output=True,
            text=True,
            env=env,
        )
        cache[text] = result.stdout.split("\nNOTES:\n", 1)[1]
        return cache[text]

    return run


def test_notes_describe_the_default_install(notes) -> None:
    text = notes()

    assert text.startswith(
        'fullstack 0.1.0 (app 0.1.0) is deployed as release "rel" in namespace '
        '"team-a".\n'
    )
    for line in [
        "  frontend    Deployment and Service rel-fullstack-frontend (ClusterIP, port "
        "80)",
        "  backend     Deployment and Service rel-fullstack-backend (ClusterIP, port "
        "8080)",
        "  database    PostgreSQL 18 StatefulSet and Service rel-fullstack-postgresql "
        '(port 5432), database "app", role "app"',
        '  backup      CronJob rel-fullstack-backup ("30 2 * * *"), dumps in claim '
        "rel-fullstack-backup",
        "  kubectl get pods -n team-a -l "
        "app.kubernetes.io/name=fullstack,app.kubernetes.io/instance=rel",
        "  http://<ingress controller address>/api -> backend",
        "  kubectl port-forward -n team-a service/rel-fullstack-frontend 8080:80",
        "  kubectl get secret rel-fullstack-postgresql -n team-a -o go-template='{{ "
        'index .data "password" | base64decode }}\'',
        "  helm test rel -n team-a --logs",
        # Only this release's test pods, not every release's in the namespace.
        "  a failed test pod is kept: kubectl logs -n team-a -l "
        "app.kubernetes.io/name=fullstack,app.kubernetes.io/instance=rel,"
        "app.kubernetes.io/component=test)",
    ]:
        assert line in text.splitlines(), line


def test_notes_never_contain_a_password(notes) -> None:
    text = notes(
        {"postgresql": {"auth": {"password": "S3cret-Value", "adminPassword": "A"}}}
    )

    assert "S3cret-Value" not in text
    assert base64.b64encode(b"S3cret-Value").decode() not in text


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"frontend": {"service": {"type": "NodePort"}}},
            "  NODE_PORT=$(kubectl get service rel-fullstack-frontend -n team-a -o "
            "jsonpath='{.spec.ports[0].nodePort}')",
        ),
        (
            {"frontend": {"service": {"type": "LoadBalancer"}}},
            "  kubectl get service rel-fullstack-frontend -n team-a --watch   # wait "
            "for EXTERNAL-IP, then:",
        ),
        (
            {
                "ingress": {
                    "hosts": [
                        {
                            "host": "shop.example.test",
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "service": "frontend",
                                }
                            ],
                        }
                    ],
                    "tls": [{"secretName": "t", "hosts": ["shop.example.test"]}],
                }
            },
            "  https://shop.example.test/ -> frontend",
        ),
        (
            {
                "postgresql": {"enabled": False},
                "externalDatabase": {
                    "host": "db.example.test",
                    "existingSecret": "ext",
                },
            },
            "  database    external PostgreSQL at db.example.test:5432, database "
            '"app", '
            'role "app", sslmode require',
        ),
    ],
    ids=["NodePort", "LoadBalancer", "tls-host", "external"],
)
def test_notes_follow_the_settings(notes, values: dict, expected: str) -> None:
    assert expected in notes(values).splitlines()


def test_defaultnotes_warnings(notes) -> None:
    assert notes_warnings(notes()) == [
        "frontend.replicaCount is 1: a node drain or rollout problem takes the "
        "frontend down; use 2 or more with podDisruptionBudget.enabled for production.",
        "backend.replicaCount is 1: a node drain or rollout problem takes the backend "
        "down; use 2 or more with podDisruptionBudget.enabled for production.",
        "a database password was generated. Helm reuses it on upgrades by reading the "
        "live Secret, but an offline render (helm template, --dry-run=client, GitOps "
        "tools) cannot read it and generates a new one each time; for GitOps use "
        "postgresql.auth.existingSecret.",
        "an ingress rule has no host: it answers every host name the ingress "
        "controller serves. Set ingress.hosts[].host on shared controllers.",
    ]


def test_risky_settings_are_warned_about(notes) -> None:
    warnings = notes_warnings(
        notes(
            {
                "frontend": {
                    "replicaCount": 2,
                    "podDisruptionBudget": {
                        "enabled": True,
                        "minAvailable": 2,
                        "maxUnavailable": "",
                    },
                },
                "backend": {"replicaCount": 2},
                "postgresql": {
                    "auth": {"existingSecret": "db"},
                    "persistence": {"enabled": False},
                    "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete"},
                    "volumePermissions": {"enabled": True},
                    "service": {"type": "LoadBalancer"},
                },
                "backup": {"enabled": False},
                "ingress": {"enabled": False},
            }
        )
    )

    assert warnings == [
        "postgresql.persistence.enabled is false: the database lives in an emptyDir "
        "and is lost whenever its pod is deleted or moved.",
        "postgresql.persistentVolumeClaimRetentionPolicy.whenDeleted is Delete: helm "
        "uninstall deletes the database volume.",
        "backup.enabled is false: no dumps are taken.",
        "frontend.podDisruptionBudget.minAvailable is not lower than replicaCount: "
        "node drains will wait forever.",
        "volumePermissions is enabled: an init container runs as root, which Pod "
        'Security "restricted" namespaces reject.',
        "postgresql.service.type is LoadBalancer: the database is reachable from "
        "outside the cluster.",
    ]


def test_frontend_proxy_target_blocked_by_its_network_policy_is_warned_about(
    notes,
) -> None:
    elsewhere = {"frontend": {"backendUrl": "http://api.other-team:8080"}}
    warning = (
        "frontend.backendUrl is set and networkPolicy.frontend.extraEgress is "
        "empty: the frontend's NetworkPolicy lets it reach only DNS and this "
        "release's backend pods, so /api/ fails for any other backend until "
        "networkPolicy.frontend.extraEgress allows it."
    )
    egress = [{"to": [{"namespaceSelector": {}}], "ports": [{"port": 8080}]}]

    policy = {"networkPolicy": {"enabled": True}}
    allowed = {"networkPolicy": {"enabled": True, "frontend": {"extraEgress": egress}}}
    no_frontend = {"frontend": {"enabled": False}, "ingress": {"enabled": False}}

    assert warning in notes_warnings(notes(merge(elsewhere, policy)))
    # Nothing to warn about without a policy, with an egress rule for the
    # backend, without backendUrl, or without a frontend.
    for values in (
        elsewhere,
        merge(elsewhere, allowed),
        policy,
        merge(elsewhere, policy, no_frontend),
    ):
        assert warning not in notes_warnings(notes(values)), values
