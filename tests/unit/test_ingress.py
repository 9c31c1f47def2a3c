"""Ingress and HTTPRoute (C47, C49, C51)."""

from __future__ import annotations

import pytest
from helm_render import Manifests

INGRESS = "rel-fullstack"
ONE_PROBLEM = "fullstack: 1 problem in the values:\n- "


def _paths(ingress: dict) -> list[tuple[str | None, str, str, str]]:
    return [
        (
            rule.get("host"),
            path["path"],
            path["pathType"],
            path["backend"]["service"]["name"],
        )
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]


def test_default_ingress_routes_without_a_host(default_manifests: Manifests) -> None:
    # A rule without host: a local cluster reaches it by IP or localhost.
    ingress = default_manifests.get("Ingress", INGRESS)

    assert ingress["apiVersion"] == "networking.k8s.io/v1"
    assert "ingressClassName" not in ingress["spec"]
    assert _paths(ingress) == [
        (None, "/", "Prefix", "rel-fullstack-frontend"),
        (None, "/api", "Prefix", "rel-fullstack-backend"),
    ]
    for path in ingress["spec"]["rules"][0]["http"]["paths"]:
        assert path["backend"]["service"]["port"] == {"name": "http"}


def test_ingress_with_class_hosts_tls_and_cert_manager(render) -> None:
    manifests = render(
        {
            "ingress": {
                "className": "nginx",
                "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"},
                "hosts": [
                    {
                        "host": "shop.example.test",
                        "paths": [
                            {"path": "/", "pathType": "Prefix", "service": "frontend"},
                            {
                                "path": "/api(/|$)(.*)",
                                "pathType": "ImplementationSpecific",
                                "service": "backend",
                            },
                        ],
                    }
                ],
                "tls": [{"secretName": "shop-tls", "hosts": ["shop.example.test"]}],
            }
        }
    )
    ingress = manifests.get("Ingress", INGRESS)

    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["metadata"]["annotations"] == {
        "cert-manager.io/cluster-issuer": "letsencrypt"
    }
    assert ingress["spec"]["tls"] == [
        {"hosts": ["shop.example.test"], "secretName": "shop-tls"}
    ]
    assert _paths(ingress)[1] == (
        "shop.example.test",
        "/api(/|$)(.*)",
        "ImplementationSpecific",
        "rel-fullstack-backend",
    )


@pytest.mark.parametrize(
    ("class_name", "message"),
    [
        (
            "nginx",
            "ingress.annotations.kubernetes.io/ingress.class: cannot be combined with "
            "ingress.className (Kubernetes rejects an Ingress with both); remove the "
            "annotation and keep ingress.className.",
        ),
        (
            "",
            "ingress.annotations.kubernetes.io/ingress.class: this annotation is "
            "deprecated and ignored by current controllers; remove it and set "
            "ingress.className: "
            '"nginx" instead.',
        ),
    ],
    ids=["with-className", "annotation-only"],
)
def test_deprecated_class_annotation_is_refused(
    render_error, class_name, message
) -> None:
    # C49: spec.ingressClassName only.
    error = render_error(
        {
            "ingress": {
                "className": class_name,
                "annotations": {"kubernetes.io/ingress.class": "nginx"},
            }
        }
    )

    assert error == ONE_PROBLEM + message


@pytest.mark.parametrize(
    ("path", "path_type"),
    [("/api(/|$)(.*)", "Prefix"), ("/.well-known", "Exact"), ("/api/v1.0", "Prefix")],
)
def test_regex_characters_need_implementation_specific(render_error, path, path_type):
    # C47: ingress-nginx validates Prefix/Exact paths strictly.
    error = render_error(
        {
            "ingress": {
                "hosts": [
                    {
                        "host": "",
                        "paths": [
                            {"path": path, "pathType": path_type, "service": "backend"}
                        ],
                    }
                ]
            }
        }
    )

    assert error == ONE_PROBLEM + (
        f'ingress.hosts[0].paths[0].path: "{path}" has characters other than letters, '
        f'digits, "/", "_" and "-", which pathType {path_type} does not allow '
        "(ingress-nginx rejects them); use pathType ImplementationSpecific for regular "
        "expressions, or a plain path."
    )


def test_ingress_renders_offline_without_capability_checks(renderer) -> None:
    # C51: no --api-versions, no cluster: still networking.k8s.io/v1.
    result = renderer.run({"ingress": {"className": "nginx"}})

    assert result.returncode == 0
    assert "apiVersion: networking.k8s.io/v1\nkind: Ingress" in result.stdout
    assert "v1beta1" not in result.stdout


def test_route_to_a_disabled_component_is_refused(render_error) -> None:
    error = render_error(
        {
            "backend": {"enabled": False},
            "frontend": {"backendUrl": "http://api.example.test"},
        }
    )

    assert error == ONE_PROBLEM + (
        'ingress.hosts[0].paths[1].service: "backend" is disabled '
        "(backend.enabled=false); route only to enabled components."
    )


def test_http_route_routes_like_the_ingress(render) -> None:
    manifests = render(
        {
            "ingress": {"enabled": False},
            "httpRoute": {
                "enabled": True,
                "parentRefs": [
                    {
                        "name": "shared",
                        "namespace": "gateway-system",
                        "sectionName": "https",
                    }
                ],
                "hostnames": ["shop.example.test"],
            },
        }
    )
    route = manifests.get("HTTPRoute", INGRESS)

    assert manifests.of_kind("Ingress") == []
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["parentRefs"] == [
        {"name": "shared", "namespace": "gateway-system", "sectionName": "https"}
    ]
    assert route["spec"]["hostnames"] == ["shop.example.test"]
    assert route["spec"]["rules"] == [
        {
            "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
            "backendRefs": [{"name": "rel-fullstack-frontend", "port": 80}],
        },
        {
            "matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
            "backendRefs": [{"name": "rel-fullstack-backend", "port": 8080}],
        },
    ]


def test_http_route_needs_a_parent(render_error) -> None:
    error = render_error({"httpRoute": {"enabled": True}})

    assert error == ONE_PROBLEM + (
        "httpRoute.parentRefs: required when httpRoute.enabled is true; name the "
        "Gateway to attach to, e.g. [{name: my-gateway, namespace: gateway-system}]."
    )
