"""Object names and label values fit Kubernetes' limits (case C44)."""

from __future__ import annotations

import re

import pytest
from helm_render import Manifests, pod_template

# Helm's maximum release name is 53 characters.
RELEASE_NAMES = ["a", "r" * 40, "release-" + "x" * 45]
LONG_OVERRIDE = "a-very-long-fullname-override-for-testing-limits-" + "y" * 14
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# Controllers append an 11-character suffix to these (CronJob -> Job name,
# StatefulSet -> controller-revision-hash label), so 52 is their real limit.
MAX_NAME = {"CronJob": 52, "StatefulSet": 52}
EVERYTHING_ON = {
    "networkPolicy": {"enabled": True},
    "restore": {"enabled": True, "dumpFile": "x.dump"},
    "httpRoute": {"enabled": True, "parentRefs": [{"name": "gw"}]},
    "frontend": {
        "autoscaling": {
            "enabled": True,
            "targetCPUUtilizationPercentage": 0,
            "targetMemoryUtilizationPercentage": 80,
        },
        "resources": {"requests": {"memory": "32Mi"}},
        "podDisruptionBudget": {"enabled": True},
    },
    "backend": {
        "autoscaling": {
            "enabled": True,
            "targetCPUUtilizationPercentage": 0,
            "targetMemoryUtilizationPercentage": 80,
        },
        "resources": {"requests": {"memory": "32Mi"}},
        "podDisruptionBudget": {"enabled": True},
    },
}


def _all_labels(manifests: Manifests) -> list[tuple[str, str, str]]:
    found = []
    for doc in manifests.docs:
        for key, value in doc["metadata"].get("labels", {}).items():
            found.append((doc["kind"], key, value))
        if doc["kind"] in ("Deployment", "StatefulSet", "Job", "CronJob"):
            for key, value in pod_template(doc)["metadata"]["labels"].items():
                found.append((doc["kind"] + " pod", key, value))
    return found


@pytest.mark.parametrize(
    ("release", "values"),
    [(name, {}) for name in RELEASE_NAMES]
    + [("rel", {"fullnameOverride": LONG_OVERRIDE})],
    ids=["release-1", "release-40", "release-53", "fullnameOverride-63"],
)
def test_names_fit_and_stay_unique(render, release: str, values: dict) -> None:
    manifests = render({**values, **EVERYTHING_ON}, release=release)

    # Every name is a DNS label within its kind's limit.
    for doc in manifests.docs:
        name = doc["metadata"]["name"]
        limit = MAX_NAME.get(doc["kind"], 63)
        assert len(name) <= limit, f"{doc['kind']} {name} is {len(name)} > {limit}"
        assert DNS_LABEL.match(name), f"{doc['kind']} {name} is not a DNS label"

    # Names are unique per kind, and the components never collide.
    pairs = manifests.kinds()
    assert len(pairs) == len(set(pairs))
    services = manifests.names("Service")
    assert len(services) == 4

    # Every label value is valid.
    for kind, key, value in _all_labels(manifests):
        assert len(value) <= 63, (kind, key, value)
        assert LABEL_VALUE.match(value), (kind, key, value)


def test_statefulset_service_name_matches_headless_service_when_truncated(
    render,
) -> None:
    # C25: serviceName names the headless Service, also after truncation.
    manifests = render({"fullnameOverride": LONG_OVERRIDE})
    statefulset = manifests.of_kind("StatefulSet")[0]
    headless = [
        svc
        for svc in manifests.of_kind("Service")
        if svc["spec"].get("clusterIP") == "None"
    ]

    assert [svc["metadata"]["name"] for svc in headless] == [
        statefulset["spec"]["serviceName"]
    ]
    assert statefulset["metadata"]["name"] == LONG_OVERRIDE[:41] + "-postgresql"


def test_truncated_names_keep_their_component_suffix(render) -> None:
    manifests = render({"fullnameOverride": LONG_OVERRIDE})

    assert manifests.names("Deployment") == sorted(
        [LONG_OVERRIDE[:55] + "-backend", LONG_OVERRIDE[:54] + "-frontend"]
    )
    assert manifests.names("CronJob") == [LONG_OVERRIDE[:45] + "-backup"]


@pytest.mark.parametrize(
    ("values", "release", "expected"),
    [
        ({}, "shop", "shop-fullstack-frontend"),
        ({}, "my-fullstack", "my-fullstack-frontend"),
        ({"nameOverride": "web"}, "shop", "shop-web-frontend"),
        ({"fullnameOverride": "store"}, "shop", "store-frontend"),
    ],
)
def test_fullname_rules(render, values: dict, release: str, expected: str) -> None:
    manifests = render(values, release=release)

    assert manifests.names("Deployment")[1] == expected
