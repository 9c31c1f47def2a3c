"""Pinned versions, paths and names shared by the harness."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
CHART_DIR = ROOT / "charts" / "fullstack"
MANIFESTS = Path(__file__).resolve().parent / "manifests"


@cache
def versions() -> dict[str, str]:
    """Return the pins of versions.env (the single place versions live)."""
    values = dotenv_values(ROOT / "versions.env")
    return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class AppImage:
    """A demo app image built from the repository."""

    name: str
    context: Path

    @property
    def ref(self) -> str:
        return f"{APP_REGISTRY}/fullstack-{self.name}:{chart_app_version()}"


APP_REGISTRY = "ghcr.io/fullstack-chart"
APP_IMAGES = (
    AppImage("backend", ROOT / "app" / "backend"),
    AppImage("frontend", ROOT / "app" / "frontend"),
)


@cache
def chart_app_version() -> str:
    """Return appVersion from Chart.yaml: the tag the demo images are built with."""
    return str(yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())["appVersion"])


@cache
def postgres_image() -> str:
    """Return the chart's default PostgreSQL image (pinned in values.yaml)."""
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text())
    image = values["postgresql"]["image"]
    return f"{image['registry']}/{image['repository']}:{image['tag']}"


def cluster_name() -> str:
    """Return the kind cluster name (FULLSTACK_CLUSTER, default "fullstack")."""
    return os.environ.get("FULLSTACK_CLUSTER", "fullstack")


def http_port() -> int:
    """Return the host port the ingress controller is published on."""
    return int(os.environ.get("FULLSTACK_HTTP_PORT", "8080"))


@cache
def cache_dir() -> Path:
    """Return the cache folder the airgap scripts use (outside the clone)."""
    default = (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "fullstack"
    )
    return Path(os.environ.get("FULLSTACK_CACHE", default))


def find_tool(name: str, env_var: str) -> str | None:
    """Return the path of a tool: $env_var, else PATH, else the pinned build.

    The pinned build is scripts/tools.sh's (only if it has been built).
    """
    if os.environ.get(env_var):
        return os.environ[env_var]
    found = shutil.which(name)
    if found:
        return found
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "tools.sh"), "dir", name],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    candidate = Path(result.stdout.strip()) / name
    return str(candidate) if candidate.exists() else None


@cache
def tools_path() -> str:
    """Return the PATH entries of the pinned tools (scripts/tools.sh path)."""
    result = subprocess.run(
        ["bash", str(ROOT / "scripts" / "tools.sh"), "path"],
        check=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    return result.stdout.strip()


def tool_env() -> dict[str, str]:
    """Return os.environ with the pinned tools first on PATH."""
    return {**os.environ, "PATH": f"{tools_path()}:{os.environ.get('PATH', '')}"}
