"""Create or reuse the local kind cluster, with images and an ingress controller.

    python -m harness.cluster up          # cluster ready, images in, Traefik running
    python -m harness.cluster down        # delete the cluster
    python -m harness.cluster load NAME   # build the demo images into another cluster

Images come from a registry when one answers and are built locally otherwise
(airgap/build-images.sh); the demo app images are always built from the repo.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from kubernetes import client, config

from harness.config import (
    APP_IMAGES,
    MANIFESTS,
    ROOT,
    cluster_name,
    http_port,
    postgres_image,
    versions,
)
from harness.kube import wait_until
from harness.run import run

log = logging.getLogger("harness")

NODE_PORT_HTTP = 30080  # Traefik's NodePort, see manifests/traefik.yaml


@dataclass(frozen=True)
class Cluster:
    """A running kind cluster the harness can use."""

    name: str
    kubeconfig: Path
    http_port: int

    def api_client(self) -> client.ApiClient:
        """Return a kubernetes API client for this cluster."""
        return config.new_client_from_config(config_file=str(self.kubeconfig))


def stand_in_node_image() -> str:
    """Return the node image airgap/build-images.sh builds (KUBERNETES_VERSION)."""
    return f"kindest/node:{versions()['KUBERNETES_VERSION']}"


def published_node_image() -> str:
    """Return kind's published node image for KUBERNETES_VERSION's minor.

    kind publishes node images for a few patch releases only, so the published
    one can be an earlier patch of the same minor (pinned by digest).
    """
    minor = versions()["KUBERNETES_VERSION"].split(".")[1]
    return versions()[f"KIND_NODE_IMAGE_1_{minor}"]


def traefik_image() -> str:
    return f"docker.io/library/traefik:{versions()['TRAEFIK_VERSION']}"


def chart_images() -> list[str]:
    """Return the images the chart and the ingress controller run."""
    return [*(image.ref for image in APP_IMAGES), postgres_image(), traefik_image()]


def image_labels(image: str) -> dict[str, str] | None:
    """Return a local image's labels, or None when the image is not there."""
    result = run(
        ["docker", "image", "inspect", "-f", "{{json .Config.Labels}}", image],
        check=False,
    )
    if result.returncode != 0:
        return None
    return json.loads(result.stdout) or {}


def is_stand_in(image: str) -> bool:
    """Tell whether a local image was built by airgap/build-images.sh."""
    return "fullstack.recipe" in (image_labels(image) or {})


def published_or_pulled(image: str) -> bool:
    """Tell whether the published image is here, pulling it if it can be pulled.

    A stand-in under the same name does not count: build-images.sh decides
    whether it is still up to date.
    """
    labels = image_labels(image)
    if labels is not None:
        return "fullstack.recipe" not in labels
    pulled = run(["docker", "pull", "-q", image], check=False, timeout=900)
    if pulled.returncode != 0:
        log.info("cannot pull %s: building a stand-in", image)
    return pulled.returncode == 0


def build_stand_in(what: str) -> None:
    """Build (or confirm up to date) a stand-in with airgap/build-images.sh."""
    run(
        [
            "env",
            f"POSTGRES_IMAGE={postgres_image()}",
            "bash",
            ROOT / "airgap" / "build-images.sh",
            what,
        ],
        timeout=3600,
        stream=True,
    )


def ensure_images() -> str:
    """Make every image exist in the local Docker engine; return the node image.

    Published images are used wherever they can be pulled; the rest are built
    locally (airgap/). The demo app images are always built from the repo.
    """
    run(["bash", ROOT / "airgap" / "docker.sh"], timeout=300, stream=True)
    run(["bash", ROOT / "airgap" / "base-image.sh"], timeout=600, stream=True)
    node = published_node_image()
    if not published_or_pulled(node):
        build_stand_in("node")
        node = stand_in_node_image()
    if not published_or_pulled(postgres_image()):
        build_stand_in("postgres")
    if not published_or_pulled(traefik_image()):
        build_stand_in("traefik")
    build_app_images()
    return node


def build_app_images() -> None:
    """Build the demo app images from the repository, under the chart's names."""
    for image in APP_IMAGES:
        run(["docker", "build", "-q", "-t", image.ref, image.context], timeout=900)


def load_app_images(name: str) -> None:
    """Build the demo app images and load them into an existing kind cluster.

    For clusters made elsewhere from a published node image (CI's chart-testing
    matrix): their nodes pull PostgreSQL, but a change's demo images exist only
    in the local engine.
    """
    build_app_images()
    refs = [image.ref for image in APP_IMAGES]
    run(["kind", "load", "docker-image", "--name", name, *refs], timeout=900)


def kind_config(name: str, port: int, node: str) -> str:
    """Return the kind cluster configuration for a node image."""
    cfg = {
        "kind": "Cluster",
        "apiVersion": "kind.x-k8s.io/v1alpha4",
        "name": name,
        "nodes": [
            {
                "role": "control-plane",
                "image": node,
                "extraPortMappings": [
                    {
                        "containerPort": NODE_PORT_HTTP,
                        "hostPort": port,
                        "listenAddress": "127.0.0.1",
                    }
                ],
            }
        ],
        # Kubelets from 1.35 refuse cgroup v1 hosts unless told otherwise; the
        # setting is ignored on cgroup v2.
        "kubeadmConfigPatches": ["kind: KubeletConfiguration\nfailCgroupV1: false\n"],
    }
    if is_stand_in(node):
        # The stand-in node has a static CNI configuration instead of kindnetd.
        cfg["networking"] = {"disableDefaultCNI": True}
    return yaml.safe_dump(cfg, sort_keys=False)


def kubeconfig_path(name: str) -> Path:
    return (
        Path(tempfile.gettempdir()) / f"fullstack-kind-{name}-{os.getuid()}.kubeconfig"
    )


def write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, from its first byte on."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # in case it existed with a wider mode
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def cluster_exists(name: str) -> bool:
    return name in run(["kind", "get", "clusters"]).stdout.split()


def start_stopped_nodes(name: str) -> None:
    """Start node containers that are stopped (for example after a reboot).

    kind gives its nodes Docker's restart policy "on-failure:1", so a node
    stopped cleanly with the engine stays stopped; the API server then needs a
    moment, which wait_for_nodes allows for.
    """
    nodes = run(["kind", "get", "nodes", "--name", name]).stdout.split()
    for node in nodes:
        state = run(["docker", "inspect", "-f", "{{.State.Running}}", node]).stdout
        if state.strip() != "true":
            run(["docker", "start", node])


def create_cluster(name: str, port: int, node: str) -> None:
    """Create the kind cluster (kind waits for the control plane).

    kind writes the cluster's credentials to the harness's own kubeconfig
    file, not to ~/.kube/config, whose current context stays the user's.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as handle:
        handle.write(kind_config(name, port, node))
    try:
        run(
            [
                "kind",
                "create",
                "cluster",
                "--config",
                handle.name,
                "--kubeconfig",
                kubeconfig_path(name),
                "--wait",
                "5m",
            ],
            timeout=900,
            stream=True,
        )
    finally:
        Path(handle.name).unlink()


def wait_for_nodes(api: client.ApiClient) -> None:
    core = client.CoreV1Api(api)

    def ready(nodes: list[client.V1Node]) -> bool:
        return bool(nodes) and all(
            any(
                c.type == "Ready" and c.status == "True"
                for c in n.status.conditions or []
            )
            for n in nodes
        )

    wait_until(
        lambda: core.list_node().items,
        ready,
        what="cluster nodes",
        timeout=300,
        describe=lambda nodes: str(
            [
                (
                    n.metadata.name,
                    [(c.type, c.status) for c in n.status.conditions or []],
                )
                for n in nodes
            ]
        ),
    )


def install_ingress_controller(kubeconfig: Path, api: client.ApiClient) -> None:
    """Apply the Traefik manifests and wait until it serves."""
    manifest = (
        (MANIFESTS / "traefik.yaml")
        .read_text()
        .replace("TRAEFIK_VERSION", versions()["TRAEFIK_VERSION"])
    )
    run(["kubectl", "--kubeconfig", kubeconfig, "apply", "-f", "-"], input=manifest)
    apps = client.AppsV1Api(api)
    wait_until(
        lambda: apps.read_namespaced_deployment("traefik", "traefik"),
        lambda d: (
            (d.status.ready_replicas or 0) >= 1
            and d.status.updated_replicas == d.spec.replicas
        ),
        what="deployment traefik/traefik",
        timeout=300,
        describe=lambda d: (
            f"ready={d.status.ready_replicas} updated={d.status.updated_replicas}"
        ),
    )


def wait_for_default_storage(api: client.ApiClient) -> None:
    storage = client.StorageV1Api(api)
    wait_until(
        lambda: storage.list_storage_class().items,
        lambda classes: any(
            (c.metadata.annotations or {}).get(
                "storageclass.kubernetes.io/is-default-class"
            )
            == "true"
            for c in classes
        ),
        what="a default StorageClass",
        timeout=120,
        describe=lambda classes: str([c.metadata.name for c in classes]),
    )


def up() -> Cluster:
    """Create or reuse the cluster; load images; make sure Traefik runs."""
    name, port = cluster_name(), http_port()
    node = ensure_images()
    if cluster_exists(name):
        start_stopped_nodes(name)
    else:
        create_cluster(name, port, node)
    kubeconfig = kubeconfig_path(name)
    write_private(kubeconfig, run(["kind", "get", "kubeconfig", "--name", name]).stdout)
    cluster = Cluster(name, kubeconfig, port)
    api = cluster.api_client()
    wait_for_nodes(api)
    run(["kind", "load", "docker-image", "--name", name, *chart_images()], timeout=900)
    install_ingress_controller(kubeconfig, api)
    wait_for_default_storage(api)
    return cluster


def down() -> None:
    """Delete the cluster and the harness's kubeconfig file of it."""
    name = cluster_name()
    kubeconfig = kubeconfig_path(name)
    run(
        ["kind", "delete", "cluster", "--name", name, "--kubeconfig", kubeconfig],
        timeout=300,
        stream=True,
    )
    kubeconfig.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["up", "down", "load"])
    parser.add_argument("cluster", nargs="?", help="kind cluster name (for load)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    if args.action == "up":
        cluster = up()
        print(f"cluster {cluster.name} ready; kubeconfig: {cluster.kubeconfig}")
    elif args.action == "load":
        if not args.cluster:
            parser.error("load needs the kind cluster's name")
        load_app_images(args.cluster)
    else:
        down()


if __name__ == "__main__":
    main()
