"""Render the fullstack chart with `helm template` and query the manifests.

Values always travel in files (never `--set`, which splits on commas and eats
backslashes, case C07). Renders are cached per (helm, chart, release,
namespace, values, arguments), so tests may ask for the same render freely.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.config import CHART_DIR
from harness.release import failure_message

RENDER_TIMEOUT_SECONDS = 60
DEFAULT_RELEASE = "rel"
DEFAULT_NAMESPACE = "team-a"

POD_KINDS = ("Deployment", "StatefulSet", "Job", "CronJob", "Pod")
# Values that make every rendered string deterministic (no generated password).
FIXED_PASSWORDS = {
    "postgresql": {"auth": {"password": "app-pass", "adminPassword": "admin-pass"}}
}


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _QuotingDumper(_Dumper):  # type: ignore[misc,valid-type]
    """Double-quotes every string.

    PyYAML follows YAML 1.1 and writes strings such as 0123456789 or 1e+06
    unquoted, which Helm's YAML parser reads back as numbers.
    """


def _quoted_str(dumper: yaml.BaseDumper, data: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')


_QuotingDumper.add_representer(str, _quoted_str)


def dump_values(values: Mapping[str, Any]) -> str:
    """YAML for a values file: strings quoted, no line folding."""
    return yaml.dump(
        dict(values),
        Dumper=_QuotingDumper,
        sort_keys=True,
        allow_unicode=True,
        width=1_000_000,
    )


def isolated_env(workdir: Path) -> dict[str, str]:
    """Environment that keeps Helm's and client-go's caches out of $HOME."""
    return {
        "HELM_CACHE_HOME": str(workdir / "helm-cache"),
        "HELM_CONFIG_HOME": str(workdir / "helm-config"),
        "HELM_DATA_HOME": str(workdir / "helm-data"),
        "KUBECACHEDIR": str(workdir / "kube-cache"),
    }


def helm_is_v3(helm: str) -> bool:
    """Whether a Helm binary is Helm 3 (the tier also runs against Helm 4)."""
    result = subprocess.run(
        [helm, "version", "--short"],
        check=True,
        timeout=30,
        capture_output=True,
        text=True,
    )
    return result.stdout.startswith("v3.")


class RenderError(Exception):
    """`helm template` failed; `message` is the chart's (or Helm's) own text."""

    def __init__(self, stderr: str) -> None:
        super().__init__(stderr)
        self.stderr = stderr
        self.message = failure_message(stderr)


@dataclass(frozen=True)
class Manifests:
    """The parsed documents of one render."""

    docs: tuple[dict[str, Any], ...]
    text: str = field(repr=False)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        """Every document of a kind."""
        return [doc for doc in self.docs if doc["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        """The one document of a kind and name (fails the test if absent)."""
        found = [d for d in self.of_kind(kind) if d["metadata"]["name"] == name]
        assert len(found) == 1, f"{kind}/{name} rendered {len(found)} times"
        return found[0]

    def names(self, kind: str) -> list[str]:
        """Sorted names of the documents of a kind."""
        return sorted(doc["metadata"]["name"] for doc in self.of_kind(kind))

    def kinds(self) -> list[tuple[str, str]]:
        """Sorted (kind, name) pairs of every document."""
        return sorted((d["kind"], d["metadata"]["name"]) for d in self.docs)

    def workloads(self) -> list[dict[str, Any]]:
        """Every document that carries a pod template (or is a Pod)."""
        return [doc for doc in self.docs if doc["kind"] in POD_KINDS]

    def containers(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(workload, container) for every init and main container."""
        for doc in self.workloads():
            for container in all_containers(pod_spec(doc)):
                yield doc, container


def pod_template(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The pod template (metadata + spec) of a workload; a Pod is its own."""
    kind = doc["kind"]
    if kind == "Pod":
        return dict(doc)
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]
    return doc["spec"]["template"]


def pod_spec(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The pod spec of a workload."""
    return pod_template(doc)["spec"]


def all_containers(spec: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Init containers followed by containers."""
    return list(spec.get("initContainers", [])) + list(spec["containers"])


def env_entries(container: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The env list of a container keyed by name."""
    return {entry["name"]: entry for entry in container.get("env", [])}


def env_values(container: Mapping[str, Any]) -> dict[str, Any]:
    """Plain env values of a container (entries with valueFrom are left out)."""
    return {
        name: entry["value"]
        for name, entry in env_entries(container).items()
        if "value" in entry
    }


def container(doc: Mapping[str, Any], name: str) -> dict[str, Any]:
    """The (init) container of a workload with this name."""
    found = [c for c in all_containers(pod_spec(doc)) if c["name"] == name]
    assert len(found) == 1, f"container {name} found {len(found)} times"
    return found[0]


def walk_strings(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(path, leaf) for every scalar of a document."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from walk_strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from walk_strings(value, f"{path}[{index}]")
    else:
        yield path, node


class Renderer:
    """Runs `helm template` on the chart, caching results by their inputs."""

    def __init__(
        self, helm: str, workdir: Path, extra_args: Sequence[str] = ()
    ) -> None:
        self.helm = helm
        self.workdir = workdir
        self.extra_args = tuple(extra_args)
        self._cache: dict[str, subprocess.CompletedProcess[str]] = {}
        self._parsed: dict[str, Manifests] = {}

    def run(
        self,
        values: Mapping[str, Any] | None = None,
        *,
        release: str = DEFAULT_RELEASE,
        namespace: str = DEFAULT_NAMESPACE,
        args: Sequence[str] = (),
        chart: Path = CHART_DIR,
        env: Mapping[str, str] | None = None,
        cache: bool = True,
    ) -> subprocess.CompletedProcess[str]:
        """Run `helm template` once per distinct input and return the process."""
        values_text = dump_values(values or {})
        key_source = "\0".join(
            [self.helm, str(chart), release, namespace, values_text, *args]
            + [f"{k}={v}" for k, v in sorted((env or {}).items())]
        )
        key = hashlib.sha256(key_source.encode()).hexdigest()
        if cache and key in self._cache:
            return self._cache[key]
        values_file = self.workdir / f"values-{key[:16]}.yaml"
        values_file.write_text(values_text, encoding="utf-8")
        command = [
            self.helm,
            "template",
            release,
            str(chart),
            "--namespace",
            namespace,
            "--values",
            str(values_file),
            *self.extra_args,
            *args,
        ]
        result = subprocess.run(
            command,
            check=False,
            timeout=RENDER_TIMEOUT_SECONDS,
            capture_output=True,
            text=True,
            env={**os.environ, **isolated_env(self.workdir), **(env or {})},
        )
        if cache:
            self._cache[key] = result
        return result

    def render(
        self, values: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> Manifests:
        """Render and parse; raises RenderError when Helm fails.

        Identical renders share one Manifests object: treat it as read-only
        (copy.deepcopy a document before changing it).
        """
        result = self.run(values, **kwargs)
        if result.returncode != 0:
            raise RenderError(result.stderr)
        parsed = self._parsed.get(result.stdout)
        if parsed is None:
            docs = tuple(
                doc for doc in yaml.load_all(result.stdout, Loader=_Loader) if doc
            )
            parsed = Manifests(docs=docs, text=result.stdout)
            self._parsed[result.stdout] = parsed
        return parsed

    def error(self, values: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
        """Render values that must fail and return the failure message."""
        result = self.run(values, **kwargs)
        assert result.returncode != 0, "the render succeeded but should have failed"
        return failure_message(result.stderr)


# Value profiles shared by the snapshot and the schema tests. The ci/ scenarios
# are what chart-testing installs; the two below cover what they leave out.
CI_DIR = CHART_DIR / "ci"
# Every optional object and feature off: no backup (CronJob, Job, claim), no
# Ingress or HTTPRoute, no helm test pods, no ServiceAccounts, no
# NetworkPolicies, and the database in an emptyDir without /dev/shm.
MINIMAL_VALUES: dict[str, Any] = {
    "frontend": {"serviceAccount": {"create": False}},
    "backend": {"serviceAccount": {"create": False}},
    "postgresql": {
        "persistence": {"enabled": False},
        "sharedMemory": {"enabled": False},
    },
    "backup": {"enabled": False},
    "networkPolicy": {"enabled": False},
    "ingress": {"enabled": False},
    "httpRoute": {"enabled": False},
    "tests": {"enabled": False},
}
# Routing through a Gateway API HTTPRoute instead of an Ingress.
GATEWAY_API_VALUES: dict[str, Any] = {
    "ingress": {"enabled": False},
    "httpRoute": {
        "enabled": True,
        "parentRefs": [
            {"name": "shared", "namespace": "gateway-system", "sectionName": "https"}
        ],
        "hostnames": ["shop.example.test"],
    },
}


def ci_values(scenario: str) -> dict[str, Any]:
    """The values of the chart-testing scenario ci/<scenario>-values.yaml."""
    text = (CI_DIR / f"{scenario}-values.yaml").read_text(encoding="utf-8")
    return yaml.load(text, Loader=_Loader) or {}


def value_profiles() -> dict[str, dict[str, Any]]:
    """Named value profiles: every ci/ scenario (`default`, `production`,
    `external-database`, ...) plus `minimal` and `gateway-api`."""
    profiles = {
        path.name.removesuffix("-values.yaml"): ci_values(
            path.name.removesuffix("-values.yaml")
        )
        for path in sorted(CI_DIR.glob("*-values.yaml"))
    }
    return {**profiles, "minimal": MINIMAL_VALUES, "gateway-api": GATEWAY_API_VALUES}
