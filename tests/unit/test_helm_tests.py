"""The `helm test` pods (C60), and the shell scripts the chart ships.

What the test scripts report when a check passes or fails (bounded retries,
the check's name and what it found) is tested by running `helm test` in a real
cluster: tests/e2e/test_smoke.py and tests/e2e/test_upgrades.py.
"""

from __future__ import annotations

import subprocess

from helm_render import Manifests, all_containers, env_values, pod_spec

TEST_PODS = {
    "rel-fullstack-test-frontend": "test-frontend",
    "rel-fullstack-test-backend": "test-backend",
    "rel-fullstack-test-database": "test-database",
}


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
