"""Waiting on Kubernetes objects, and dumping a namespace when something fails.

pytest-helm-charts' wait helpers count iterations instead of keeping a clock and
raise without the object's last state, so the harness keeps its own deadline-based
wait; API access goes through the official `kubernetes` client.
"""

from __future__ import annotations

import base64
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError as ConnectionTrouble

from harness.config import ROOT
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
    counts as a state (for example 404 before the object exists), and so does
    an API server that does not answer yet (a node container just restarted).
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = observe()
        except (ApiException, ConnectionTrouble) as exc:
            last = exc
        else:
            if done(last):
                return last
            reason = failed(last) if failed else None
            if reason:
                raise WaitFailed(f"{what}: {reason}; last state: {describe(last)}")
        if time.monotonic() >= deadline:
            if isinstance(last, ApiException):
                shown = f"API error {last.status}: {last.reason}"
            elif isinstance(last, ConnectionTrouble):
                shown = f"API server unreachable: {last}"
            else:
                shown = describe(last)
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


def wait_for_rollout(
    api: client.ApiClient, namespace: str, name: str, *, timeout: float = 300
) -> None:
    """Wait until a Deployment runs only pods of its current template, all ready.

    Stricter than wait_for_workloads: pods of the previous template must be
    gone, not only replaced, so that no request can still reach one of them.
    """
    apps = client.AppsV1Api(api)
    core = client.CoreV1Api(api)

    def observe() -> tuple[client.V1Deployment, list[client.V1Pod]]:
        deployment = apps.read_namespaced_deployment(name, namespace)
        labels = deployment.spec.selector.match_labels or {}
        selector = ",".join(f"{key}={value}" for key, value in labels.items())
        pods = core.list_namespaced_pod(namespace, label_selector=selector).items
        return deployment, pods

    def done(state: tuple[client.V1Deployment, list[client.V1Pod]]) -> bool:
        deployment, pods = state
        wanted = deployment.spec.replicas
        status = deployment.status
        return (
            status.observed_generation == deployment.metadata.generation
            and (status.updated_replicas or 0) == wanted
            and (status.ready_replicas or 0) == wanted
            and (status.replicas or 0) == wanted
            and len(pods) == wanted
            and not any(pod.metadata.deletion_timestamp for pod in pods)
        )

    wait_until(
        observe,
        done,
        what=f"rollout of deployment {namespace}/{name} (old pods gone)",
        timeout=timeout,
        interval=1,
        failed=lambda state: pod_problem(state[1]),
        describe=lambda state: (
            f"replicas={state[0].spec.replicas} status={state[0].status.replicas} "
            f"updated={state[0].status.updated_replicas} "
            f"ready={state[0].status.ready_replicas} pods: {describe_pods(state[1])}"
        ),
    )


def job_condition(job: client.V1Job) -> str | None:
    """Return "Complete" or "Failed" once a Job has ended, else None."""
    for condition in job.status.conditions or []:
        if condition.type in ("Complete", "Failed") and condition.status == "True":
            return condition.type
    return None


def wait_for_job_end(
    api: client.ApiClient, namespace: str, name: str, *, timeout: float = 300
) -> client.V1Job:
    """Wait until a Job is Complete or Failed, and return it in that state.

    For Jobs that are expected to fail; `wait_for_job` is the one that raises
    as soon as a Job fails.
    """
    batch = client.BatchV1Api(api)
    return wait_until(
        lambda: batch.read_namespaced_job(name, namespace),
        lambda job: job_condition(job) is not None,
        what=f"job {namespace}/{name} to complete or fail",
        timeout=timeout,
        interval=1,
        describe=lambda job: (
            f"active={job.status.active} succeeded={job.status.succeeded} "
            f"failed={job.status.failed} conditions="
            f"{[(c.type, c.reason) for c in job.status.conditions or []]}"
        ),
    )


def pod_log(
    api: client.ApiClient, namespace: str, pod: str, container: str | None = None
) -> str:
    """Return what a pod's container printed so far ("" when it printed nothing).

    For a pod not yet assigned to a node the API server answers 204 No
    Content, which the client returns as None.
    """
    kwargs = {"container": container} if container else {}
    text = client.CoreV1Api(api).read_namespaced_pod_log(pod, namespace, **kwargs)
    return text or ""


def job_logs(api: client.ApiClient, namespace: str, name: str) -> str:
    """Return the logs of every pod of a Job, oldest pod first."""
    core = client.CoreV1Api(api)
    pods = core.list_namespaced_pod(
        namespace, label_selector=f"batch.kubernetes.io/job-name={name}"
    ).items
    pods.sort(key=lambda pod: pod.metadata.creation_timestamp)
    return "".join(pod_log(api, namespace, pod.metadata.name) for pod in pods)


@dataclass(frozen=True)
class JobRun:
    """A Job that ran to its end: its name, how it ended and what it printed."""

    name: str
    condition: str
    logs: str

    @property
    def succeeded(self) -> bool:
        return self.condition == "Complete"


def run_job(
    api: client.ApiClient,
    namespace: str,
    prefix: str,
    spec: dict[str, Any],
    *,
    timeout: float = 300,
) -> JobRun:
    """Create a Job `<prefix>-<random>` with this spec, wait for its end, get logs.

    `spec` is a JobSpec as a dict (as `api.sanitize_for_serialization` gives
    it); the controller-set selector and labels of a copied Job are dropped.
    The Job is labelled as made by the tests (not by helm).
    """
    spec = dict(spec)
    spec.pop("selector", None)
    spec.pop("manualSelector", None)
    template = dict(spec["template"])
    metadata = dict(template.get("metadata") or {})
    metadata["labels"] = {
        key: value
        for key, value in (metadata.get("labels") or {}).items()
        if key not in _JOB_CONTROLLER_LABELS
    }
    template["metadata"] = metadata
    spec["template"] = template
    name = f"{prefix}-{secrets.token_hex(3)}"
    # Own labels, so that the Job does not take its pod template's labels and
    # pass for one of the release's Jobs.
    labels = {"app.kubernetes.io/managed-by": "fullstack-tests"}
    body = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "labels": labels},
    }
    client.BatchV1Api(api).create_namespaced_job(namespace, {**body, "spec": spec})
    job = wait_for_job_end(api, namespace, name, timeout=timeout)
    run = JobRun(name, job_condition(job) or "", job_logs(api, namespace, name))
    log.info("job %s/%s ended %s:\n%s", namespace, name, run.condition, run.logs)
    return run


_JOB_CONTROLLER_LABELS = {
    "controller-uid",
    "job-name",
    "batch.kubernetes.io/controller-uid",
    "batch.kubernetes.io/job-name",
}


def secret_data(api: client.ApiClient, namespace: str, name: str) -> dict[str, bytes]:
    """Return the decoded data of a Secret."""
    secret = client.CoreV1Api(api).read_namespaced_secret(name, namespace)
    return {key: base64.b64decode(value) for key, value in (secret.data or {}).items()}


def restart_deployment(api: client.ApiClient, namespace: str, name: str) -> None:
    """Roll a Deployment's pods, as `kubectl rollout restart` does."""
    stamp = datetime.now(UTC).isoformat()
    patch = {
        "spec": {
            "template": {
                "metadata": {
                    "annotations": {"kubectl.kubernetes.io/restartedAt": stamp}
                }
            }
        }
    }
    client.AppsV1Api(api).patch_namespaced_deployment(name, namespace, patch)


def scale_deployment(
    api: client.ApiClient, namespace: str, name: str, replicas: int
) -> None:
    """Set a Deployment's replicas (outside helm, as an operator would)."""
    client.AppsV1Api(api).patch_namespaced_deployment_scale(
        name, namespace, {"spec": {"replicas": replicas}}
    )


def dump_namespace(namespace: str, kubeconfig: str) -> str:
    """Return objects, descriptions, events and logs of a namespace.

    The same dump CI prints for a failed job: scripts/debug-dump.sh.
    """
    result = run(
        [
            "env",
            f"KUBECONFIG={kubeconfig}",
            "bash",
            ROOT / "scripts" / "debug-dump.sh",
            namespace,
        ],
        check=False,
        timeout=300,
    )
    return result.stdout + result.stderr
