"""A helm release of the chart, as the end-to-end tests and the up job install it."""

from __future__ import annotations

import copy
import json
import re
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any, Protocol

import yaml

from harness.config import CHART_DIR
from harness.run import run

# Helm's prefix before an error, e.g. "Error: UPGRADE FAILED: execution error
# at (fullstack/templates/NOTES.txt:2:4): " before a template's `fail` message.
_HELM_PREFIX = re.compile(
    r"^Error: (?:[A-Z ]+FAILED: )?(?:execution error at \([^)]*\): )?"
)
_ERROR_LINE = re.compile(r"^Error: ", re.MULTILINE)


# The checks of the chart's helm test pods with every component enabled.
HELM_TEST_CHECKS = (
    "backend health",
    "backend readiness (database reachable, schema ready)",
    "database",
    "frontend health",
    "frontend page",
)


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

    def upgrade(
        self,
        values: dict[str, Any],
        *,
        chart: Path = CHART_DIR,
        check: bool = True,
        timeout: str = "5m",
    ) -> CompletedProcess[str]:
        """`helm upgrade` with exactly these values (plus the Ingress host).

        Values go through a file, never --set (case C07); --reset-values
        makes the chart's defaults apply to everything not given. Helm waits
        for hook Jobs (the restore Job) but not for workloads; call
        harness.kube.wait_for_workloads for those. On success the values become
        the release's `values`. With check=False a failed upgrade is returned,
        not raised: see `failure_message`.
        """
        merged = merge(ingress_values(self.host), values)
        with tempfile.NamedTemporaryFile("w", suffix=".yaml") as handle:
            yaml.safe_dump(merged, handle)
            handle.flush()
            result = self.helm(
                "upgrade",
                self.name,
                chart,
                "--values",
                handle.name,
                "--reset-values",
                "--timeout",
                timeout,
                check=check,
            )
        if result.returncode == 0:
            self.values = merged
        return result

    def helm_test(self, timeout: str = "3m") -> dict[str, str]:
        """Run `helm test --logs`; assert it passed; return its checks by name.

        The chart's test pods print one `PASS <check>: <what was asked and
        answered>` line per check (`FAIL ...` when one fails).
        """
        result = self.helm("test", self.name, "--logs", "--timeout", timeout)
        output = result.stdout
        assert "Phase:          Succeeded" in output, output
        assert "Phase:          Failed" not in output, output
        assert "FAIL " not in output, output
        checks = {}
        for line in output.splitlines():
            if line.startswith("PASS "):
                name, _, detail = line.removeprefix("PASS ").partition(": ")
                checks[name] = detail
        return checks

    def status(self) -> dict[str, Any]:
        """Return `helm status -o json` of the release (revision, state, notes)."""
        return json.loads(self.helm("status", self.name, "-o", "json").stdout)

    def selector(self, component: str | None = None) -> str:
        """Label selector of the release's objects (of one component if given)."""
        selector = f"app.kubernetes.io/instance={self.name}"
        if component:
            selector += f",app.kubernetes.io/component={component}"
        return selector


class ReleaseFactory(Protocol):
    def __call__(
        self,
        values: dict[str, Any] | None = None,
        *,
        wait: bool = True,
        chart: Path = CHART_DIR,
        prepare: Callable[[str], None] | None = None,
        pod_security: str = "restricted",
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


def merge(*layers: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge values dicts, later layers winning (like repeated -f files).

    The result shares nothing with the layers: changing it changes none of them.
    """
    result: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
                result[key] = merge(result[key], value)
            else:
                result[key] = copy.deepcopy(value)
    return result


def failure_message(output: str) -> str:
    """The chart's (or Helm's) own error text from a failed helm command's stderr.

    Helm's log lines before it, its "Error: [UPGRADE FAILED: ]" prefix and, for
    the chart's `fail`, "execution error at (<template>): " are removed, so a
    test can compare the text with the message the chart or the schema gives.
    """
    start = _ERROR_LINE.search(output)
    text = output[start.start() if start else 0 :].strip()
    text = text.split("\n\nUse --debug flag", 1)[0]
    return _HELM_PREFIX.sub("", text, count=1).strip()


def notes_warnings(output: str) -> list[str]:
    """The WARNINGS lines of the NOTES that helm install/upgrade printed."""
    notes = output.split("\nNOTES:\n", 1)[-1]
    if "\nWARNINGS\n" not in notes:
        return []
    return [
        line.removeprefix("  - ")
        for line in notes.split("\nWARNINGS\n", 1)[1].splitlines()
        if line.startswith("  - ")
    ]
