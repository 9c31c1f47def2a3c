"""Services reach their pods through named ports (C25, C40, C52, C62)."""

from __future__ import annotations

import pytest
from helm_render import Manifests, all_containers, pod_spec, pod_template


def _selected_pods(manifests: Manifests, selector: dict) -> list[dict]:
    return [
        doc
        for doc in manifests.workloads()
        if doc["kind"] in ("Deployment", "StatefulSet")
        and selector.items() <= pod_template(doc)["metadata"]["labels"].items()
    ]


@pytest.mark.parametrize(
    "values",
    [
        {},
        {
            "frontend": {"containerPort": 8081, "service": {"port": 8000}},
            "backend": {"containerPort": 9090, "service": {"port": 80}},
            "postgresql": {"containerPort": 6432, "service": {"port": 5433}},
        },
    ],
    ids=["defaults", "custom-ports"],
)
def test_every_target_port_is_a_named_container_port(render, values: dict) -> None:
    manifests = render(values)

    for service in manifests.of_kind("Service"):
        pods = _selected_pods(manifests, service["spec"]["selector"])
        assert len(pods) == 1, service["metadata"]["name"]
        ports = {
            port["name"]: port["containerPort"]
            for item in all_containers(pod_spec(pods[0]))
            for port in item.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            assert isinstance(port["targetPort"], str)
            assert port["targetPort"] in ports, (service["metadata"]["name"], port)


def test_custom_ports_reach_probes_and_clients(render) -> None:
    manifests = render(
        {
            "backend": {"containerPort": 9090, "service": {"port": 80}},
            "postgresql": {"containerPort": 6432, "service": {"port": 5433}},
        }
    )
    backend = pod_spec(manifests.get("Deployment", "rel-fullstack-backend"))[
        "containers"
    ][0]
    postgres = pod_spec(manifests.get("StatefulSet", "rel-fullstack-postgresql"))
    frontend = pod_spec(manifests.get("Deployment", "rel-fullstack-frontend"))[
        "containers"
    ][0]

    assert backend["ports"] == [
        {"name": "http", "containerPort": 9090, "protocol": "TCP"}
    ]
    assert backend["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert {"name": "PGPORT", "value": "5433"} in backend["env"]
    assert {"name": "PGPORT", "value": "6432"} in postgres["containers"][0]["env"]
    assert (
        "--port=6432"
        in postgres["containers"][0]["readinessProbe"]["exec"]["command"][2]
    )
    assert {
        "name": "BACKEND_URL",
        "value": "http://rel-fullstack-backend:80",
    } in frontend["env"]


def test_services_default_to_cluster_ip(default_manifests: Manifests) -> None:
    # C62: nothing waits for a load balancer address.
    types = {
        svc["metadata"]["name"]: svc["spec"]["type"]
        for svc in default_manifests.of_kind("Service")
    }

    assert set(types.values()) == {"ClusterIP"}
    for service in default_manifests.of_kind("Service"):
        for port in service["spec"]["ports"]:
            assert isinstance(port["port"], int)
            assert "nodePort" not in port


def test_node_port_and_load_balancer_settings(render) -> None:
    manifests = render(
        {
            "frontend": {
                "service": {
                    "type": "NodePort",
                    "nodePort": 30080,
                    "externalTrafficPolicy": "Local",
                }
            },
            "backend": {
                "service": {
                    "type": "LoadBalancer",
                    "loadBalancerSourceRanges": ["10.0.0.0/8"],
                    "annotations": {"example.test/lb": "internal"},
                }
            },
        }
    )
    frontend = manifests.get("Service", "rel-fullstack-frontend")
    backend = manifests.get("Service", "rel-fullstack-backend")

    assert frontend["spec"]["ports"][0]["nodePort"] == 30080
    assert frontend["spec"]["externalTrafficPolicy"] == "Local"
    assert backend["spec"]["loadBalancerSourceRanges"] == ["10.0.0.0/8"]
    assert backend["metadata"]["annotations"] == {"example.test/lb": "internal"}
    assert "nodePort" not in backend["spec"]["ports"][0]
