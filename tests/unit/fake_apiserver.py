"""A minimal, read-only Kubernetes API server for render tests.

`helm template --dry-run=server` lets the chart's `lookup` calls reach a
cluster. This server answers just enough of the API for that (version,
discovery, GET of single namespaced objects, 404 for everything else), so the
upgrade-time checks of the chart (generated password reuse, PostgreSQL major
version and volume claim changes) can be tested without a cluster.
"""

from __future__ import annotations

import json
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

KUBERNETES_VERSION = {"major": "1", "minor": "37", "gitVersion": "v1.37.2"}

# group/version -> [(plural, kind)] for every kind the chart renders.
RESOURCES: dict[str, list[tuple[str, str]]] = {
    "v1": [
        ("configmaps", "ConfigMap"),
        ("persistentvolumeclaims", "PersistentVolumeClaim"),
        ("pods", "Pod"),
        ("secrets", "Secret"),
        ("serviceaccounts", "ServiceAccount"),
        ("services", "Service"),
    ],
    "apps/v1": [("deployments", "Deployment"), ("statefulsets", "StatefulSet")],
    "batch/v1": [("cronjobs", "CronJob"), ("jobs", "Job")],
    "autoscaling/v2": [("horizontalpodautoscalers", "HorizontalPodAutoscaler")],
    "policy/v1": [("poddisruptionbudgets", "PodDisruptionBudget")],
    "networking.k8s.io/v1": [
        ("ingresses", "Ingress"),
        ("networkpolicies", "NetworkPolicy"),
    ],
    "gateway.networking.k8s.io/v1": [("httproutes", "HTTPRoute")],
}
PLURALS = {kind: plural for items in RESOURCES.values() for plural, kind in items}


def _object_path(obj: dict[str, Any]) -> str:
    api_version = obj["apiVersion"]
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    meta = obj["metadata"]
    plural = PLURALS[obj["kind"]]
    return f"{prefix}/namespaces/{meta['namespace']}/{plural}/{meta['name']}"


def _discovery(path: str) -> dict[str, Any] | None:
    if path == "/version":
        return KUBERNETES_VERSION
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"]}
    if path == "/apis":
        groups = []
        for group_version in RESOURCES:
            if group_version == "v1":
                continue
            group, version = group_version.split("/")
            entry = {"groupVersion": group_version, "version": version}
            groups.append(
                {"name": group, "versions": [entry], "preferredVersion": entry}
            )
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    group_version = path.removeprefix("/api/").removeprefix("/apis/")
    if group_version in RESOURCES:
        resources = [
            {
                "name": plural,
                "singularName": kind.lower(),
                "namespaced": True,
                "kind": kind,
                "verbs": ["get", "list"],
            }
            for plural, kind in RESOURCES[group_version]
        ]
        return {
            "kind": "APIResourceList",
            "groupVersion": group_version,
            "resources": resources,
        }
    return None


class FakeApiServer:
    """Serves objects added with `add` until `close`; `clear` forgets them."""

    def __init__(self, workdir: Path) -> None:
        self.objects: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                """Keep the test output clean."""

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                server.requests.append(path)
                body = _discovery(path)
                if body is None:
                    body = server.objects.get(path)
                if body is None:
                    self._send(
                        HTTPStatus.NOT_FOUND,
                        {
                            "kind": "Status",
                            "apiVersion": "v1",
                            "status": "Failure",
                            "reason": "NotFound",
                            "code": 404,
                        },
                    )
                else:
                    self._send(HTTPStatus.OK, body)

            def _send(self, status: HTTPStatus, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
        )
        self._thread.start()
        port = self._httpd.server_address[1]
        self.kubeconfig = workdir / "kubeconfig"
        self.kubeconfig.write_text(
            yaml.safe_dump(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [
                        {
                            "name": "fake",
                            "cluster": {"server": f"http://127.0.0.1:{port}"},
                        }
                    ],
                    "users": [{"name": "fake", "user": {}}],
                    "contexts": [
                        {"name": "fake", "context": {"cluster": "fake", "user": "fake"}}
                    ],
                    "current-context": "fake",
                }
            )
        )

    def add(self, obj: dict[str, Any], release: str) -> None:
        """Store an object as if Helm release `release` had created it."""
        meta = obj.setdefault("metadata", {})
        meta.setdefault("labels", {})["app.kubernetes.io/managed-by"] = "Helm"
        annotations = meta.setdefault("annotations", {})
        annotations["meta.helm.sh/release-name"] = release
        annotations["meta.helm.sh/release-namespace"] = meta["namespace"]
        self.objects[_object_path(obj)] = obj

    def clear(self) -> None:
        """Forget every stored object and request."""
        self.objects.clear()
        self.requests.clear()

    def close(self) -> None:
        """Stop serving."""
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
