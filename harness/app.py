"""Requests to the demo application of a release: through the ingress
controller on the host port, or through the API server's service proxy.

The items API (`POST /api/items`, `GET /api/items`) is how the tests prove
that the backend reaches PostgreSQL with the password it was given.
"""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from harness.release import Release


def service_name(api: client.ApiClient, release: Release, component: str) -> str:
    """Return the name of a component's client Service (not the headless one)."""
    services = [
        service.metadata.name
        for service in client.CoreV1Api(api)
        .list_namespaced_service(
            release.namespace, label_selector=release.selector(component)
        )
        .items
        if service.spec.cluster_ip != "None"
    ]
    assert len(services) == 1, f"{component} Services of {release.name}: {services}"
    return services[0]


def ingress_request(
    release: Release,
    port: int,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> tuple[int, str]:
    """Send a request through Traefik on the host port, with the release's host name."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        method=method,
        headers={"Host": release.host, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def service_proxy(
    api: client.ApiClient,
    release: Release,
    service: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
) -> tuple[int, str]:
    """Send a request to a Service through the API server's service proxy.

    The generated CoreV1Api proxy methods of the kubernetes client take no
    request body, so the request goes through the client's ApiClient directly.
    """
    request = api.param_serialize(
        method,
        f"/api/v1/namespaces/{release.namespace}/services/{service}:http/proxy/{path}",
        header_params={"Content-Type": "application/json"},
        body=body,
        auth_settings=["BearerToken"],
    )
    try:
        response = api.call_api(*request, _request_timeout=10)
    except ApiException as exc:
        return exc.status, str(exc.body)
    response.read()
    return response.status, response.data.decode()


def add_item(api: client.ApiClient, release: Release, name: str) -> dict[str, Any]:
    """Create an item through the backend Service; return it as stored."""
    backend = service_name(api, release, "backend")
    status, body = service_proxy(
        api, release, backend, "POST", "api/items", {"name": name}
    )
    assert status == 201, f"POST /api/items on {release.namespace}: {status} {body}"
    return json.loads(body)


def item_names(api: client.ApiClient, release: Release) -> list[str]:
    """Return the names of the stored items through the backend Service."""
    backend = service_name(api, release, "backend")
    status, body = service_proxy(api, release, backend, "GET", "api/items")
    assert status == 200, f"GET /api/items on {release.namespace}: {status} {body}"
    return [item["name"] for item in json.loads(body)]


def item_round_trip(api: client.ApiClient, release: Release, what: str) -> str:
    """Write a new item and read it back: the backend can use the database now."""
    name = f"{what}-{secrets.token_hex(4)}"
    add_item(api, release, name)
    names = item_names(api, release)
    assert name in names, f"item {name} written but not read back: {names}"
    return name
