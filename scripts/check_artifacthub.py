#!/usr/bin/env python3
"""Validate the Artifact Hub metadata of the repository and of the chart.

    scripts/check_artifacthub.py [--repo-file artifacthub-repo.yml] [CHART_DIR...]

Artifact Hub's own linter (`ah lint`, module github.com/artifacthub/hub) is
not served by the Go module proxy, so this checks the same metadata with JSON
schemas written from Artifact Hub's documentation:

  - artifacthub-repo.yml: repositoryID (a UUID), owners (email required),
    ignore (name required), nothing else;
  - every `artifacthub.io/*` annotation of each chart's Chart.yaml: the key is
    one Artifact Hub reads, and its value (a YAML document inside a string for
    the list-valued ones) has the documented shape, e.g. each change has a kind
    out of added/changed/deprecated/removed/fixed/security and a description;
  - `artifacthub.io/images` lists exactly the images the chart's values.yaml
    pins (every registry/repository/tag block with a tag), so the list shown
    on Artifact Hub cannot drift from what the chart runs.

Prints one line per problem and exits 1 when there is any. Needs PyYAML and
jsonschema (the lint dependency group).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

NON_EMPTY = {"type": "string", "minLength": 1, "pattern": r"\S"}
URL = {"type": "string", "pattern": r"^https?://\S+$"}
BOOL_TEXT = {"type": "string", "enum": ["true", "false"]}
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


def listing(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "items": item}


def record(required: list[str], **properties: Any) -> dict[str, Any]:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


LINK = record(["name", "url"], name=NON_EMPTY, url=URL)

REPO_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "artifacthub-repo.yml",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "repositoryID": {"type": "string", "pattern": UUID},
        "owners": listing(
            record(
                ["email"],
                name=NON_EMPTY,
                email={"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[^@\s]+$"},
            )
        ),
        "ignore": {
            "type": "array",
            "items": record(["name"], name=NON_EMPTY, version=NON_EMPTY),
        },
    },
}

# Annotations whose value is itself YAML (a list or a mapping inside a string).
YAML_ANNOTATIONS: dict[str, dict[str, Any]] = {
    "artifacthub.io/changes": listing(
        {
            "anyOf": [
                NON_EMPTY,
                record(
                    ["kind", "description"],
                    kind={
                        "enum": [
                            "added",
                            "changed",
                            "deprecated",
                            "removed",
                            "fixed",
                            "security",
                        ]
                    },
                    description=NON_EMPTY,
                    links=listing(LINK),
                ),
            ]
        }
    ),
    "artifacthub.io/crds": listing({"type": "object"}),
    "artifacthub.io/crdsExamples": listing({"type": "object"}),
    "artifacthub.io/images": listing(
        record(
            ["image"],
            name=NON_EMPTY,
            image={
                "type": "string",
                "pattern": r"^[^\s:@]+(:[\w][\w.-]*)?(@sha256:[0-9a-f]{64})?$",
            },
            whitelisted={"type": "boolean"},
            platforms=listing(NON_EMPTY),
        )
    ),
    "artifacthub.io/links": listing(LINK),
    "artifacthub.io/maintainers": listing(
        record(["name", "email"], name=NON_EMPTY, email=NON_EMPTY)
    ),
    "artifacthub.io/recommendations": listing(record(["url"], url=URL)),
    "artifacthub.io/screenshots": listing(
        record(["title", "url"], title=NON_EMPTY, url=URL)
    ),
    "artifacthub.io/signKey": record(["url"], fingerprint=NON_EMPTY, url=URL),
}

# Annotations whose value is a plain string.
TEXT_ANNOTATIONS: dict[str, dict[str, Any]] = {
    "artifacthub.io/alternativeName": NON_EMPTY,
    "artifacthub.io/category": NON_EMPTY,
    "artifacthub.io/containsSecurityUpdates": BOOL_TEXT,
    "artifacthub.io/license": {
        "type": "string",
        "pattern": r"^[A-Za-z0-9.+-]+( (AND|OR|WITH) [A-Za-z0-9.+-]+)*$",
    },
    "artifacthub.io/operator": BOOL_TEXT,
    "artifacthub.io/operatorCapabilities": {
        "enum": [
            "Basic Install",
            "Seamless Upgrades",
            "Full Lifecycle",
            "Deep Insights",
            "Auto Pilot",
        ]
    },
    "artifacthub.io/prerelease": BOOL_TEXT,
}


def one_line(error: yaml.YAMLError) -> str:
    """Return a YAML parse error as one line: what went wrong, and where."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return (
        f"{problem} (line {mark.line + 1}, column {mark.column + 1})"
        if mark
        else problem
    )


def schema_errors(schema: dict[str, Any], document: Any, where: str) -> Iterator[str]:
    validator = Draft202012Validator(schema)
    for error in sorted(
        validator.iter_errors(document), key=lambda e: list(e.absolute_path)
    ):
        path = "".join(
            f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path
        )
        yield f"{where}{path}: {error.message}"


def check_repo_file(path: Path) -> Iterator[str]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        yield f"{path}: cannot read: {exc}"
        return
    except yaml.YAMLError as exc:
        yield f"{path}: not valid YAML: {one_line(exc)}"
        return
    if document is None:
        yield f"{path}: empty; Artifact Hub expects a mapping"
        return
    yield from schema_errors(REPO_SCHEMA, document, str(path))


def value_images(values: Any) -> set[str]:
    """Return registry/repository:tag of every image block of values.yaml with a tag."""
    found = set()
    if isinstance(values, dict):
        if {"registry", "repository", "tag"} <= set(values) and values["tag"]:
            prefix = f"{values['registry']}/" if values["registry"] else ""
            found.add(f"{prefix}{values['repository']}:{values['tag']}")
        for item in values.values():
            found |= value_images(item)
    elif isinstance(values, list):
        for item in values:
            found |= value_images(item)
    return found


def check_chart(chart_dir: Path) -> Iterator[str]:
    chart_file = chart_dir / "Chart.yaml"
    chart = yaml.safe_load(chart_file.read_text(encoding="utf-8"))
    annotations = chart.get("annotations") or {}
    for key, value in annotations.items():
        if not str(key).startswith("artifacthub.io/"):
            continue
        where = f"{chart_file}: annotations.{key}"
        if not isinstance(value, str):
            yield f"{where}: must be a string (Chart.yaml annotations are strings)"
        elif key in TEXT_ANNOTATIONS:
            yield from schema_errors(TEXT_ANNOTATIONS[key], value, where)
        elif key in YAML_ANNOTATIONS:
            try:
                document = yaml.safe_load(value)
            except yaml.YAMLError as exc:
                yield f"{where}: not valid YAML: {one_line(exc)}"
                continue
            yield from schema_errors(YAML_ANNOTATIONS[key], document, where)
        else:
            yield f"{where}: not an annotation Artifact Hub reads"
    images_annotation = annotations.get("artifacthub.io/images")
    values_file = chart_dir / "values.yaml"
    if isinstance(images_annotation, str) and values_file.exists():
        try:
            listed = {
                entry["image"]
                for entry in yaml.safe_load(images_annotation) or []
                if isinstance(entry, dict) and "image" in entry
            }
        except yaml.YAMLError:
            return  # reported above
        pinned = value_images(yaml.safe_load(values_file.read_text(encoding="utf-8")))
        where = f"{chart_file}: annotations.artifacthub.io/images"
        for image in sorted(pinned - listed):
            yield f"{where}: {image} (values.yaml) is missing"
        for image in sorted(listed - pinned):
            yield f"{where}: {image} is not an image of values.yaml"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo-file", type=Path, default=Path("artifacthub-repo.yml"))
    parser.add_argument("charts", nargs="*", type=Path)
    args = parser.parse_args(argv)
    charts = args.charts or sorted(
        p.parent for p in Path("charts").glob("*/Chart.yaml")
    )
    problems = [*check_repo_file(args.repo_file)]
    for chart_dir in charts:
        problems += check_chart(chart_dir)
    for problem in problems:
        print(problem)
    checked = ", ".join(str(c) for c in charts)
    print(
        f"check_artifacthub: {args.repo_file}, {checked}: {len(problems)} problems",
        file=sys.stderr,
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
