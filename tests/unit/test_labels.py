"""Immutable fields stay identical across upgrades (C13, C14, C16) and pods roll
only when their own configuration changes (C12)."""

from __future__ import annotations

import pytest
from helm_render import FIXED_PASSWORDS, Manifests, pod_template

from harness.release import merge

STABLE_KEYS = {
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
}
WORKLOADS = [
    ("Deployment", "rel-fullstack-frontend"),
    ("Deployment", "rel-fullstack-backend"),
    ("StatefulSet", "rel-fullstack-postgresql"),
]


def _immutable_fields(manifests: Manifests) -> dict[str, object]:
    """Every field Kubernetes refuses to change on an existing object."""
    fields: dict[str, object] = {}
    for kind in ("Deployment", "StatefulSet", "PodDisruptionBudget"):
        for doc in manifests.of_kind(kind):
            fields[f"{kind}/{doc['metadata']['name']}.selector"] = doc["spec"][
                "selector"
            ]
    statefulset = manifests.get("StatefulSet", "rel-fullstack-postgresql")
    fields["serviceName"] = statefulset["spec"]["serviceName"]
    fields["volumeClaimTemplates"] = statefulset["spec"]["volumeClaimTemplates"]
    for service in manifests.of_kind("Service"):
        fields[f"Service/{service['metadata']['name']}.selector"] = service["spec"][
            "selector"
        ]
    return fields


PDBS = {
    "frontend": {"podDisruptionBudget": {"enabled": True}},
    "backend": {"podDisruptionBudget": {"enabled": True}},
}


def test_selectors_use_only_stable_labels(default_manifests: Manifests) -> None:
    for doc in default_manifests.docs:
        selector = doc.get("spec", {}).get("selector")
        if doc["kind"] in ("Deployment", "StatefulSet"):
            assert set(selector["matchLabels"]) == STABLE_KEYS
        elif doc["kind"] == "Service" and selector is not None:
            assert set(selector) == STABLE_KEYS
    statefulset = default_manifests.get("StatefulSet", "rel-fullstack-postgresql")
    for template in statefulset["spec"]["volumeClaimTemplates"]:
        assert set(template["metadata"]["labels"]) == STABLE_KEYS
        assert "annotations" not in template["metadata"]


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"version": "0.2.0"}, id="chart-version"),
        pytest.param(
            {
                "values": {
                    "backend": {"image": {"tag": "2.0.0"}},
                    "frontend": {"image": {"tag": "2.0.0"}},
                    "postgresql": {"image": {"tag": "18.7"}},
                }
            },
            id="image-tags",
        ),
        pytest.param(
            {"values": {"commonLabels": {"team": "payments", "cost-centre": "42"}}},
            id="commonLabels",
        ),
        pytest.param(
            {"values": {"commonAnnotations": {"owner": "payments"}}},
            id="commonAnnotations",
        ),
    ],
)
def test_immutable_fields_do_not_change(render, chart_copy_factory, change) -> None:
    # Render the release as installed, then as upgraded.
    before = render(merge(FIXED_PASSWORDS, PDBS), chart=chart_copy_factory("0.1.0"))
    after = render(
        merge(FIXED_PASSWORDS, PDBS, change.get("values", {})),
        chart=chart_copy_factory(change.get("version", "0.1.0")),
    )

    # The upgrade really changed something, but nothing immutable.
    assert before.text != after.text
    assert _immutable_fields(before) == _immutable_fields(after)


def test_common_labels_reach_metadata_and_pods_but_not_selectors(render) -> None:
    manifests = render({"commonLabels": {"team": "payments"}})

    for kind, name in WORKLOADS:
        doc = manifests.get(kind, name)
        assert doc["metadata"]["labels"]["team"] == "payments"
        assert pod_template(doc)["metadata"]["labels"]["team"] == "payments"
        assert "team" not in doc["spec"]["selector"]["matchLabels"]


def test_common_labels_cannot_replace_chart_labels(render) -> None:
    manifests = render({"commonLabels": {"app.kubernetes.io/name": "other"}})

    for kind, name in WORKLOADS:
        doc = manifests.get(kind, name)
        assert doc["metadata"]["labels"]["app.kubernetes.io/name"] == "fullstack"


def _pod_templates(manifests: Manifests) -> dict[str, object]:
    return {
        f"{doc['kind']}/{doc['metadata']['name']}": pod_template(doc)
        for doc in manifests.workloads()
        if doc["kind"] in ("Deployment", "StatefulSet", "CronJob")
    }


def test_same_values_give_identical_pod_templates(render, fixed_manifests) -> None:
    again = render(dict(FIXED_PASSWORDS), release="rel")

    assert _pod_templates(again) == _pod_templates(fixed_manifests)


def test_backend_config_change_rolls_only_the_backend(render, fixed_manifests) -> None:
    # C12: the checksum covers the rendered ConfigMap data only.
    changed = render(merge(FIXED_PASSWORDS, {"backend": {"logLevel": "debug"}}))

    before, after = _pod_templates(fixed_manifests), _pod_templates(changed)
    differing = sorted(key for key in before if before[key] != after[key])
    assert differing == ["Deployment/rel-fullstack-backend"]
    old = before["Deployment/rel-fullstack-backend"]["metadata"]["annotations"]
    new = after["Deployment/rel-fullstack-backend"]["metadata"]["annotations"]
    assert old["checksum/config"] != new["checksum/config"]


def test_chart_version_bump_alone_rolls_no_pod(render, chart_copy_factory) -> None:
    before = render(dict(FIXED_PASSWORDS), chart=chart_copy_factory("0.1.0"))
    after = render(dict(FIXED_PASSWORDS), chart=chart_copy_factory("0.1.1"))

    assert _pod_templates(before) == _pod_templates(after)
    assert before.text != after.text


def test_version_label_is_the_image_tag_or_the_app_version(render) -> None:
    # Workloads carry their image's tag; the Ingress and HTTPRoute, which run
    # no image, carry the chart's appVersion (not the test pods' image tag).
    manifests = render(
        merge(
            FIXED_PASSWORDS,
            {
                "frontend": {"image": {"tag": "1.1.1"}},
                "postgresql": {"image": {"tag": "18.9"}},
                "httpRoute": {"enabled": True, "parentRefs": [{"name": "gw"}]},
            },
        )
    )
    version = "app.kubernetes.io/version"

    frontend = manifests.get("Deployment", "rel-fullstack-frontend")
    assert frontend["metadata"]["labels"][version] == "1.1.1"
    database = manifests.get("StatefulSet", "rel-fullstack-postgresql")
    assert database["metadata"]["labels"][version] == "18.9"
    for kind in ("Ingress", "HTTPRoute"):
        (route,) = manifests.of_kind(kind)
        assert route["metadata"]["labels"][version] == "0.1.0", kind
