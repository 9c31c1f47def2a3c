"""renovate.json finds every pin: its regex managers, run on the real files.

Renovate's regexes are JavaScript (RE2) ones; the only syntax they use that
Python spells differently is the named group, `(?<name>...)`.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from linters import ROOT

from scripts.check_artifacthub import value_images

CONFIG = json.loads((ROOT / "renovate.json").read_text())


def manager_for(path: str) -> dict[str, Any]:
    """Return the custom manager whose file patterns match a repository path."""
    found = []
    for manager in CONFIG["customManagers"]:
        for pattern in manager["managerFilePatterns"]:
            assert pattern.startswith("/"), pattern
            assert pattern.endswith("/"), pattern
            if re.search(pattern[1:-1], path):
                found.append(manager)
    assert len(found) == 1, f"{len(found)} custom managers for {path}"
    return found[0]


def extract(path: str) -> list[dict[str, str]]:
    """Run a file's custom manager as Renovate would: every match, its groups."""
    manager = manager_for(path)
    text = (ROOT / path).read_text()
    deps = []
    for pattern in manager["matchStrings"]:
        regex = re.compile(pattern.replace("(?<", "(?P<"))
        for match in regex.finditer(text):
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            if "depNameTemplate" in manager:
                groups["depName"] = re.sub(
                    r"\{\{\{(\w+)\}\}\}",
                    lambda m, g=groups: g[m.group(1)],
                    manager["depNameTemplate"],
                )
            groups.setdefault("datasource", manager.get("datasourceTemplate", ""))
            deps.append(groups)
    return deps


def test_every_versions_env_pin_is_found() -> None:
    # Each KEY=value line has a `# renovate:` comment right above it.
    keys = [
        line.split("=", 1)[0]
        for line in (ROOT / "versions.env").read_text().splitlines()
        if re.match(r"[A-Z][A-Z0-9_]*=", line)
    ]
    found = extract("versions.env")

    assert len(found) == len(keys), (keys, found)
    assert all(dep["datasource"] and dep["depName"] for dep in found)


def test_versions_env_values_and_digests() -> None:
    found = {
        (dep["depName"], dep["currentValue"]): dep for dep in extract("versions.env")
    }

    assert found[("helm.sh/helm/v4", "v4.3.2")]["datasource"] == "go"
    assert found[("debian", "trixie-slim")]["datasource"] == "docker"
    node = found[("kindest/node", "v1.36.4")]
    assert node["currentDigest"] == (
        "sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed"
    )


def test_every_versions_env_pin_has_a_renovate_comment() -> None:
    # The check above counts matches; this one names the line that lacks one.
    lines = (ROOT / "versions.env").read_text().splitlines()
    for number, line in enumerate(lines):
        if re.match(r"[A-Z][A-Z0-9_]*=", line):
            assert number > 0, line
            assert lines[number - 1].startswith("# renovate: "), line


def test_values_images_are_found() -> None:
    # What Renovate's regex sees is what the parsed values pin: if the chart
    # changes the shape of an image block, this fails instead of Renovate
    # silently losing the image.
    path = "charts/fullstack/values.yaml"
    parsed = value_images(yaml.safe_load((ROOT / path).read_text()))
    found = {f"{dep['depName']}:{dep['currentValue']}" for dep in extract(path)}

    assert found == parsed
    assert "docker.io/library/postgres:18.6" in found


def test_artifacthub_images_are_found() -> None:
    path = "charts/fullstack/Chart.yaml"
    annotation = yaml.safe_load((ROOT / path).read_text())["annotations"][
        "artifacthub.io/images"
    ]
    listed = {entry["image"] for entry in yaml.safe_load(annotation)}
    found = {f"{dep['depName']}:{dep['currentValue']}" for dep in extract(path)}

    assert found == listed


def test_makefile_bootstraps_the_pyproject_pins() -> None:
    # The Makefile has no pins of its own: it reads pyproject.toml's bootstrap
    # group, which Renovate's pep621 manager updates.
    expanded = subprocess.run(
        ["make", "-pn", "--no-builtin-rules", "-f", "Makefile"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    ).stdout
    bootstrap = re.search(r"^BOOTSTRAP := (.*)$", expanded, re.M)
    group = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]

    assert bootstrap, "make did not expand BOOTSTRAP"
    assert bootstrap.group(1).split() == group["bootstrap"]


@pytest.mark.parametrize("path", ["versions.env", "charts/fullstack/values.yaml"])
def test_regexes_avoid_what_re2_lacks(path: str) -> None:
    # Renovate runs matchStrings on RE2: no lookaround, no backreferences.
    for pattern in manager_for(path)["matchStrings"]:
        assert not re.search(r"\(\?[=!]|\(\?<[=!]|\\[1-9]", pattern), pattern


def test_actions_are_pinned_by_digest() -> None:
    assert "helpers:pinGitHubActionDigests" in CONFIG["extends"]
    assert CONFIG["github-actions"]["pinDigests"] is True


def test_kind_node_images_stay_on_their_minor() -> None:
    rules = [
        rule
        for rule in CONFIG["packageRules"]
        if rule.get("matchDepNames") == ["kindest/node"] and "allowedVersions" in rule
    ]
    minors = sorted(rule["allowedVersions"] for rule in rules)
    pinned = sorted(
        f"/^v1\\.{dep['currentValue'].split('.')[1]}\\./"
        for dep in extract("versions.env")
        if dep["depName"] == "kindest/node"
    )

    assert minors == pinned
    assert all(rule["matchCurrentValue"] == rule["allowedVersions"] for rule in rules)


def test_renovate_json_is_the_only_renovate_config() -> None:
    # Renovate reads the first config it finds; a second one would be ignored.
    others = [
        p
        for name in ("renovate.json5", ".renovaterc", ".renovaterc.json")
        for p in (ROOT / name, ROOT / ".github" / name)
        if p.exists()
    ]
    assert others == []
    assert Path(ROOT / "renovate.json").is_file()
