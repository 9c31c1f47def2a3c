"""The packaged chart round-trips through an OCI registry and installs from there.

The release path pushes `helm package`'s archive to an OCI registry; users
`helm install oci://...`. Here a real registry (CNCF distribution) runs on
localhost: the chart is packaged, pushed, pulled back by version, compared
byte for byte and by digest, and the pulled archive is installed and
smoke-tested like the working tree's chart.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from harness.app import ingress_request
from harness.config import CHART_DIR
from harness.kube import wait_until
from harness.registry import local_registry, manifest
from harness.release import HELM_TEST_CHECKS, Release, ReleaseFactory
from harness.run import run

CHART = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())
DIGEST = re.compile(r"^Digest: (sha256:[0-9a-f]{64})$", re.MULTILINE)
CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"


def sha256(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def registry() -> Iterator[str]:
    """A registry on localhost for this module (helm talks to it over plain HTTP)."""
    with local_registry() as address:
        yield address


@pytest.fixture(scope="module")
def round_trip(registry: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Package the chart, push it, pull it back by version; return what each said."""
    packaged_dir = tmp_path_factory.mktemp("packaged")
    pulled_dir = tmp_path_factory.mktemp("pulled")

    run(["helm", "package", CHART_DIR, "--destination", packaged_dir])
    (packaged,) = packaged_dir.glob("*.tgz")
    pushed = run(["helm", "push", packaged, f"oci://{registry}/charts", "--plain-http"])
    pulled = run(
        [
            "helm",
            "pull",
            f"oci://{registry}/charts/{CHART['name']}",
            "--version",
            CHART["version"],
            "--destination",
            pulled_dir,
            "--plain-http",
        ]
    )
    (archive,) = pulled_dir.glob("*.tgz")
    return {
        "packaged": packaged,
        "pulled": archive,
        "push_digest": DIGEST.search(pushed.stdout + pushed.stderr),
        "pull_digest": DIGEST.search(pulled.stdout + pulled.stderr),
        "manifest": manifest(registry, f"charts/{CHART['name']}", CHART["version"]),
    }


def test_pulled_chart_is_the_packaged_one(round_trip: dict) -> None:
    packaged, pulled = round_trip["packaged"], round_trip["pulled"]

    # Same archive, by name and by content.
    assert pulled.name == f"{CHART['name']}-{CHART['version']}.tgz"
    assert sha256(pulled) == sha256(packaged)
    # Helm reports one manifest digest for both directions, and the registry's
    # manifest holds the archive as its chart layer.
    assert round_trip["push_digest"], "helm push printed no digest"
    assert round_trip["pull_digest"], "helm pull printed no digest"
    assert round_trip["push_digest"][1] == round_trip["pull_digest"][1]
    layers = {layer["mediaType"]: layer for layer in round_trip["manifest"]["layers"]}
    assert layers[CHART_LAYER]["digest"] == sha256(packaged)
    assert layers[CHART_LAYER]["size"] == packaged.stat().st_size


@pytest.fixture(scope="module")
def release(release_factory: ReleaseFactory, round_trip: dict) -> Release:
    """The chart installed from the archive pulled out of the registry."""
    return release_factory(chart=round_trip["pulled"])


def test_release_from_the_registry_serves_the_app(
    release: Release, kind_cluster
) -> None:
    port = kind_cluster.http_port
    name = f"from-oci-{secrets.token_hex(4)}"

    # The page, then an item written and read back through the Ingress.
    status, body = wait_until(
        lambda: ingress_request(release, port, "GET", "/"),
        lambda result: result[0] == 200,
        what=f"GET / on {release.host}",
        timeout=60,
        interval=1,
    )
    assert "<title>fullstack</title>" in body
    status, body = ingress_request(release, port, "POST", "/api/items", {"name": name})
    assert status == 201, body
    status, body = ingress_request(release, port, "GET", "/api/items")
    assert status == 200, body
    assert name in [item["name"] for item in json.loads(body)]


def test_release_from_the_registry_passes_helm_test(release: Release) -> None:
    checks = release.helm_test()

    assert sorted(checks) == sorted(HELM_TEST_CHECKS), checks
