"""Fixtures of the render tier: `helm template` runs, no cluster.

The Helm binary is $HELM, else `helm` on PATH, else the pinned build from
scripts/tools.sh. Set HELM to a Helm 3 binary to run the tier against Helm 3.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from helm_render import FIXED_PASSWORDS, Manifests, Renderer, helm_is_v3

from harness.config import find_tool


@pytest.fixture(scope="session")
def helm_binary() -> str:
    """Path of the Helm binary under test."""
    helm = find_tool("helm", "HELM")
    if helm is None:
        pytest.fail(
            "helm not found: set HELM, put helm on PATH or run scripts/tools.sh"
        )
    return helm


@pytest.fixture(scope="session")
def renderer(helm_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Renderer:
    """The session's caching `helm template` runner.

    Under Helm 3 the renders name Kubernetes 1.33 explicitly: a Helm 3 built
    without its Makefile's version ldflags claims 1.20 offline, below the
    chart's kubeVersion (scripts/tools.sh stamps them; other builds may not).
    """
    extra = ["--kube-version", "1.33.0"] if helm_is_v3(helm_binary) else []
    return Renderer(helm_binary, tmp_path_factory.mktemp("render"), extra)


@pytest.fixture(scope="session")
def render(renderer: Renderer) -> Callable[..., Manifests]:
    """render(values=None, *, release, namespace, args, chart) -> Manifests."""
    return renderer.render


@pytest.fixture(scope="session")
def render_error(renderer: Renderer) -> Callable[..., str]:
    """render_error(values, ...) -> the failure message (asserts the render fails)."""
    return renderer.error


@pytest.fixture(scope="session")
def default_manifests(render: Callable[..., Manifests]) -> Manifests:
    """The chart rendered with its default values."""
    return render()


@pytest.fixture(scope="session")
def fixed_manifests(render: Callable[..., Manifests]) -> Manifests:
    """Default values with fixed passwords, so the whole render is deterministic."""
    return render(FIXED_PASSWORDS)
