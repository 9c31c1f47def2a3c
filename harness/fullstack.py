"""What the tests read and run in a release of the chart: its database
Secret, its PostgreSQL pod, and its backup volume and Jobs.

Objects are found by the chart's labels (instance and component), not by
names the tests would have to rebuild. Backup runs are Jobs made from the
release's own CronJob (as `kubectl create job --from=cronjob/...` does), so
they use the chart's image, environment, volumes and security context; the
tests change only what a case needs (arguments, one Secret reference). The
backup volume is looked into from a pod made from the same template.
"""

from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass, field
from subprocess import CompletedProcess
from typing import Any

from kubernetes import client

from harness.kube import (
    JobRun,
    describe_pods,
    job_condition,
    pod_problem,
    run_job,
    secret_data,
    wait_until,
)
from harness.release import Release
from harness.run import run

_WROTE = re.compile(r"^backup: wrote (\S+) \((\d+) bytes\)$", re.MULTILINE)


def _one(items: list[Any], what: str) -> Any:
    assert len(items) == 1, f"expected one {what}, found {len(items)}"
    return items[0]


def database_secret_name(api: client.ApiClient, release: Release) -> str:
    """Return the name of the chart's database Secret."""
    secret = _one(
        client.CoreV1Api(api)
        .list_namespaced_secret(
            release.namespace, label_selector=release.selector("postgresql")
        )
        .items,
        f"database Secret of {release.name}",
    )
    return secret.metadata.name


def database_secret(api: client.ApiClient, release: Release) -> dict[str, bytes]:
    """Return the decoded data of the chart's database Secret."""
    name = database_secret_name(api, release)
    return secret_data(api, release.namespace, name)


def statefulset(api: client.ApiClient, release: Release) -> client.V1StatefulSet:
    """Return the PostgreSQL StatefulSet of the release."""
    return _one(
        client.AppsV1Api(api)
        .list_namespaced_stateful_set(
            release.namespace, label_selector=release.selector("postgresql")
        )
        .items,
        f"PostgreSQL StatefulSet of {release.name}",
    )


def postgres_pod(api: client.ApiClient, release: Release) -> client.V1Pod:
    """Return the PostgreSQL pod of the release."""
    return _one(
        client.CoreV1Api(api)
        .list_namespaced_pod(
            release.namespace, label_selector=release.selector("postgresql")
        )
        .items,
        f"PostgreSQL pod of {release.name}",
    )


def restart_count(pod: client.V1Pod, container: str | None = None) -> int:
    """Return the restarts of a pod's containers, init containers included.

    With `container`, only that container's.
    """
    statuses = (pod.status.init_container_statuses or []) + (
        pod.status.container_statuses or []
    )
    return sum(
        status.restart_count
        for status in statuses
        if container is None or status.name == container
    )


def _psql_literal(value: str) -> str:
    """Quote a value for a psql meta-command, which reads backslash escapes."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f"'{escaped}'"


def postgres_exec(
    api: client.ApiClient,
    release: Release,
    *command: str,
    input: str | None = None,
    check: bool = True,
    timeout: float = 60,
) -> CompletedProcess[str]:
    """Run a command in the postgresql container of the release's database pod.

    `input` goes to the command's stdin; with check=False a failing command
    (or an exec whose container went away) is returned, not raised.
    """
    pod = postgres_pod(api, release)
    stdin = ["-i"] if input is not None else []
    return run(
        [
            "kubectl",
            "exec",
            *stdin,
            "--kubeconfig",
            release.kubeconfig,
            "-n",
            release.namespace,
            pod.metadata.name,
            "-c",
            "postgresql",
            "--",
            *command,
        ],
        input=input,
        timeout=timeout,
        check=check,
    )


def psql(
    api: client.ApiClient,
    release: Release,
    sql: str,
    *,
    database: str = "app",
    variables: dict[str, str] | None = None,
    timeout: float = 60,
) -> str:
    """Run SQL as the superuser inside the PostgreSQL pod; return unaligned rows.

    The SQL and the variables go in on stdin (`\\set` lines), never on a
    command line or into the harness's log, so a variable may hold a password;
    psql variables (`:'name'`) then quote values of any content. A failing
    statement fails the call.
    """
    settings = "".join(
        f"\\set {key} {_psql_literal(value)}\n"
        for key, value in (variables or {}).items()
    )
    result = postgres_exec(
        api,
        release,
        "psql",
        "-v",
        "ON_ERROR_STOP=1",
        "--no-psqlrc",
        "--quiet",
        "--tuples-only",
        "--no-align",
        "--username",
        "postgres",
        "--dbname",
        database,
        input=settings + sql,
        timeout=timeout,
    )
    return result.stdout.strip()


def backup_job_spec(api: client.ApiClient, release: Release) -> dict[str, Any]:
    """Return the JobSpec of the release's backup CronJob, as a dict."""
    cronjob = _one(
        client.BatchV1Api(api)
        .list_namespaced_cron_job(
            release.namespace, label_selector=release.selector("backup")
        )
        .items,
        f"backup CronJob of {release.name}",
    )
    return api.sanitize_for_serialization(cronjob.spec.job_template.spec)


def initial_dump_job(api: client.ApiClient, release: Release) -> client.V1Job:
    """Return the install-time dump Job (the backup Job helm manages)."""
    return _one(_helm_backup_jobs(api, release), f"install-time dump of {release.name}")


def _helm_backup_jobs(api: client.ApiClient, release: Release) -> list[client.V1Job]:
    """The backup Jobs helm manages (the install-time dump), not CronJob runs."""
    jobs = client.BatchV1Api(api).list_namespaced_job(
        release.namespace,
        label_selector=f"{release.selector('backup')},app.kubernetes.io/managed-by=Helm",
    )
    return [job for job in jobs.items if not job.metadata.owner_references]


def wait_for_initial_dump(
    api: client.ApiClient, release: Release, *, timeout: float = 240
) -> client.V1Job:
    """Wait until the install-time dump Job (a new one after a changed spec) is done.

    Helm replaces the Job when its spec changes; until the old one is deleted
    there can be two.
    """
    jobs = wait_until(
        lambda: _helm_backup_jobs(api, release),
        lambda jobs: len(jobs) == 1 and job_condition(jobs[0]) == "Complete",
        what=f"install-time dump Job of {release.namespace} to complete",
        timeout=timeout,
        interval=1,
        failed=lambda jobs: next(
            (f"{j.metadata.name} failed" for j in jobs if job_condition(j) == "Failed"),
            None,
        ),
        describe=lambda jobs: str(
            [(j.metadata.name, job_condition(j), j.status.active) for j in jobs]
        ),
    )
    return jobs[0]


def _container(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["template"]["spec"]["containers"][0]


def run_backup(
    api: client.ApiClient,
    release: Release,
    *,
    spec: dict[str, Any] | None = None,
    args: list[str] | None = None,
    password_secret: str | None = None,
    backoff_limit: int | None = None,
    timeout: float = 240,
) -> JobRun:
    """Run the backup CronJob's Job now and wait until it completes or fails.

    `spec` replaces the CronJob's JobSpec (e.g. the install-time Job's);
    `args` are what backup.extraArgs would render; `password_secret` points
    PGPASSWORD at another Secret (same key); `backoff_limit` replaces the
    chart's retries.
    """
    spec = copy.deepcopy(spec or backup_job_spec(api, release))
    if backoff_limit is not None:
        spec["backoffLimit"] = backoff_limit
    container = _container(spec)
    if args is not None:
        container["args"] = args
    for entry in container["env"]:
        if entry["name"] == "PGPASSWORD" and password_secret:
            entry["valueFrom"]["secretKeyRef"]["name"] = password_secret
    return run_job(api, release.namespace, "backup-now", spec, timeout=timeout)


@dataclass(frozen=True)
class BackupFile:
    """One file of the backup volume."""

    name: str
    size: int
    mode: str
    age_days: float = field(compare=False)


class BackupVolume:
    """A pod like the backup pods (same image, env, volumes, security context)
    that stays up, so that the tests can look into the backup volume with
    `kubectl exec` instead of starting a pod per look.

    The volume is mounted read-write at /backups, as for a dump. Use it as a
    context manager; the pod is deleted at the end.
    """

    def __init__(self, api: client.ApiClient, release: Release) -> None:
        self.api, self.release = api, release
        self.name = f"backup-volume-{secrets.token_hex(3)}"

    def __enter__(self) -> BackupVolume:
        template = backup_job_spec(self.api, self.release)["template"]
        spec = template["spec"]
        spec["containers"][0]["command"] = ["sleep", "infinity"]
        spec["containers"][0].pop("args", None)
        spec["terminationGracePeriodSeconds"] = 0
        spec["activeDeadlineSeconds"] = 3600
        core = client.CoreV1Api(self.api)
        metadata = {"name": self.name, "labels": template["metadata"]["labels"]}
        core.create_namespaced_pod(
            self.release.namespace, {"metadata": metadata, "spec": spec}
        )
        wait_until(
            lambda: core.read_namespaced_pod(self.name, self.release.namespace),
            lambda pod: pod.status.phase == "Running",
            what=f"pod {self.release.namespace}/{self.name} running",
            timeout=120,
            interval=1,
            failed=lambda pod: pod_problem([pod]),
            describe=lambda pod: describe_pods([pod]),
        )
        return self

    def __exit__(self, *exc: object) -> None:
        client.CoreV1Api(self.api).delete_namespaced_pod(
            self.name, self.release.namespace, grace_period_seconds=0
        )

    def sh(self, script: str, *, check: bool = True) -> CompletedProcess[str]:
        """Run a bash script (errexit, nounset, pipefail) in the pod."""
        return run(
            [
                "kubectl",
                "exec",
                "--kubeconfig",
                self.release.kubeconfig,
                "-n",
                self.release.namespace,
                self.name,
                "-c",
                "backup",
                "--",
                "bash",
                "-euo",
                "pipefail",
                "-c",
                script,
            ],
            timeout=120,
            check=check,
        )

    def files(self) -> dict[str, BackupFile]:
        """Every file of the volume, hidden (partial) ones included."""
        listing = self.sh(
            "now=$(date +%s); find /backups -mindepth 1 -maxdepth 1 -type f "
            "-printf '%f\\t%s\\t%m\\t%T@\\n' | while IFS=$'\\t' read -r f s m t; "
            'do echo "${f} ${s} ${m} $(( now - ${t%.*} ))"; done'
        ).stdout
        files = {}
        for line in listing.splitlines():
            name, size, mode, age = line.split(" ")
            files[name] = BackupFile(name, int(size), mode, int(age) / 86400)
        return files


def dumps(files: dict[str, BackupFile], release: Release) -> list[str]:
    """The release's dump names among the files, oldest first (by name).

    A dump of the release is named exactly <fullname>-YYYYMMDDTHHMMSSZ.dump;
    a longer name with the same start belongs to someone else.
    """
    shape = re.compile(re.escape(f"{release.name}-fullstack-") + r"\d{8}T\d{6}Z\.dump")
    return sorted(n for n in files if shape.fullmatch(n))


def written_dump(backup: JobRun) -> str:
    """Return the file name a successful backup run reports it wrote."""
    found = _WROTE.findall(backup.logs)
    assert len(found) == 1, f"no 'backup: wrote' line in:\n{backup.logs}"
    return found[0][0]
