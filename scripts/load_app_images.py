#!/usr/bin/env python3
"""Build the demo app images from this checkout and load them into a kind cluster.

    python scripts/load_app_images.py CLUSTER

For a cluster made from a published kind node image (nox -s ct in CI): its
node pulls PostgreSQL itself, but the frontend and backend of a change under
test exist only here. The names and tags are the harness's (harness.config),
which are the ones the chart's values ask for. Runs inside a nox session
(needs the harness's dependencies).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.config import APP_IMAGES
from harness.run import run


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: {sys.argv[0]} CLUSTER")
    cluster = sys.argv[1]
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    for image in APP_IMAGES:
        run(["docker", "build", "-q", "-t", image.ref, image.context], timeout=900)
    refs = [image.ref for image in APP_IMAGES]
    run(["kind", "load", "docker-image", "--name", cluster, *refs], timeout=900)


if __name__ == "__main__":
    main()
