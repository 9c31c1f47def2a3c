"""NetworkPolicies (C55): least privilege, and DNS is never blocked."""

from __future__ import annotations

import pytest
from helm_render import Manifests

DNS_RULE = {
    "to": [
        {
            "namespaceSelector": {
                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
            },
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    ],
    "ports": [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}],
}


def _component_peer(component: str) -> dict:
    return {
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/component": component,
                "app.kubernetes.io/instance": "rel",
                "app.kubernetes.io/name": "fullstack",
            }
        }
    }


@pytest.fixture(scope="module")
def policies(render) -> Manifests:
    return render({"networkPolicy": {"enabled": True}})


def test_policies_are_off_by_default(default_manifests: Manifests) -> None:
    assert default_manifests.of_kind("NetworkPolicy") == []


def test_every_policy_allows_dns(policies: Manifests) -> None:
    names = policies.names("NetworkPolicy")

    assert names == [
        "rel-fullstack-backend",
        "rel-fullstack-backup",
        "rel-fullstack-frontend",
        "rel-fullstack-postgresql",
    ]
    for policy in policies.of_kind("NetworkPolicy"):
        assert policy["spec"]["policyTypes"] == ["Ingress", "Egress"]
        assert policy["spec"]["egress"][0] == DNS_RULE


def test_database_accepts_only_its_clients(policies: Manifests) -> None:
    policy = policies.get("NetworkPolicy", "rel-fullstack-postgresql")

    assert policy["spec"]["ingress"] == [
        {
            "from": [
                _component_peer(c) for c in ("backend", "backup", "restore", "test")
            ],
            "ports": [{"protocol": "TCP", "port": 5432}],
        }
    ]
    assert policy["spec"]["egress"] == [DNS_RULE]


def test_backend_accepts_frontend_ingress_controller_and_tests(
    policies: Manifests,
) -> None:
    policy = policies.get("NetworkPolicy", "rel-fullstack-backend")

    assert policy["spec"]["ingress"] == [
        {
            "from": [
                _component_peer("frontend"),
                {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}
                    }
                },
                _component_peer("test"),
            ],
            "ports": [{"protocol": "TCP", "port": 8080}],
        }
    ]
    assert policy["spec"]["egress"][1] == {
        "to": [_component_peer("postgresql")],
        "ports": [{"protocol": "TCP", "port": 5432}],
    }


def test_ingress_controller_selector_is_configurable(render) -> None:
    manifests = render(
        {
            "networkPolicy": {
                "enabled": True,
                "ingressController": {
                    "namespaceSelector": {
                        "matchLabels": {"kubernetes.io/metadata.name": "traefik"}
                    },
                    "podSelector": {
                        "matchLabels": {"app.kubernetes.io/name": "traefik"}
                    },
                },
                "backend": {
                    "extraEgress": [{"to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}]}]
                },
            }
        }
    )
    frontend = manifests.get("NetworkPolicy", "rel-fullstack-frontend")
    backend = manifests.get("NetworkPolicy", "rel-fullstack-backend")

    assert frontend["spec"]["ingress"][0]["from"][0] == {
        "namespaceSelector": {
            "matchLabels": {"kubernetes.io/metadata.name": "traefik"}
        },
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": "traefik"}},
    }
    assert backend["spec"]["egress"][-1] == {
        "to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}]
    }


def test_backup_policy_covers_backup_and_restore_pods(policies: Manifests) -> None:
    policy = policies.get("NetworkPolicy", "rel-fullstack-backup")

    assert policy["spec"]["podSelector"]["matchExpressions"] == [
        {
            "key": "app.kubernetes.io/component",
            "operator": "In",
            "values": ["backup", "restore"],
        }
    ]
    assert "ingress" not in policy["spec"]
