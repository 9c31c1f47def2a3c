"""The `helm test` pods (C60), and the shell scripts the chart ships.

The HTTP checks are run here against a local HTTP server, and the database
check against a psql stand-in, so their retry and reporting logic is tested
without a cluster.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helm_render import Manifests, all_containers, container, env_values, pod_spec

TEST_PODS = {
    "rel-fullstack-test-frontend": "test-frontend",
    "rel-fullstack-test-backend": "test-backend",
    "rel-fullstack-test-database": "test-database",
}


@pytest.fixture(scope="module")
def web() -> Iterator[dict[str, int]]:
    """A local server answering 200 or 503 per path, like the app's health checks."""
    status = {"/healthz": 200, "/": 200, "/readyz": 503}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            """Quiet."""

        def do_GET(self) -> None:
            self.send_response(status.get(self.path, 404))
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield {"port": server.server_address[1]}
    server.shutdown()
    server.server_close()


def _script(manifests: Manifests, pod: str) -> str:
    test = container(manifests.get("Pod", pod), TEST_PODS[pod])
    assert test["command"][:2] == ["/bin/bash", "-c"]
    return test["command"][2]


def _run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script],
        check=False,
        timeout=60,
        capture_output=True,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "TEST_ATTEMPTS": "2",
            "TEST_INTERVAL_SECONDS": "0",
            **env,
        },
    )


def test_test_pods_are_hooks_that_clean_up(default_manifests: Manifests) -> None:
    # C60: a rerun replaces the previous pod; a failed one stays for its logs.
    assert default_manifests.names("Pod") == sorted(TEST_PODS)
    for pod in default_manifests.of_kind("Pod"):
        annotations = pod["metadata"]["annotations"]
        assert annotations["helm.sh/hook"] == "test"
        assert (
            annotations["helm.sh/hook-delete-policy"]
            == "before-hook-creation,hook-succeeded"
        )
        assert pod["spec"]["restartPolicy"] == "Never"
        assert pod["spec"]["activeDeadlineSeconds"] == 300
        item = pod["spec"]["containers"][0]
        assert item["image"] == "docker.io/library/postgres:18.6"
        assert item["resources"]["limits"] == {"memory": "64Mi"}
        assert env_values(item)["TEST_ATTEMPTS"] == "10"


def test_test_image_is_overridable(render) -> None:
    manifests = render(
        {
            "tests": {
                "image": {
                    "registry": "mirror.example.test",
                    "repository": "tools/pg-client",
                    "tag": "18.6-1",
                    "digest": "sha256:" + "a" * 64,
                }
            }
        }
    )

    for pod in manifests.of_kind("Pod"):
        assert pod["spec"]["containers"][0]["image"] == (
            "mirror.example.test/tools/pg-client:18.6-1@sha256:" + "a" * 64
        )


def test_tests_can_be_turned_off(render) -> None:
    assert render({"tests": {"enabled": False}}).of_kind("Pod") == []


def test_http_checks_pass_and_report(default_manifests, web) -> None:
    script = _script(default_manifests, "rel-fullstack-test-frontend")

    result = _run(script, {"TEST_HOST": "127.0.0.1", "TEST_PORT": str(web["port"])})

    assert result.returncode == 0, result.stdout + result.stderr
    url = f"http://127.0.0.1:{web['port']}"
    assert result.stdout.splitlines() == [
        f"PASS frontend health: GET {url}/healthz answered 'HTTP/1.0 200 OK' (attempt "
        f"1/2)",
        f"PASS frontend page: GET {url}/ answered 'HTTP/1.0 200 OK' (attempt 1/2)",
    ]


def test_http_checks_fail_after_bounded_retries(default_manifests, web) -> None:
    script = _script(default_manifests, "rel-fullstack-test-backend")

    result = _run(script, {"TEST_HOST": "127.0.0.1", "TEST_PORT": str(web["port"])})

    url = f"http://127.0.0.1:{web['port']}/readyz"
    what = "backend readiness (database reachable, schema ready)"
    assert result.returncode == 1
    assert result.stdout.splitlines()[1:] == [
        f"wait {what}: GET {url} answered 'HTTP/1.0 503 Service Unavailable' (attempt "
        f"1/2)",
        f"wait {what}: GET {url} answered 'HTTP/1.0 503 Service Unavailable' (attempt "
        f"2/2)",
        f"FAIL {what}: GET {url} never answered 200; last answer "
        "'HTTP/1.0 503 Service Unavailable'",
    ]


def test_http_check_reports_a_closed_port(default_manifests) -> None:
    script = _script(default_manifests, "rel-fullstack-test-frontend")

    result = _run(
        script, {"TEST_HOST": "127.0.0.1", "TEST_PORT": "9", "TEST_ATTEMPTS": "1"}
    )

    assert result.returncode == 1
    assert (
        "FAIL frontend health: GET http://127.0.0.1:9/healthz never answered 200; "
        "last answer 'nothing'" in result.stdout
    )


@pytest.mark.parametrize(
    ("psql", "rc", "last_line"),
    [
        (
            "echo 1",
            0,
            "PASS database: SELECT 1 as app@db:5432/app (sslmode prefer) returned '1' "
            "(attempt 1/2)",
        ),
        (
            'echo "psql: error: password authentication failed" >&2; exit 2',
            1,
            "FAIL database: SELECT 1 as app@db:5432/app (sslmode prefer) never "
            "returned 1; last output 'psql: error: password authentication failed'",
        ),
    ],
    ids=["ok", "auth-failure"],
)
def test_database_check(
    default_manifests, tmp_path: Path, psql: str, rc: int, last_line
):
    stub = tmp_path / "psql"
    stub.write_text(f"#!/bin/bash\n{psql}\n")
    stub.chmod(0o755)
    script = _script(default_manifests, "rel-fullstack-test-database")

    result = _run(
        script,
        {
            "PATH": f"{tmp_path}:/usr/bin:/bin",
            "PGUSER": "app",
            "PGHOST": "db",
            "PGPORT": "5432",
            "PGDATABASE": "app",
            "PGSSLMODE": "prefer",
        },
    )

    assert result.returncode == rc
    assert result.stdout.splitlines()[-1] == last_line


def test_every_shipped_script_parses(render) -> None:
    manifests = render(
        {
            "restore": {"enabled": True, "dumpFile": "x.dump"},
            "backup": {"initialDump": {"enabled": True}},
            "postgresql": {"volumePermissions": {"enabled": True}},
        }
    )
    scripts = []
    for doc in manifests.workloads():
        for item in all_containers(pod_spec(doc)):
            command = item.get("command", [])
            if command[:1] in (["/bin/bash"], ["/bin/sh"]):
                scripts.append((command[0], command[2]))
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                exec_command = item.get(probe, {}).get("exec", {}).get("command", [])
                if exec_command[:1] == ["/bin/sh"]:
                    scripts.append(("/bin/sh", exec_command[2]))
    init = manifests.get("ConfigMap", "rel-fullstack-postgresql-initdb")["data"]
    scripts.append(("/bin/bash", init["fullstack-init.sh"]))

    assert len(scripts) >= 10
    for shell, script in scripts:
        result = subprocess.run(
            [shell, "-n", "-c", script],
            check=False,
            timeout=30,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, (script[:80], result.stderr)
