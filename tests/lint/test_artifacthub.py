"""The Artifact Hub metadata check: the real metadata passes, broken metadata fails.

Each negative case copies the chart's Chart.yaml and values.yaml to a
temporary folder, breaks one thing and asserts the exact problem reported.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from linters import ROOT

CHART = ROOT / "charts" / "fullstack"
SCRIPT = ROOT / "scripts" / "check_artifacthub.py"


def check(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    """A copy of the chart's metadata files (Chart.yaml, values.yaml)."""
    copy = tmp_path / "fullstack"
    copy.mkdir()
    for name in ("Chart.yaml", "values.yaml"):
        shutil.copy(CHART / name, copy / name)
    (tmp_path / "artifacthub-repo.yml").write_text("ignore: []\n")
    return copy


def set_annotation(chart: Path, key: str, value: object) -> None:
    data = yaml.safe_load((chart / "Chart.yaml").read_text())
    data["annotations"][key] = value
    (chart / "Chart.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def problems(chart: Path) -> list[str]:
    result = check("--repo-file", "artifacthub-repo.yml", "fullstack", cwd=chart.parent)
    assert result.returncode == (1 if result.stdout else 0), result.stderr
    return result.stdout.splitlines()


def test_real_metadata_passes() -> None:
    result = check()

    assert result.stdout == ""
    assert result.returncode == 0
    assert "artifacthub-repo.yml, charts/fullstack: 0 problems" in result.stderr


def test_unchanged_copy_passes(chart: Path) -> None:
    assert problems(chart) == []


def test_change_of_an_unknown_kind_fails(chart: Path) -> None:
    set_annotation(
        chart, "artifacthub.io/changes", "- kind: improved\n  description: Faster.\n"
    )

    assert problems(chart) == [
        "fullstack/Chart.yaml: annotations.artifacthub.io/changes[0]: "
        "{'kind': 'improved', 'description': 'Faster.'} is not valid under any of "
        "the given schemas"
    ]


def test_changes_that_are_not_yaml_fail(chart: Path) -> None:
    # A colon in an unquoted description breaks the YAML inside the annotation.
    set_annotation(
        chart, "artifacthub.io/changes", "- kind: added\n description: a: b\n"
    )

    assert problems(chart) == [
        "fullstack/Chart.yaml: annotations.artifacthub.io/changes: not valid YAML: "
        "expected <block end>, but found '<block mapping start>' (line 2, column 2)"
    ]


def test_misspelt_annotation_fails(chart: Path) -> None:
    set_annotation(chart, "artifacthub.io/licence", "Apache-2.0")

    assert problems(chart) == [
        "fullstack/Chart.yaml: annotations.artifacthub.io/licence: not an annotation "
        "Artifact Hub reads"
    ]


def test_boolean_annotation_must_be_text(chart: Path) -> None:
    set_annotation(chart, "artifacthub.io/prerelease", "yes")

    assert problems(chart) == [
        "fullstack/Chart.yaml: annotations.artifacthub.io/prerelease: 'yes' is not "
        "one of ['true', 'false']"
    ]


def test_images_must_match_the_values(chart: Path) -> None:
    # values.yaml moves PostgreSQL on; the annotation stays behind.
    values = (chart / "values.yaml").read_text()
    assert 'tag: "18.6"' in values
    (chart / "values.yaml").write_text(values.replace('tag: "18.6"', 'tag: "18.7"'))

    assert problems(chart) == [
        "fullstack/Chart.yaml: annotations.artifacthub.io/images: "
        "docker.io/library/postgres:18.7 (values.yaml) is missing",
        "fullstack/Chart.yaml: annotations.artifacthub.io/images: "
        "docker.io/library/postgres:18.6 is not an image of values.yaml",
    ]


def test_repository_file_is_checked(chart: Path) -> None:
    (chart.parent / "artifacthub-repo.yml").write_text(
        "repositoryID: not-a-uuid\nowners:\n  - name: someone\nverified: true\n"
    )

    assert problems(chart) == [
        "artifacthub-repo.yml: Additional properties are not allowed "
        "('verified' was unexpected)",
        "artifacthub-repo.yml.owners[0]: 'email' is a required property",
        "artifacthub-repo.yml.repositoryID: 'not-a-uuid' does not match "
        "'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'",
    ]


def test_empty_repository_file_fails(chart: Path) -> None:
    (chart.parent / "artifacthub-repo.yml").write_text("# only a comment\n")

    assert problems(chart) == [
        "artifacthub-repo.yml: empty; Artifact Hub expects a mapping"
    ]
