"""values.yaml documents every key for helm-docs, and README.md is current."""

from __future__ import annotations

import re
import subprocess

import pytest

from harness.config import CHART_DIR, find_tool

KEY = re.compile(r"^(?P<indent> *)(?P<key>[^\s#:-][^:]*):(?P<rest>.*)$")


def undocumented_keys(text: str) -> list[str]:
    """Keys without a `# --` comment that are neither groups of documented keys
    nor part of a documented key's default value."""
    problems: list[str] = []
    # Stack of (indent, path, documented, has_children).
    stack: list[list] = []
    comment: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            comment.append(stripped)
            continue
        match = KEY.match(line)
        if not match or stripped.startswith("- "):
            comment = [] if not stripped else comment
            continue
        indent = len(match["indent"])
        while stack and stack[-1][0] >= indent:
            _close(stack.pop(), problems)
        if any(entry[2] for entry in stack):
            comment = []
            continue  # inside a documented default value
        if stack:
            stack[-1][3] = True
        path = ".".join([entry[1] for entry in stack] + [match["key"]])
        documented = any(c.startswith("# --") for c in comment)
        stack.append([indent, match["key"], documented, False, path, match["rest"]])
        comment = []
    while stack:
        _close(stack.pop(), problems)
    return problems


def _close(entry: list, problems: list[str]) -> None:
    _, _, documented, has_children, path, rest = entry
    if not documented and not has_children:
        problems.append(path)
    if not documented and has_children and rest.strip():
        problems.append(path)


def test_every_value_is_documented() -> None:
    text = (CHART_DIR / "values.yaml").read_text()

    assert undocumented_keys(text) == []


def test_the_documentation_check_finds_gaps() -> None:
    # Negative control for the parser above.
    text = "a:\n  # -- fine\n  b: 1\n  c: 2\n# -- doc\nd:\n  e: 1\nf: []\n"

    assert undocumented_keys(text) == ["a.c", "f"]


def test_readme_is_generated_from_the_current_values() -> None:
    # No skip without helm-docs: the unit session must provide it.
    helm_docs = find_tool("helm-docs", "HELM_DOCS")
    if helm_docs is None:
        pytest.fail(
            "helm-docs not found: put it on PATH (scripts/tools.sh install helm-docs"
            " builds the pinned one) or set HELM_DOCS"
        )
    result = subprocess.run(
        [
            helm_docs,
            "--chart-search-root",
            str(CHART_DIR),
            "--dry-run",
            "--log-level",
            "error",
        ],
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )

    assert result.stdout.strip() == (CHART_DIR / "README.md").read_text().strip(), (
        "charts/fullstack/README.md is not what helm-docs generates from values.yaml"
        " and README.md.gotmpl: run `.venv/bin/nox -s docs`"
    )
