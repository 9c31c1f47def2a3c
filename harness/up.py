"""The main job: a local kind cluster with the chart installed and reachable.

    python -m harness.up     # (nox -s up, make up)

Creates or reuses the cluster (harness.cluster), installs or upgrades the
release `fullstack` in the namespace `fullstack` with its Ingress on Traefik,
waits until every workload is ready and prints how to reach it.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import urllib.request

import yaml

from harness import cluster as harness_cluster
from harness.config import CHART_DIR
from harness.fullstack import wait_for_initial_dump
from harness.kube import wait_for_workloads, wait_until
from harness.release import Release, ingress_values
from harness.run import run

RELEASE = "fullstack"
NAMESPACE = "fullstack"
VALUES = ingress_values(host="")


def http_status(url: str) -> int | str:
    """Return the HTTP status of a GET, or the error text."""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except OSError as exc:
        return str(exc)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    cluster = harness_cluster.up()
    kubeconfig = str(cluster.kubeconfig)
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values:
        yaml.safe_dump(VALUES, values)
        values.flush()
        run(
            [
                "helm",
                "upgrade",
                "--install",
                RELEASE,
                CHART_DIR,
                "--namespace",
                NAMESPACE,
                "--create-namespace",
                "--values",
                values.name,
                "--kubeconfig",
                kubeconfig,
            ],
            stream=True,
        )
    api = cluster.api_client()
    wait_for_workloads(api, NAMESPACE)
    # The install-time dump is a Job: up is done when the first backup is (C62).
    release = Release(RELEASE, NAMESPACE, host="", kubeconfig=kubeconfig)
    wait_for_initial_dump(api, release)
    url = f"http://localhost:{cluster.http_port}/"
    wait_until(
        lambda: http_status(url),
        lambda status: status == 200,
        what=f"GET {url}",
        timeout=60,
        interval=1,
    )
    # `make down` deletes the FULLSTACK_CLUSTER cluster: name it when it was
    # given, or the printed line would delete the default cluster instead.
    given = "FULLSTACK_CLUSTER" in os.environ
    named = f"FULLSTACK_CLUSTER={cluster.name} " if given else ""
    add_item = (
        "curl -H 'Content-Type: application/json' -d '{\"name\": \"first\"}' "
        f"{url}api/items"
    )
    print(f"""
fullstack is running in the kind cluster "{cluster.name}".

  Web app:     {url}
  API:         {url}api/items
  Tools:       export PATH="$(scripts/tools.sh path):$PATH"   (helm, kubectl, kind)
  Kubeconfig:  export KUBECONFIG={kubeconfig}
  Status:      helm status {RELEASE} -n {NAMESPACE}
  Chart tests: helm test {RELEASE} -n {NAMESPACE}
  Add an item: {add_item}
  Remove:      {named}make down   (deletes the cluster "{cluster.name}")
""")


if __name__ == "__main__":
    main()
