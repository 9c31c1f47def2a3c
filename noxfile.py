"""Sessions of the fullstack chart: lint, render tests, cluster tests, local cluster.

nox -s lint unit e2e    # the whole test suite (what `make test` runs)
nox -s ct               # chart-testing install/upgrade/helm test (CI's matrix)
nox -s up               # a local kind cluster with the chart installed
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nox

nox.needs_version = ">=2025.5.1"
# uv comes with nox in the bootstrap group (see the Makefile); the sessions
# install with `uv pip install -r pyproject.toml --group ...`, which pip lacks.
nox.options.default_venv_backend = "uv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "unit"]

# The interpreter running nox (the Makefile's .venv, made by python3): sessions
# never need another Python, which uv would otherwise try to download.
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
PY_LOCATIONS = ["noxfile.py", "harness", "tests", "scripts", "app/backend"]


def install(session: nox.Session, *groups: str) -> None:
    """Install the harness's pinned dependencies (and dependency groups)."""
    args = ["-r", "pyproject.toml"]
    for group in groups:
        args += ["--group", group]
    session.install(*args)


def tools(session: nox.Session, *names: str) -> None:
    """Build the pinned tools that are missing and put them first on PATH.

    nox puts the session's virtualenv in front of this PATH by itself.
    """
    session.run("bash", "scripts/tools.sh", "install", *names, external=True)
    path = session.run("bash", "scripts/tools.sh", "path", external=True, silent=True)
    # nox finds a program on this process's PATH, not on session.env's: put
    # the tools first on both, or `session.run("helm", ...)` works only where
    # the caller's PATH already has them.
    entries = path.strip().split(os.pathsep)
    rest = [p for p in os.environ["PATH"].split(os.pathsep) if p not in entries]
    os.environ["PATH"] = os.pathsep.join([*entries, *rest])
    session.env["PATH"] = os.environ["PATH"]


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Lint Python, YAML, shell, CI workflows, the chart, its docs and metadata."""
    install(session, "lint")
    tools(session, "helm", "helm3", "ct", "helm-docs", "actionlint")
    session.run("ruff", "check", *PY_LOCATIONS)
    session.run("ruff", "format", "--check", *PY_LOCATIONS)
    session.run("yamllint", "--strict", ".")
    session.run("shellcheck", *_shell_scripts(), external=True)
    for helm in ("helm", "helm3"):
        session.run(helm, "lint", "--strict", "charts/fullstack", external=True)
    ct_etc = session.run(
        "bash", "scripts/tools.sh", "dir", "ct", external=True, silent=True
    )
    session.run(
        "ct",
        "lint",
        "--config",
        "ct.yaml",
        "--all",
        "--chart-yaml-schema",
        f"{ct_etc.strip()}/etc/chart_schema.yaml",
        "--lint-conf",
        f"{ct_etc.strip()}/etc/lintconf.yaml",
        external=True,
    )
    # `--all` turns ct's version-bump check off. Where the target branch is
    # known (CI checkouts, clones), lint the changed charts again with it on,
    # so a chart change without a new version fails here and not at release.
    if _has_target_branch(session):
        session.run(
            "ct",
            "lint",
            "--config",
            "ct.yaml",
            "--chart-yaml-schema",
            f"{ct_etc.strip()}/etc/chart_schema.yaml",
            "--lint-conf",
            f"{ct_etc.strip()}/etc/lintconf.yaml",
            external=True,
        )
    session.run("helm-docs", "--chart-search-root", "charts", external=True)
    session.run("git", "diff", "--exit-code", "--", "charts/*/README.md", external=True)
    # Workflows: syntax and shell (actionlint runs shellcheck on `run:`),
    # security (zizmor, offline; CI runs it once more online, with a token,
    # in a step of its own) and the house rules.
    session.run("actionlint", external=True)
    session.run("zizmor", "--offline", "--no-progress", ".github")
    session.run("python", "scripts/check_workflows.py")
    session.run("python", "scripts/check_artifacthub.py")


@nox.session(python=False, default=False)
def docs(session: nox.Session) -> None:
    """Regenerate the chart's README.md from values.yaml and README.md.gotmpl."""
    tools(session, "helm-docs")
    session.run("helm-docs", "--chart-search-root", "charts", external=True)


def _has_target_branch(session: nox.Session) -> bool:
    """Tell whether ct's remote target branch (ct.yaml: origin/main) is known."""
    known = (
        subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "refs/remotes/origin/main"],
            capture_output=True,
            check=False,
            timeout=30,
        ).returncode
        == 0
    )
    if not known:
        session.log("no origin/main in this clone: skipping what compares with it")
    return known


def _shell_scripts() -> list[str]:
    """Return the repository's shell scripts (for shellcheck)."""
    scripts = sorted(
        str(p)
        for p in Path(".").glob("**/*.sh")
        if not {".venv", ".nox"} & set(p.parts)
    )
    return [*scripts, ".ci/run"]


@nox.session(python=PYTHON)
def unit(session: nox.Session) -> None:
    """Render, snapshot, schema and policy tests of the chart and CI (no cluster)."""
    # tests/lint runs the workflow linters (lint group, actionlint) on fixtures.
    install(session, "lint")
    tools(session, "helm", "helm3", "helm-docs", "actionlint")
    session.run("pytest", "tests/unit", "tests/lint", *session.posargs)
    # The render tier once more with Helm 3, which the chart supports too.
    # test_notes.py is left out rather than skipped: Helm 3 cannot print NOTES
    # without a cluster (even `install --dry-run=client` asks one for its
    # version).
    session.log("the render tier with Helm 3")
    session.run(
        "pytest",
        "tests/unit",
        "--ignore=tests/unit/test_notes.py",
        *session.posargs,
        env={"HELM": shutil.which("helm3") or "helm3"},
    )


@nox.session(python=PYTHON, default=False)
def ct(session: nox.Session) -> None:
    """Install, upgrade and helm-test the chart with chart-testing in kind.

    Uses the harness's cluster (created or reused, as for `nox -s up`), or with
    FULLSTACK_NODE_IMAGE set to a published kind node image (CI's Kubernetes
    matrix), a cluster "fullstack-ct" made from it. FULLSTACK_HELM=helm3 runs
    it all with Helm 3 instead of Helm 4. Arguments go to `ct install`.
    """
    helm = os.environ.get("FULLSTACK_HELM", "helm")
    if helm not in ("helm", "helm3"):
        session.error("Usage: FULLSTACK_HELM=helm|helm3 nox -s ct [-- CT-ARGS]")
    install(session)
    tools(session, "helm", "helm3", "kind", "kubectl", "ct")
    node_image = os.environ.get("FULLSTACK_NODE_IMAGE")
    if node_image:
        cluster = "fullstack-ct"
        clusters = session.run("kind", "get", "clusters", external=True, silent=True)
        if cluster not in clusters.split():
            session.run(
                "kind",
                "create",
                "cluster",
                "--name",
                cluster,
                "--image",
                node_image,
                "--wait",
                "5m",
                external=True,
            )
        session.run("python", "-m", "harness.cluster", "load", cluster)
    else:
        cluster = os.environ.get("FULLSTACK_CLUSTER", "fullstack")
        session.run("python", "-m", "harness.cluster", "up")
    # Absolute: Go programs (ct, helm) refuse relative PATH entries.
    tmp = Path(session.create_tmp()).resolve()
    kubeconfig = tmp / "kubeconfig"
    kubeconfig.unlink(missing_ok=True)
    kubeconfig.touch(mode=0o600)  # cluster-admin credentials: private from the start
    kubeconfig.write_text(
        session.run(
            "kind", "get", "kubeconfig", "--name", cluster, external=True, silent=True
        )
    )
    session.env["KUBECONFIG"] = str(kubeconfig)
    if helm == "helm3":
        # ct and the steps below call `helm`: put Helm 3 first under that name.
        shim = tmp / "helm3-as-helm"
        shim.mkdir(exist_ok=True)
        (shim / "helm").unlink(missing_ok=True)
        helm3_dir = session.run(
            "bash", "scripts/tools.sh", "dir", "helm3", external=True, silent=True
        )
        (shim / "helm").symlink_to(Path(helm3_dir.strip()) / "helm3")
        # Both PATHs, as in tools(): nox finds programs on its own.
        os.environ["PATH"] = f"{shim}{os.pathsep}{os.environ['PATH']}"
        session.env["PATH"] = os.environ["PATH"]
    session.run("helm", "version", external=True)
    # Every ci/*-values.yaml scenario: install, helm test, uninstall; with a
    # target branch also an upgrade from that branch's chart (the last
    # released one) to this one.
    upgrade = ["--upgrade"] if _has_target_branch(session) else []
    session.run(
        "ct",
        "install",
        "--config",
        "ct.yaml",
        "--all",
        *upgrade,
        *session.posargs,
        external=True,
    )
    # ct runs `helm test` without showing the test pods' output: once more
    # with the defaults, keeping the release when it fails for the debug dump
    # (scripts/debug-dump.sh --cluster CLUSTER fullstack-helm-test). Helm 3's
    # --logs fails once a passed test pod is deleted (the chart's test hooks
    # have `hook-succeeded`; helm/helm#9098): there, failed pods stay and
    # the dump shows their logs.
    namespace = ["--namespace", "fullstack-helm-test"]
    session.run(
        "helm",
        "upgrade",
        "--install",
        "fullstack",
        "charts/fullstack",
        *namespace,
        "--create-namespace",
        "--wait",
        "--wait-for-jobs",
        "--timeout",
        "10m",
        external=True,
    )
    logs = ["--logs"] if helm == "helm" else []
    session.run(
        "helm",
        "test",
        "fullstack",
        *namespace,
        *logs,
        "--timeout",
        "10m",
        external=True,
    )
    session.run("helm", "uninstall", "fullstack", *namespace, "--wait", external=True)
    session.run(
        "kubectl",
        "delete",
        "namespace",
        "fullstack-helm-test",
        "--wait=false",
        external=True,
    )


def _cluster_tests(session: nox.Session, *paths: str) -> None:
    """Run cluster tests: the cluster and images first, then pytest."""
    install(session)
    tools(session, "helm", "kind", "kubectl", "registry")
    # Images and cluster first, outside pytest: built cold they take far longer
    # than pytest-timeout allows a fixture (the fixture then finds them ready).
    session.run("python", "-m", "harness.cluster", "up")
    session.run("pytest", *paths, "--with-e2e", *session.posargs)


@nox.session(python=PYTHON, default=False)
def e2e(session: nox.Session) -> None:
    """Install the chart into a kind cluster (created or reused) and test it there."""
    _cluster_tests(session, "tests/e2e")


@nox.session(python=PYTHON, default=False)
def package(session: nox.Session) -> None:
    """Package the chart, round-trip it through a local OCI registry, install it."""
    _cluster_tests(session, "tests/e2e/test_package.py")


@nox.session(python=PYTHON, default=False)
def up(session: nox.Session) -> None:
    """Bring up a local kind cluster with the chart installed; say how to reach it."""
    install(session)
    tools(session, "helm", "kind", "kubectl")
    session.run("python", "-m", "harness.up", *session.posargs)


@nox.session(python=PYTHON, default=False)
def down(session: nox.Session) -> None:
    """Delete the local kind cluster."""
    install(session)
    tools(session, "kind")
    session.run("python", "-m", "harness.cluster", "down")
