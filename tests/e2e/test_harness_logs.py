"""The harness reads the log of a pod that is not on a node yet.

For a pod not yet assigned to a node the API server answers 204 No Content,
which the kubernetes client returns as None rather than "". A test polling
the log of a pod it had just made (the volume-permissions negative control)
once failed CI with a TypeError on that None.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from kubernetes import client

from harness.config import postgres_image
from harness.kube import pod_log


def container(script: str) -> dict[str, Any]:
    """A container that runs `script` and passes Pod Security "restricted"."""
    return {
        "name": "run",
        "image": postgres_image(),
        "imagePullPolicy": "IfNotPresent",
        "command": ["sh", "-c", script],
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 999,
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
    }


def test_a_pod_not_yet_on_a_node_has_an_empty_log(
    kube_api: client.ApiClient, namespace_factory: Callable[[str], str]
) -> None:
    namespace = namespace_factory(f"logs-{secrets.token_hex(3)}")
    # No node has this label: the pod stays unassigned for as long as it exists.
    spec = {
        "nodeSelector": {"fullstack.test/no-such-node": "true"},
        "containers": [container("true")],
    }
    client.CoreV1Api(kube_api).create_namespaced_pod(
        namespace, {"metadata": {"name": "unscheduled"}, "spec": spec}
    )

    assert pod_log(kube_api, namespace, "unscheduled") == ""
