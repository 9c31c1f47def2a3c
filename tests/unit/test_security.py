"""Every pod passes Pod Security "restricted" by default (C26, C53, C54, C61)."""

from __future__ import annotations

from typing import Any

import pytest
from helm_render import Manifests, all_containers, pod_spec

ALLOWED_VOLUME_TYPES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
EVERYTHING_ON = {
    "restore": {"enabled": True, "dumpFile": "x.dump"},
    "networkPolicy": {"enabled": True},
}


def restricted_violations(doc: dict[str, Any]) -> list[str]:
    """Violations of the Pod Security "restricted" profile (v1.33) by one workload."""
    spec = pod_spec(doc)
    pod = spec.get("securityContext", {})
    problems = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field) is True:
            problems.append(f"{field} is true")
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= ALLOWED_VOLUME_TYPES:
            problems.append(f"volume {volume['name']} uses {sorted(kinds)}")
    for item in all_containers(spec):
        context = item.get("securityContext", {})
        where = item["name"]
        if context.get("privileged") is True:
            problems.append(f"{where}: privileged")
        if context.get("allowPrivilegeEscalation") is not False:
            problems.append(f"{where}: allowPrivilegeEscalation is not false")
        capabilities = context.get("capabilities", {})
        if "ALL" not in capabilities.get("drop", []):
            problems.append(f"{where}: capabilities do not drop ALL")
        if set(capabilities.get("add", [])) - {"NET_BIND_SERVICE"}:
            problems.append(f"{where}: adds {capabilities['add']}")
        if context.get("runAsNonRoot", pod.get("runAsNonRoot")) is not True:
            problems.append(f"{where}: runAsNonRoot is not true")
        if context.get("runAsUser", pod.get("runAsUser")) == 0:
            problems.append(f"{where}: runAsUser is 0")
        seccomp = context.get("seccompProfile", pod.get("seccompProfile", {}))
        if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
            problems.append(f"{where}: no RuntimeDefault seccomp profile")
        if any("hostPort" in port for port in item.get("ports", [])):
            problems.append(f"{where}: hostPort")
    return problems


@pytest.fixture(scope="module")
def everything(render) -> Manifests:
    return render(EVERYTHING_ON)


def test_every_pod_is_restricted(default_manifests: Manifests, everything: Manifests):
    workloads = default_manifests.workloads() + everything.workloads()

    assert len(workloads) >= 8
    for doc in workloads:
        assert restricted_violations(doc) == [], doc["metadata"]["name"]


def test_volume_permissions_is_reported_as_not_restricted(render) -> None:
    # Negative control: the checker above does find the opt-in root container.
    manifests = render({"postgresql": {"volumePermissions": {"enabled": True}}})
    statefulset = manifests.get("StatefulSet", "rel-fullstack-postgresql")

    assert restricted_violations(statefulset) == [
        "volume-permissions: adds ['CHOWN', 'DAC_OVERRIDE', 'FOWNER']",
        "volume-permissions: runAsNonRoot is not true",
        "volume-permissions: runAsUser is 0",
    ]


def test_every_container_has_a_read_only_root(everything: Manifests) -> None:
    for doc, item in everything.containers():
        assert item["securityContext"]["readOnlyRootFilesystem"] is True, item["name"]
        mounts = {m["mountPath"] for m in item.get("volumeMounts", [])}
        assert "/tmp" in mounts, (doc["metadata"]["name"], item["name"])


@pytest.mark.parametrize(("component", "uid"), [("frontend", 101), ("backend", 10001)])
def test_non_root_with_a_numeric_user(default_manifests, component, uid) -> None:
    # C54: runAsNonRoot always comes with the image's numeric uid.
    doc = default_manifests.get("Deployment", f"rel-fullstack-{component}")
    pod = pod_spec(doc)

    assert pod["securityContext"]["runAsUser"] == uid
    assert pod["containers"][0]["securityContext"]["runAsUser"] == uid


def test_pull_policy_is_always_explicit(everything: Manifests) -> None:
    # C61: IfNotPresent, so side-loaded images are used.
    for doc, item in everything.containers():
        assert item["imagePullPolicy"] == "IfNotPresent", (
            doc["metadata"]["name"],
            item,
        )
        assert not item["image"].endswith(":latest")


def test_no_pod_mounts_an_api_token(everything: Manifests) -> None:
    for doc in everything.workloads():
        assert pod_spec(doc)["automountServiceAccountToken"] is False
    for account in everything.of_kind("ServiceAccount"):
        assert account["automountServiceAccountToken"] is False


def test_token_is_mounted_only_when_asked(render) -> None:
    manifests = render(
        {"backend": {"serviceAccount": {"automountServiceAccountToken": True}}}
    )
    backend = manifests.get("Deployment", "rel-fullstack-backend")

    assert pod_spec(backend)["automountServiceAccountToken"] is True
    assert pod_spec(backend)["serviceAccountName"] == "rel-fullstack-backend"


def test_frontend_writes_only_to_tmp(default_manifests: Manifests) -> None:
    # C53: the image keeps pid and temp paths under /tmp.
    frontend = pod_spec(default_manifests.get("Deployment", "rel-fullstack-frontend"))

    assert frontend["volumes"] == [{"name": "tmp", "emptyDir": {}}]
    assert frontend["containers"][0]["volumeMounts"] == [
        {"name": "tmp", "mountPath": "/tmp"}
    ]
