"""The CI policy: the linters catch what they must, and the real workflows pass.

Each fixture workflow is written to a temporary repository and run through the
same linters `nox -s lint` runs (actionlint, zizmor --offline and
scripts/check_workflows.py); the tests assert the exact findings.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import re
import sys
from pathlib import Path
from textwrap import dedent, indent
from types import ModuleType

import pytest
import yaml
from linters import ROOT, WORKFLOWS, Run

FIXTURE = ".github/workflows/fixture.yaml"
SHA = "3d3c42e5aac5ba805825da76410c181273ba90b1"  # actions/checkout v7.0.1


def load_policy() -> ModuleType:
    """Import scripts/check_workflows.py (a script, not a package module)."""
    spec = importlib.util.spec_from_file_location(
        "check_workflows", ROOT / "scripts" / "check_workflows.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


check_workflows = load_policy()


def write(repo: Path, text: str) -> str:
    (repo / FIXTURE).write_text(text)
    return FIXTURE


def policy_findings(policy: Run, repo: Path, path: str) -> list[str]:
    result = policy(path, cwd=repo)
    assert result.returncode == (1 if result.stdout else 0), result.stderr
    return result.stdout.splitlines()


def zizmor_findings(zizmor: Run, repo: Path, path: str) -> list[tuple[str, int]]:
    """Return (audit, 1-based line) of each zizmor finding."""
    result = zizmor(path, cwd=repo)
    findings = []
    for finding in json.loads(result.stdout):
        primary = next(
            loc for loc in finding["locations"] if loc["symbolic"]["kind"] == "Primary"
        )
        row = primary["concrete"]["location"]["start_point"]["row"]
        findings.append((finding["ident"], row + 1))
    assert (result.returncode != 0) == bool(findings), result.stderr
    return findings


def actionlint_findings(actionlint: Run, repo: Path, path: str) -> list[str]:
    result = actionlint(path, cwd=repo)
    errors = json.loads(result.stdout or "[]")
    assert (result.returncode != 0) == bool(errors), result.stderr
    return [f"{e['line']}:{e['column']}: {e['message']} [{e['kind']}]" for e in errors]


# A push workflow that meets every rule; the fixtures below break one at a time.
CLEAN_PUSH = dedent(f"""
    name: fixture
    on:
      push:
    permissions: {{}}
    jobs:
      build:
        runs-on: ubuntu-24.04
        timeout-minutes: 5
        steps:
          - uses: actions/checkout@{SHA} # v7.0.1
            with:
              persist-credentials: false
          - run: echo build
    """).lstrip()


def pull_request_workflow(gate: str) -> str:
    """A pull-request workflow with jobs a and b and the gate job given."""
    return (
        dedent("""
        name: fixture
        on:
          pull_request:
        permissions: {}
        concurrency:
          group: ${{ github.workflow }}-${{ github.ref }}
          cancel-in-progress: true
        jobs:
          a:
            runs-on: ubuntu-24.04
            timeout-minutes: 5
            steps:
              - run: echo a
          b:
            runs-on: ubuntu-24.04
            timeout-minutes: 5
            steps:
              - run: echo b
        """).lstrip()
        + indent(dedent(gate).strip("\n"), "  ")
        + "\n"
    )


GOOD_CONDITION = (
    "contains(needs.*.result, 'failure') || contains(needs.*.result, 'cancelled')"
)
GOOD_GATE = f"""
      gate:
        needs: [a, b]
        if: always()
        runs-on: ubuntu-24.04
        timeout-minutes: 5
        steps:
          - if: {GOOD_CONDITION}
            run: exit 1
    """


def test_clean_fixture_passes_every_linter(
    repo: Path, policy: Run, zizmor: Run, actionlint: Run
) -> None:
    # The baseline the other fixtures change in one place.
    path = write(repo, CLEAN_PUSH)

    assert policy_findings(policy, repo, path) == []
    assert zizmor_findings(zizmor, repo, path) == []
    assert actionlint_findings(actionlint, repo, path) == []


def test_unpinned_action_fails_zizmor_and_the_policy(
    repo: Path, policy: Run, zizmor: Run
) -> None:
    path = write(repo, CLEAN_PUSH.replace(f"@{SHA} # v7.0.1", "@v4"))

    assert zizmor_findings(zizmor, repo, path) == [("unpinned-uses", 10)]
    assert policy_findings(policy, repo, path) == [
        f"{path}: line 10: [pin] `actions/checkout@v4` is not pinned to a full "
        "commit SHA"
    ]


def test_pin_without_version_comment_fails_the_policy(
    repo: Path, policy: Run, zizmor: Run
) -> None:
    # zizmor accepts a bare SHA; the house rule wants the version beside it.
    path = write(repo, CLEAN_PUSH.replace(" # v7.0.1", ""))

    assert zizmor_findings(zizmor, repo, path) == []
    assert policy_findings(policy, repo, path) == [
        f"{path}: line 10: [pin] `actions/checkout@{SHA}` has no `# vX.Y.Z` "
        "comment naming the pinned version"
    ]


def test_job_without_timeout_fails_the_policy_only(
    repo: Path, policy: Run, zizmor: Run, actionlint: Run
) -> None:
    # Neither actionlint nor zizmor checks timeouts: scripts/check_workflows.py does.
    path = write(repo, CLEAN_PUSH.replace("    timeout-minutes: 5\n", "", 1))

    assert actionlint_findings(actionlint, repo, path) == []
    assert zizmor_findings(zizmor, repo, path) == []
    assert policy_findings(policy, repo, path) == [
        f"{path}: jobs.build: [timeout] job has no `timeout-minutes`"
    ]


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        (
            ("permissions: {}\n", "permissions:\n  contents: read\n"),
            "permissions: [permissions] workflow must start with `permissions: {}`",
        ),
        (
            ("persist-credentials: false", "fetch-depth: 0"),
            "jobs.build.steps[0]: [checkout] actions/checkout without "
            "`persist-credentials: false`",
        ),
        (
            (
                "    steps:\n",
                "    strategy:\n      matrix:\n        n: [1, 2]\n    steps:\n",
            ),
            "jobs.build: [fail-fast] matrix without `fail-fast: false`",
        ),
    ],
    ids=["permissions", "checkout", "fail-fast"],
)
def test_other_house_rules(
    repo: Path, policy: Run, change: tuple[str, str], finding: str
) -> None:
    old, new = change
    assert old in CLEAN_PUSH
    path = write(repo, CLEAN_PUSH.replace(old, new))

    assert policy_findings(policy, repo, path) == [f"{path}: {finding}"]


def test_pull_request_workflow_with_a_sound_gate_passes(
    repo: Path, policy: Run, zizmor: Run, actionlint: Run
) -> None:
    path = write(repo, pull_request_workflow(GOOD_GATE))

    assert policy_findings(policy, repo, path) == []
    assert zizmor_findings(zizmor, repo, path) == []
    assert actionlint_findings(actionlint, repo, path) == []


def test_pull_request_workflow_must_cancel_superseded_runs(
    repo: Path, policy: Run
) -> None:
    text = pull_request_workflow(GOOD_GATE).replace("  cancel-in-progress: true\n", "")
    path = write(repo, text)

    assert policy_findings(policy, repo, path) == [
        f"{path}: concurrency: [concurrency] pull-request workflow must cancel "
        "superseded runs (`concurrency` with `cancel-in-progress`)"
    ]


@pytest.mark.parametrize(
    ("old", "new", "finding"),
    [
        # A property that does not exist is null: the gate can never fail, and
        # actionlint does not notice.
        (
            "contains(needs.*.result, 'failure') || "
            "contains(needs.*.result, 'cancelled')",
            "contains(needs.*.results, 'failure')",
            "gate passes when a=failure, b=success: condition "
            "`contains(needs.*.results, 'failure')` must hold exactly when a "
            "needed job failed or was cancelled",
        ),
        # `failed` is not a job result.
        (
            "'failure')",
            "'failed')",
            "gate passes when a=failure, b=success: condition "
            "`contains(needs.*.result, 'failed') || "
            "contains(needs.*.result, 'cancelled')` must hold exactly when a "
            "needed job failed or was cancelled",
        ),
        # A cancelled job must fail the gate too.
        (
            " || contains(needs.*.result, 'cancelled')",
            "",
            "gate passes when a=cancelled, b=success: condition "
            "`contains(needs.*.result, 'failure')` must hold exactly when a "
            "needed job failed or was cancelled",
        ),
        # Inverted: fails on success.
        (
            "if: contains(needs.*.result, 'failure') || "
            "contains(needs.*.result, 'cancelled')",
            "if: \"!(contains(needs.*.result, 'failure') || "
            "contains(needs.*.result, 'cancelled'))\"",
            "gate fails when a=success, b=success: condition "
            "`!(contains(needs.*.result, 'failure') || "
            "contains(needs.*.result, 'cancelled'))` must hold exactly when a "
            "needed job failed or was cancelled",
        ),
        # Without always() the gate is skipped when a needed job fails.
        (
            "if: always()",
            "if: success()",
            "gate job must run with `if: always()`; otherwise it is skipped when "
            "a needed job fails, and a skipped check counts as passed",
        ),
        (
            "run: exit 1",
            "run: echo finished",
            "gate job has no step that fails (`if: <condition>` with `run: exit 1`)",
        ),
    ],
    ids=[
        "missing-property",
        "wrong-result-name",
        "ignores-cancelled",
        "inverted",
        "not-always",
        "no-failing-step",
    ],
)
def test_gate_that_cannot_fail_properly_is_reported(
    repo: Path, policy: Run, actionlint: Run, old: str, new: str, finding: str
) -> None:
    gate = dedent(GOOD_GATE)
    assert old in gate
    gate = gate.replace(old, new)
    path = write(repo, pull_request_workflow(gate))

    assert actionlint_findings(actionlint, repo, path) == []
    assert policy_findings(policy, repo, path) == [
        f"{path}: jobs.gate: [gate] {finding}"
    ]


def test_gate_must_need_every_other_job(repo: Path, policy: Run) -> None:
    path = write(repo, pull_request_workflow(GOOD_GATE.replace("[a, b]", "[a]")))

    assert policy_findings(policy, repo, path) == [
        f"{path}: jobs: [gate] no single gate job that needs every other job "
        "(candidates: none)"
    ]


def test_actionlint_reports_a_need_on_a_missing_job(
    repo: Path, actionlint: Run
) -> None:
    path = write(repo, pull_request_workflow(GOOD_GATE.replace("[a, b]", "[a, c]")))

    assert actionlint_findings(actionlint, repo, path) == [
        '19:3: job "gate" needs job "c" which does not exist in this workflow '
        "[job-needs]"
    ]


@pytest.mark.parametrize(
    ("expression", "needs", "expected"),
    [
        ("contains(needs.*.result, 'FAILURE')", {"a": "failure"}, True),
        ("contains(needs.*.result, 'failure')", {"a": "success"}, False),
        ("contains(needs.*.results, 'failure')", {"a": "failure"}, False),
        ("needs.a.result == 'Success'", {"a": "success"}, True),
        ("needs.a.result != 'success' && always()", {"a": "skipped"}, True),
        (
            "${{ !cancelled() && needs['a'].result == 'failure' }}",
            {"a": "failure"},
            True,
        ),
        ("failure() || (needs.b.result == null)", {"a": "failure"}, True),
        ("startsWith(needs.a.result, 'canc')", {"a": "cancelled"}, True),
    ],
)
def test_expression_evaluator(
    expression: str, needs: dict[str, str], expected: bool
) -> None:
    assert check_workflows.step_condition_holds(expression, needs) is expected


def test_expression_evaluator_refuses_what_it_does_not_know() -> None:
    with pytest.raises(
        check_workflows.ExpressionError, match=r"unknown function fromJSON\(\)"
    ):
        check_workflows.step_condition_holds("fromJSON('true')", {"a": "success"})


def real_gate() -> tuple[str, list[str]]:
    """Return the condition of the failing step of ci.yaml's gate, and its needs."""
    workflow = yaml.safe_load((WORKFLOWS / "ci.yaml").read_text())
    jobs = workflow["jobs"]
    (gate_id,) = [
        job_id
        for job_id, job in jobs.items()
        if set(job.get("needs") or []) == set(jobs) - {job_id}
    ]
    gate = jobs[gate_id]
    assert gate["if"] == "always()"
    (step,) = [s for s in gate["steps"] if s.get("run") == "exit 1"]
    return step["if"], sorted(gate["needs"])


def test_real_gate_fails_exactly_when_a_needed_job_failed_or_was_cancelled() -> None:
    # Every combination of results of every needed job (4^4 cases).
    condition, needs = real_gate()
    assert needs == ["e2e", "install", "lint", "unit"]
    for combination in itertools.product(check_workflows.RESULTS, repeat=len(needs)):
        results = dict(zip(needs, combination, strict=True))
        should_fail = "failure" in combination or "cancelled" in combination

        assert (
            check_workflows.step_condition_holds(condition, results) is should_fail
        ), results


def test_real_workflows_pass_the_policy(policy: Run) -> None:
    result = policy(cwd=ROOT)

    assert result.stdout == ""
    assert result.returncode == 0
    assert result.stderr.endswith(" files, 0 findings\n")


def test_real_workflows_pass_actionlint(actionlint: Run) -> None:
    files = sorted(str(p.relative_to(ROOT)) for p in WORKFLOWS.glob("*.y*ml"))
    assert {".github/workflows/ci.yaml", ".github/workflows/release.yaml"} <= set(files)

    result = actionlint(*files, cwd=ROOT)

    assert json.loads(result.stdout) == []
    assert result.returncode == 0


def test_real_workflows_pass_zizmor(zizmor: Run) -> None:
    result = zizmor(".github", cwd=ROOT)

    assert json.loads(result.stdout) == []
    assert result.returncode == 0


def test_install_matrix_has_a_node_image_pinned_by_digest_per_minor() -> None:
    # ci.yaml's install job reads KIND_NODE_IMAGE_<minor> from versions.env.
    matrix = yaml.safe_load((WORKFLOWS / "ci.yaml").read_text())["jobs"]["install"][
        "strategy"
    ]["matrix"]
    pins = dict(
        line.split("=", 1)
        for line in (ROOT / "versions.env").read_text().splitlines()
        if line.startswith("KIND_NODE_IMAGE_")
    )

    assert matrix["helm"] == ["helm", "helm3"]
    assert matrix["kubernetes"] == ["1.35", "1.36", "1.37"]
    for minor in matrix["kubernetes"]:
        image = pins[f"KIND_NODE_IMAGE_{minor.replace('.', '_')}"]
        assert re.fullmatch(
            rf"kindest/node:v{re.escape(minor)}\.\d+@sha256:[0-9a-f]{{64}}", image
        ), image


@pytest.mark.parametrize(("job", "command"), [("e2e", "make e2e"), ("install", "ct")])
def test_jobs_that_install_an_earlier_chart_check_out_the_history(
    job: str, command: str
) -> None:
    # tests/e2e/test_chart_upgrade.py and ct's upgrade test install the chart
    # of an earlier commit: a depth-1 checkout fails them on GitHub only.
    steps = yaml.safe_load((WORKFLOWS / "ci.yaml").read_text())["jobs"][job]["steps"]
    assert any(command in step.get("run", "") for step in steps), steps
    checkouts = [s for s in steps if s.get("uses", "").startswith("actions/checkout@")]
    assert [s["with"].get("fetch-depth") for s in checkouts] == [0]
