#!/usr/bin/env python3
"""Check the GitHub workflows and actions against the project's CI policy.

    scripts/check_workflows.py [PATH...]    # default: .github/workflows .github/actions

actionlint checks syntax and expressions and zizmor checks security (it also
reports unpinned actions); this covers the house rules neither of them knows:

  permissions     `permissions: {}` at the top of every workflow
  timeout         `timeout-minutes` on every job
  checkout        `persist-credentials: false` on every actions/checkout step
  fail-fast       `fail-fast: false` on every matrix
  pin             remote actions pinned by a full commit SHA with `# vX.Y.Z` after it
  concurrency     pull-request workflows cancel superseded runs
  gate            pull-request workflows with several jobs end in one gate job
                  that needs every other job, runs `if: always()` and has an
                  `exit 1` step whose condition holds exactly when a needed job
                  failed or was cancelled (checked on every combination of
                  results, with a small evaluator of GitHub expressions)

Findings are printed as `FILE: WHERE: [RULE] message`; the exit status is 1
when there is any. Needs PyYAML only.
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DEFAULT_PATHS = (".github/workflows", ".github/actions")
RESULTS = ("success", "failure", "cancelled", "skipped")
BAD_RESULTS = frozenset({"failure", "cancelled"})

# `uses: owner/repo[/path]@<40 hex> # v1.2.3`, the only accepted form of a
# remote action; local (./) actions and docker:// images by digest pass too.
USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>\S+)(?P<rest>.*)$")
PINNED_REF = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
VERSION_COMMENT = re.compile(r"^\s+#\s*v\d+(?:\.\d+){0,2}\s*$")
FAILING_RUN = re.compile(r"^\s*(?:exit\s+[1-9]\d*|false)\s*$")


@dataclass(frozen=True)
class Finding:
    path: str
    where: str
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: [{self.rule}] {self.message}"


# --- a small evaluator of GitHub expressions --------------------------------


class ExpressionError(ValueError):
    """The expression uses something this evaluator does not know."""


TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<op>\|\||&&|==|!=|<=|>=|[!<>(),\[\].*])|(?P<name>[A-Za-z_][\w-]*))"
)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise ExpressionError(f"cannot read {text[pos:]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def strip_braces(text: str) -> str:
    """Return the expression inside `${{ }}` (an `if:` may be written either way)."""
    text = str(text).strip()
    if text.startswith("${{") and text.endswith("}}"):
        return text[3:-2].strip()
    return text


def truthy(value: Any) -> bool:
    return value not in (None, False, 0, "") and value == value  # NaN is falsy


def to_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def equal(left: Any, right: Any) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.casefold() == right.casefold()
    return left == right


class Evaluator:
    """Evaluate an `if:` expression against a context (needs, status functions).

    Knows literals, property access (`a.b`, `a['b']`, `a.*.b`), `!`, `&&`, `||`,
    `==`, `!=`, parentheses and the functions contains, startsWith, endsWith,
    always, success, failure and cancelled, with GitHub's semantics for them
    (case-insensitive string comparison, missing properties are null).
    """

    def __init__(self, context: dict[str, Any], status: dict[str, bool]):
        self.context = context
        self.status = status

    def evaluate(self, text: str) -> Any:
        self.tokens = tokenize(strip_braces(text))
        self.pos = 0
        value = self.or_expr()
        if self.pos != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.pos][1]!r}")
        return value

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise ExpressionError("unexpected end of expression")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise ExpressionError(f"expected {expected!r}, found {token[1]!r}")
        self.pos += 1
        return token

    def or_expr(self) -> Any:
        value = self.and_expr()
        while self.peek() == "||":
            self.take()
            right = self.and_expr()
            value = value if truthy(value) else right
        return value

    def and_expr(self) -> Any:
        value = self.compare()
        while self.peek() == "&&":
            self.take()
            right = self.compare()
            value = right if truthy(value) else value
        return value

    def compare(self) -> Any:
        value = self.unary()
        while self.peek() in ("==", "!="):
            op = self.take()[1]
            right = self.unary()
            value = equal(value, right) if op == "==" else not equal(value, right)
        return value

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            return not truthy(self.unary())
        return self.postfix()

    def postfix(self) -> Any:
        value, filtered = self.primary(), False
        while self.peek() in (".", "["):
            if self.take()[1] == ".":
                if self.peek() == "*":
                    self.take()
                    value, filtered = self.star(value), True
                    continue
                key = self.take()
                if key[0] != "name":
                    raise ExpressionError(f"bad property {key[1]!r}")
                name = key[1]
            else:
                name = to_text(self.or_expr())
                self.take("]")
            if filtered:
                value = [self.prop(item, name) for item in value]
            else:
                value = self.prop(value, name)
        return value

    @staticmethod
    def star(value: Any) -> list[Any]:
        if isinstance(value, dict):
            return list(value.values())
        if isinstance(value, list):
            return list(value)
        return []

    @staticmethod
    def prop(value: Any, name: str) -> Any:
        if isinstance(value, dict):
            for key, item in value.items():
                if key.casefold() == name.casefold():
                    return item
        return None

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if text == "(":
            value = self.or_expr()
            self.take(")")
            return value
        if kind != "name":
            raise ExpressionError(f"unexpected {text!r}")
        if text in ("true", "false"):
            return text == "true"
        if text == "null":
            return None
        if self.peek() == "(":
            return self.call(text)
        if text not in self.context:
            raise ExpressionError(f"unknown context {text!r}")
        return self.context[text]

    def call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.peek() != ")":
            args.append(self.or_expr())
            if self.peek() == ",":
                self.take()
        self.take(")")
        lowered = name.casefold()
        if lowered in ("always", "success", "failure", "cancelled"):
            if args:
                raise ExpressionError(f"{name}() takes no arguments")
            return True if lowered == "always" else self.status[lowered]
        if lowered == "contains" and len(args) == 2:
            haystack, needle = args
            if isinstance(haystack, list):
                return any(equal(item, needle) for item in haystack)
            return to_text(needle).casefold() in to_text(haystack).casefold()
        if lowered in ("startswith", "endswith") and len(args) == 2:
            text, part = to_text(args[0]).casefold(), to_text(args[1]).casefold()
            return (
                text.startswith(part)
                if lowered == "startswith"
                else text.endswith(part)
            )
        raise ExpressionError(f"unknown function {name}() with {len(args)} arguments")


def step_condition_holds(condition: str, needs: dict[str, str]) -> bool:
    """Tell whether a step `if:` holds in a gate job, given its needs' results.

    The earlier steps of the gate succeeded and the run was not cancelled, so
    success() is true and failure()/cancelled() are false; a condition without
    a status function gets GitHub's implicit `success() &&`, which is then true.
    """
    context = {"needs": {job: {"result": result} for job, result in needs.items()}}
    status = {"success": True, "failure": False, "cancelled": False}
    return truthy(Evaluator(context, status).evaluate(condition))


# --- the rules --------------------------------------------------------------


def triggers(workflow: dict[Any, Any]) -> set[str]:
    # PyYAML reads the key `on` as the boolean True (YAML 1.1).
    on = workflow.get("on", workflow.get(True))
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return set(on)
    if isinstance(on, dict):
        return set(on)
    return set()


def check_pins(path: str, text: str) -> Iterator[Finding]:
    for number, line in enumerate(text.splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match:
            continue
        ref = match.group("ref").strip("'\"")
        if ref.startswith("./") or re.fullmatch(
            r"docker://\S+@sha256:[0-9a-f]{64}", ref
        ):
            continue
        if not PINNED_REF.match(ref):
            yield Finding(
                path,
                f"line {number}",
                "pin",
                f"`{ref}` is not pinned to a full commit SHA",
            )
        elif not VERSION_COMMENT.match(match.group("rest")):
            yield Finding(
                path,
                f"line {number}",
                "pin",
                f"`{ref}` has no `# vX.Y.Z` comment naming the pinned version",
            )


def check_steps(path: str, where: str, steps: Any) -> Iterator[Finding]:
    for index, step in enumerate(steps or []):
        uses = str(step.get("uses", "")) if isinstance(step, dict) else ""
        options = (step.get("with") or {}) if isinstance(step, dict) else {}
        if (
            uses.split("@")[0] == "actions/checkout"
            and options.get("persist-credentials") is not False
        ):
            yield Finding(
                path,
                f"{where}.steps[{index}]",
                "checkout",
                "actions/checkout without `persist-credentials: false`",
            )


def check_gate(path: str, jobs: dict[str, Any]) -> Iterator[Finding]:
    others = set(jobs)
    gates = []
    for job_id, job in jobs.items():
        needs = job.get("needs") or []
        needs = {needs} if isinstance(needs, str) else set(needs)
        if needs >= others - {job_id}:
            gates.append(job_id)
    if len(gates) != 1:
        yield Finding(
            path,
            "jobs",
            "gate",
            "no single gate job that needs every other job "
            f"(candidates: {', '.join(sorted(gates)) or 'none'})",
        )
        return
    gate = gates[0]
    job = jobs[gate]
    where = f"jobs.{gate}"
    if strip_braces(str(job.get("if", ""))) != "always()":
        yield Finding(
            path,
            where,
            "gate",
            "gate job must run with `if: always()`; otherwise it is skipped when "
            "a needed job fails, and a skipped check counts as passed",
        )
    failing = [
        step
        for step in job.get("steps") or []
        if isinstance(step, dict)
        and "if" in step
        and FAILING_RUN.match(str(step.get("run", "")))
    ]
    if not failing:
        yield Finding(
            path,
            where,
            "gate",
            "gate job has no step that fails (`if: <condition>` with `run: exit 1`)",
        )
        return
    needs = sorted(others - {gate})
    for step in failing:
        condition = str(step["if"])
        try:
            counterexample = gate_counterexample(condition, needs)
        except ExpressionError as exc:
            yield Finding(path, where, "gate", f"cannot evaluate `{condition}`: {exc}")
            continue
        if counterexample:
            results, fails = counterexample
            shown = ", ".join(f"{job}={result}" for job, result in results.items())
            outcome = "fails" if fails else "passes"
            yield Finding(
                path,
                where,
                "gate",
                f"gate {outcome} when {shown}: condition `{condition}` must hold "
                "exactly when a needed job failed or was cancelled",
            )


def gate_cases(needs: list[str]) -> Iterator[dict[str, str]]:
    """Every combination of results, the telling ones first (for the message)."""
    yield dict.fromkeys(needs, "success")
    for job, result in itertools.product(needs, ("failure", "cancelled", "skipped")):
        yield {**dict.fromkeys(needs, "success"), job: result}
    for combination in itertools.product(RESULTS, repeat=len(needs)):
        yield dict(zip(needs, combination, strict=True))


def gate_counterexample(
    condition: str, needs: list[str]
) -> tuple[dict[str, str], bool] | None:
    """Return results for which the gate step misbehaves, and what it does then."""
    for results in gate_cases(needs):
        should_fail = bool(BAD_RESULTS & set(results.values()))
        fails = step_condition_holds(condition, results)
        if fails != should_fail:
            return results, fails
    return None


def check_workflow(path: str, text: str) -> Iterator[Finding]:
    yield from check_pins(path, text)
    workflow = yaml.safe_load(text)
    if not isinstance(workflow, dict):
        yield Finding(path, "file", "syntax", "not a YAML mapping")
        return
    if "runs" in workflow:  # an action definition (action.yml)
        yield from check_steps(path, "runs", (workflow.get("runs") or {}).get("steps"))
        return
    if workflow.get("permissions") != {}:
        yield Finding(
            path,
            "permissions",
            "permissions",
            "workflow must start with `permissions: {}`",
        )
    jobs = workflow.get("jobs") or {}
    for job_id, job in jobs.items():
        where = f"jobs.{job_id}"
        if "uses" not in job and "timeout-minutes" not in job:
            yield Finding(path, where, "timeout", "job has no `timeout-minutes`")
        strategy = job.get("strategy") or {}
        if "matrix" in strategy and strategy.get("fail-fast") is not False:
            yield Finding(path, where, "fail-fast", "matrix without `fail-fast: false`")
        yield from check_steps(path, where, job.get("steps"))
    if "pull_request" in triggers(workflow):
        concurrency = workflow.get("concurrency")
        cancel = (
            concurrency.get("cancel-in-progress")
            if isinstance(concurrency, dict)
            else None
        )
        if not (cancel is True or isinstance(cancel, str)):
            yield Finding(
                path,
                "concurrency",
                "concurrency",
                "pull-request workflow must cancel superseded runs "
                "(`concurrency` with `cancel-in-progress`)",
            )
        if len(jobs) > 1:
            yield from check_gate(path, jobs)


def collect(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
        elif path.exists():
            files.append(path)
    return files


def main(argv: list[str]) -> int:
    files = collect(argv or list(DEFAULT_PATHS))
    if not files:
        print(f"check_workflows: nothing to check in {' '.join(argv or DEFAULT_PATHS)}")
        return 1
    findings = [
        finding
        for file in files
        for finding in check_workflow(str(file), file.read_text(encoding="utf-8"))
    ]
    for finding in findings:
        print(finding)
    print(
        f"check_workflows: {len(files)} files, {len(findings)} findings",
        file=sys.stderr,
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
