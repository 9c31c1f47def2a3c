"""Waiting on Kubernetes objects, and dumping a namespace when something fails.

pytest-helm-charts' wait helpers count iterations instead of keeping a clock and
raise without the object's last state, so the harness keeps its own deadline-based
wait; API access goes through the official `kubernetes` client.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from harness.run import run

log = logging.getLogger("harness")
T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A wait ran out of time; says what was awaited and what was seen last."""


class WaitFailed(AssertionError):
    """A wait stopped early because the object reached a state it cannot leave."""


def wait_until(
    observe: Callable[[], T],
    done: Callable[[T], bool],
    *,
    what: str,
    timeout: float,
    interval: float = 2.0,
    failed: Callable[[T], str | None] | None = None,
    describe: Callable[[T], str] = repr,
) -> T:
    """Poll `observe()` until `done(state)`, on a monotonic deadline.

    `failed(state)` may return a reason to stop at once (a Job that failed, a
    container that cannot pull its image). An ApiException while observing
    counts as a state (for example 404 before the object exists).
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = observe()
        except ApiException as exc:
            last = exc
        else:
            if done(last):
                return last
            reason = failed(last) if failed else None
            if reason:
                raise WaitFailed(f"{what}: {reason}; last state: {describe(last)}")
        if time.monotonic() >= deadline:
            shown = (
                f"API error {last.status}: {last.reason}"
                if isinstance(last, ApiException)
                else describe(last)
            )
            raise WaitTimeout(
                f"{what}: not done after {timeout:.0f}s; last state: {shown}"
            )
        time.sleep(interval)


def pod_problem(pods: list[client.V1Pod]) -> str | None:
    """Return why a pod of the list cannot become ready by itself, if it cannot."""
    fatal = {
        "ErrImagePull",
        "ImagePullBackOff",
        "InvalidImageName",
        "CreateContainerConfigError",
    }
    for pod in pods:
        statuses = (pod.status.init_container_statuses or []) + (
            pod.status.container_statuses or []
        )
        for status in statuses:
            waiting = status.state.waiting if status.state else None
            if waiting and waiting.reason in fatal:
                return (
                    f"pod {pod.metadata.name} container {status.name}: "
                    f"{waiting.reason}: {waiting.message}"
                )
    return None


def describe_pods(pods: list[client.V1Pod]) -> str:
    """Summarise pods as name=phase plus container readiness and waiting reasons."""
    parts = []
    for pod in pods:
        containers = []
        for status in (pod.status.init_container_statuses or []) + (
            pod.status.container_statuses or []
        ):
            waiting = (
                status.state.waiting.reason
                if status.state and status.state.waiting
                else ""
            )
            containers.append(
                f"{status.name}:{'ready' if status.ready else 'not-ready'}"
                f"{'/' + waiting if waiting else ''}/restarts={status.restart_count}"
            )
        parts.append(f"{pod.metadata.name}={pod.status.phase}[{', '.join(containers)}]")
    return "; ".join(parts) or "no pods"


def wait_for_workloads(
    api: client.ApiClient, namespace: str, *, timeout: float = 420
) -> None:
    """Wait until every Deployment and StatefulSet of the namespace is fully ready."""
    apps = client.AppsV1Api(api)
    core = client.CoreV1Api(api)

    def observe() -> dict[str, Any]:
        state: dict[str, Any] = {
            "workloads": {},
            "pods": core.list_namespaced_pod(namespace).items,
        }
        for dep in apps.list_namespaced_deployment(namespace).items:
            state["workloads"][f"deployment/{dep.metadata.name}"] = (
                dep.status.ready_replicas or 0,
                dep.spec.replicas,
                dep.status.updated_replicas or 0,
                dep.status.observed_generation == dep.metadata.generation,
            )
        for sts in apps.list_namespaced_stateful_set(namespace).items:
            state["workloads"][f"statefulset/{sts.metadata.name}"] = (
                sts.status.ready_replicas or 0,
                sts.spec.replicas,
                sts.status.updated_replicas or 0,
                sts.status.observed_generation == sts.metadata.generation,
            )
        return state

    def done(state: dict[str, Any]) -> bool:
        return bool(state["workloads"]) and all(
            ready == wanted and updated == wanted and observed
            for ready, wanted, updated, observed in state["workloads"].values()
        )

    wait_until(
        observe,
        done,
        what=f"workloads of namespace {namespace}",
        timeout=timeout,
        failed=lambda s: pod_problem(s["pods"]),
        describe=lambda s: f"{s['workloads']} pods: {describe_pods(s['pods'])}",
    )


def wait_for_job(
    api: client.ApiClient, namespace: str, name: str, *, timeout: float = 300
) -> client.V1Job:
    """Wait for a Job to complete; fail early when it is marked Failed."""
    batch = client.BatchV1Api(api)

    def condition(job: client.V1Job, kind: str) -> bool:
        return any(
            c.type == kind and c.status == "True" for c in job.status.conditions or []
        )

    return wait_until(
        lambda: batch.read_namespaced_job(name, namespace),
        lambda job: condition(job, "Complete"),
        what=f"job {namespace}/{name}",
        timeout=timeout,
        failed=lambda job: "the job failed" if condition(job, "Failed") else None,
        describe=lambda job: (
            f"active={job.status.active} succeeded={job.status.succeeded} "
            f"failed={job.status.failed} conditions="
            f"{[(c.type, c.reason) for c in job.status.conditions or []]}"
        ),
    )


def dump_namespace(namespace: str, kubeconfig: str) -> str:
    """Return describe output, recent events and container logs of a namespace."""
    sections = []
    commands = {
        "objects": [
            "kubectl",
            "get",
            "all,pvc,ingress,secrets,configmaps",
            "-o",
            "wide",
        ],
        "describe pods": ["kubectl", "describe", "pods"],
        "describe workloads": [
            "kubectl",
            "describe",
            "deployments,statefulsets,jobs,cronjobs,pvc",
        ],
        "events": ["kubectl", "get", "events", "--sort-by=.lastTimestamp"],
        "logs": [
            "kubectl",
            "logs",
            "--all-containers",
            "--prefix",
            "--tail=80",
            "--ignore-errors",
            "-l",
            "app.kubernetes.io/instance",
        ],
    }
    for title, cmd in commands.items():
        result = run(
            [*cmd, "-n", namespace, "--kubeconfig", kubeconfig], check=False, timeout=60
        )
        sections.append(
            f"===== {title} ({namespace}) =====\n{result.stdout}{result.stderr}"
        )
    return "\n".join(sections)
