"""Sessions of the fullstack chart: lint, render tests, cluster tests, local cluster.

nox -s lint unit e2e    # the whole test suite (what `make test` runs)
nox -s up               # a local kind cluster with the chart installed
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.needs_version = ">=2025.5.1"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["lint", "unit"]

PYTHON = "3.11"
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
    session.env["PATH"] = f"{path.strip()}{os.pathsep}{os.environ['PATH']}"


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    """Lint Python, YAML, shell, the chart (helm 4 and 3, ct) and its generated docs."""
    install(session, "lint")
    tools(session, "helm", "helm3", "ct", "helm-docs")
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
    session.run("helm-docs", "--chart-search-root", "charts", external=True)
    session.run("git", "diff", "--exit-code", "--", "charts/*/README.md", external=True)


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
    """Render, snapshot, schema and policy tests of the chart (no cluster)."""
    install(session)
    tools(session, "helm", "helm3")
    session.run("pytest", "tests/unit", *session.posargs)


@nox.session(python=PYTHON, default=False)
def e2e(session: nox.Session) -> None:
    """Install the chart into a kind cluster (created or reused) and smoke-test it."""
    install(session)
    tools(session, "helm", "kind", "kubectl")
    session.run("pytest", "tests/e2e", "--with-e2e", *session.posargs)


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
