"""A helm release of the chart, as the end-to-end tests and the up job install it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any, Protocol

from harness.run import run


@dataclass
class Release:
    """A helm release of the chart installed by a test."""

    name: str
    namespace: str
    host: str
    kubeconfig: str
    values: dict[str, Any] = field(default_factory=dict)

    def helm(
        self, *args: str | Path, timeout: float = 600, check: bool = True
    ) -> CompletedProcess[str]:
        """Run helm against this release's namespace."""
        return run(
            [
                "helm",
                *args,
                "--namespace",
                self.namespace,
                "--kubeconfig",
                self.kubeconfig,
            ],
            timeout=timeout,
            check=check,
        )


class ReleaseFactory(Protocol):
    def __call__(
        self, values: dict[str, Any] | None = None, *, wait: bool = True
    ) -> Release: ...


def ingress_values(host: str) -> dict[str, Any]:
    """Values that publish a release through Traefik under `host` ("" for any host)."""
    paths = [
        {"path": "/", "pathType": "Prefix", "service": "frontend"},
        {"path": "/api", "pathType": "Prefix", "service": "backend"},
    ]
    return {
        "ingress": {
            "enabled": True,
            "className": "traefik",
            "hosts": [{"host": host, "paths": paths}],
        }
    }


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge two values dicts (extra wins)."""
    out = dict(base)
    for key, value in extra.items():
        out[key] = (
            merge(out[key], value)
            if isinstance(value, dict) and isinstance(out.get(key), dict)
            else value
        )
    return out
