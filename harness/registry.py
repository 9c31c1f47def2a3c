"""A throw-away OCI registry on localhost, for the chart's packaging round trip.

It is the CNCF distribution registry (`registry serve`), built from source like
the other tools (scripts/tools.sh), storing in a temporary folder.
"""

from __future__ import annotations

import json
import socket
import subprocess
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from harness.config import tool_env
from harness.kube import wait_until


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status(url: str) -> int | str:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError as exc:
        return str(exc)


@contextmanager
def local_registry() -> Iterator[str]:
    """Run a registry until the block ends; yield its `host:port`."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="fullstack-registry-") as tmp:
        config = Path(tmp) / "config.yml"
        config.write_text(
            json.dumps(
                {
                    "version": 0.1,
                    "log": {"level": "warn"},
                    "storage": {"filesystem": {"rootdirectory": f"{tmp}/data"}},
                    "http": {"addr": f"127.0.0.1:{port}"},
                }
            )
        )
        log = (Path(tmp) / "registry.log").open("w")
        proc = subprocess.Popen(
            ["registry", "serve", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=tool_env(),
        )
        try:
            url = f"http://127.0.0.1:{port}/v2/"
            wait_until(
                lambda: (proc.poll(), _status(url)),
                lambda state: state[1] == 200,
                what=f"OCI registry on 127.0.0.1:{port}",
                timeout=30,
                interval=0.5,
                failed=lambda state: (
                    None
                    if state[0] is None
                    else f"the registry exited with {state[0]}: "
                    f"{Path(log.name).read_text()[-2000:]}"
                ),
            )
            yield f"127.0.0.1:{port}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)
            log.close()


def manifest(registry: str, repository: str, reference: str) -> dict:
    """Return an OCI image manifest from the registry's API."""
    request = urllib.request.Request(
        f"http://{registry}/v2/{repository}/manifests/{reference}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)
