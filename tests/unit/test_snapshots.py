"""Snapshots of the whole `helm template` output, one YAML file per value profile.

Profiles (helm_render.value_profiles):

- every chart-testing scenario in ci/: `default` (the chart's defaults),
  `production` (HPA, PDB, NetworkPolicy, TLS Ingress, resources) and
  `external-database` (postgresql.enabled=false);
- `minimal`: every optional object and feature off (no backup, Ingress,
  HTTPRoute, test pods, ServiceAccounts or NetworkPolicies, no volume claim);
- `gateway-api`: a Gateway API HTTPRoute instead of the Ingress.

The files are __snapshots__/test_snapshots/<test>[<profile>].yaml. A template
change makes the test fail with a diff of the rendered YAML. When the change
is intended, regenerate the files and review their diff like code:

    pytest tests/unit/test_snapshots.py --snapshot-update

(or `nox -s unit -- --snapshot-update`). A snapshot file that no test uses any
more fails the run until `--snapshot-update` deletes it.

Normalisation, so that a snapshot changes only when the objects do:

- documents are sorted by kind, namespace and name; each keeps its
  `# Source:` template path as a comment above it;
- each document is parsed and written again by PyYAML (two-space indents,
  multi-line strings as `|` blocks), which also drops the blank lines in which
  Helm 4 and Helm 3 differ, so the files hold for both;
- the `helm.sh/chart` label becomes `<chart>-<version>`, so the version bump
  that chart-testing demands for every chart change does not touch every
  file, and the `app.kubernetes.io/version` label `<version>`: the chart
  sets it to the tag of the component's image, which the snapshot shows in the
  `image:` lines anyway, or to the chart's appVersion on objects that run no
  image (Ingress, HTTPRoute). A chart label that is not "<name>-<Chart.yaml
  version>", or a version label that is neither an image tag of the render nor
  the appVersion, fails the test instead of being masked;
- the Kubernetes version is pinned (`--kube-version`, KUBERNETES_VERSION of
  versions.env);
- passwords are fixed (helm_render.FIXED_PASSWORDS) instead of generated. The
  alternative, masking the random values and every checksum computed from
  them, was rejected: the checksum annotations and the hashed name of the
  initial dump Job exist to change when their input changes, and a masked
  checksum would hide exactly that. With fixed passwords every hash stays in
  the snapshot, real and stable. No checksum covers the password today
  (test_defaults.py::test_offline_renders_differ_only_in_the_generated_passwords),
  so the fixed-password render differs from a user's default render only in
  the Secret's data; the generated values are covered by test_defaults.py and
  test_secrets.py.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from helm_render import FIXED_PASSWORDS, Renderer, value_profiles
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.single_file import SingleFileSnapshotExtension, WriteMode

from harness.config import CHART_DIR, versions
from harness.release import merge

PROFILES = value_profiles()
KUBERNETES_VERSION = versions()["KUBERNETES_VERSION"]
CHART_LABEL = "helm.sh/chart"
CHART_MASK = "<chart>-<version>"
VERSION_LABEL = "app.kubernetes.io/version"
VERSION_MASK = "<version>"
_SEPARATOR = re.compile(r"^---[ \t]*$", re.MULTILINE)
_SOURCE = re.compile(r"^# Source: (\S.*)$", re.MULTILINE)


class YamlSnapshotExtension(SingleFileSnapshotExtension):
    """One readable .yaml file per snapshot (reviewable in a diff, yamllint-clean)."""

    file_extension = "yaml"
    _write_mode = WriteMode.TEXT


class _SnapshotDumper(yaml.SafeDumper):
    """Block style throughout, with list items indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # Scripts and config files as literal blocks; PyYAML itself falls back to
    # quotes where a block cannot hold the string (e.g. trailing spaces).
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_SnapshotDumper.add_representer(str, _represent_str)


def chart_metadata(chart: Path = CHART_DIR) -> dict[str, Any]:
    """Chart.yaml of a chart."""
    return yaml.safe_load((chart / "Chart.yaml").read_text(encoding="utf-8"))


def _image_tags(node: Any) -> set[str]:
    """Tags of every `image:` reference in a document."""
    if isinstance(node, dict):
        tags = set()
        for key, value in node.items():
            if key == "image" and isinstance(value, str):
                name = value.split("@", 1)[0]
                if ":" in name.rsplit("/", 1)[-1]:
                    tags.add(name.rsplit(":", 1)[1])
            else:
                tags |= _image_tags(value)
        return tags
    if isinstance(node, list):
        return set().union(*(_image_tags(item) for item in node))
    return set()


def _mask_versions(node: Any, chart_label: str, versions: set[str], where: str) -> None:
    """Replace the chart and version labels, in place, wherever they are."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == CHART_LABEL:
                assert value == chart_label, f"{where}: {key} is {value!r}"
                node[key] = CHART_MASK
            elif key == VERSION_LABEL:
                assert value in versions, (
                    f"{where}: {key} {value!r} is no image tag and not the appVersion"
                )
                node[key] = VERSION_MASK
            else:
                _mask_versions(value, chart_label, versions, where)
    elif isinstance(node, list):
        for item in node:
            _mask_versions(item, chart_label, versions, where)


def normalise(text: str, chart: Mapping[str, Any], profile: str) -> str:
    """The snapshot of one `helm template` output (see the module docstring)."""
    # As the chart's fullstack.chart helper builds it.
    chart_label = f"{chart['name']}-{chart['version']}".replace("+", "_")
    chart_label = chart_label[:63].rstrip("-")
    docs = []
    for chunk in _SEPARATOR.split(text):
        doc = yaml.safe_load(chunk)
        if doc is not None:
            source = _SOURCE.search(chunk)
            assert source, f"no '# Source:' line in {chunk!r}"
            docs.append((source[1], doc))
    versions = {str(chart["appVersion"])}.union(*(_image_tags(doc) for _, doc in docs))

    entries = []
    for source, doc in docs:
        meta = doc["metadata"]
        _mask_versions(doc, chart_label, versions, f"{doc['kind']}/{meta['name']}")
        key = (doc["kind"], meta.get("namespace", ""), meta["name"])
        entries.append((key, source, doc))
    entries.sort(key=lambda entry: entry[:2])

    lines = [
        f"# `helm template` of the fullstack chart, value profile {profile!r}.",
        "# Generated by tests/unit/test_snapshots.py: update with --snapshot-update.",
        "# Rendered scripts keep their lines, however long:",
        "# yamllint disable rule:line-length",
    ]
    for _, source, doc in entries:
        body = yaml.dump(
            doc,
            Dumper=_SnapshotDumper,
            sort_keys=False,
            allow_unicode=True,
            width=1_000_000,
            default_flow_style=False,
        )
        lines += ["---", f"# Source: {source}", body.rstrip("\n")]
    return "\n".join(lines) + "\n"


def _render_profile(renderer: Renderer, profile: str, *, cache: bool = True) -> Any:
    return renderer.run(
        merge(PROFILES[profile], FIXED_PASSWORDS),
        args=["--kube-version", KUBERNETES_VERSION],
        cache=cache,
    )


@pytest.fixture
def snapshot_yaml(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """The syrupy snapshot, stored as a .yaml file."""
    return snapshot.use_extension(YamlSnapshotExtension)


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_render_matches_the_snapshot(
    renderer: Renderer, snapshot_yaml: SnapshotAssertion, profile: str
) -> None:
    result = _render_profile(renderer, profile)

    assert result.returncode == 0, result.stderr
    assert normalise(result.stdout, chart_metadata(), profile) == snapshot_yaml


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_rendering_twice_gives_byte_identical_output(
    renderer: Renderer, profile: str
) -> None:
    # With fixed passwords nothing in the chart is random or time-dependent.
    first = _render_profile(renderer, profile)
    second = _render_profile(renderer, profile, cache=False)

    assert first.returncode == second.returncode == 0, second.stderr
    assert first.stdout == second.stdout


def test_a_version_bump_leaves_the_snapshot_unchanged(
    renderer: Renderer, tmp_path: Path
) -> None:
    # A copy of the chart with another chart and app version.
    chart = tmp_path / "fullstack"
    shutil.copytree(CHART_DIR, chart)
    text = (chart / "Chart.yaml").read_text(encoding="utf-8")
    text = re.sub(r"(?m)^version: .*$", "version: 9.8.7+build.1", text)
    text = re.sub(r"(?m)^appVersion: .*$", 'appVersion: "9.8.7"', text)
    (chart / "Chart.yaml").write_text(text, encoding="utf-8")

    bumped = renderer.run(
        FIXED_PASSWORDS, args=["--kube-version", KUBERNETES_VERSION], chart=chart
    )
    current = _render_profile(renderer, "default")

    assert bumped.returncode == 0, bumped.stderr
    assert "fullstack-9.8.7_build.1" in bumped.stdout
    assert normalise(bumped.stdout, chart_metadata(chart), "default") == normalise(
        current.stdout, chart_metadata(), "default"
    )


def test_normalise_sorts_masks_and_keeps_sources() -> None:
    # Negative control of the rules above, on a hand-written render.
    chart = {"name": "fullstack", "version": "1.2.3", "appVersion": "9.9"}
    text = (
        "---\n# Source: fullstack/templates/b.yaml\n"
        "kind: Service\nmetadata:\n  name: b\n  namespace: ns\n  labels:\n"
        "    helm.sh/chart: fullstack-1.2.3\n    app.kubernetes.io/version: '4.5'\n"
        "---\n# Source: fullstack/templates/a.yaml\n"
        "kind: Pod\nmetadata:\n  name: z\n  namespace: ns\n"
        "spec:\n  containers:\n  - image: r.test/a/b:4.5@sha256:00\n"
        "    args: [one\n      two]\n    command:\n    - |\n      echo one\n"
        "      echo two\n"
    )

    result = normalise(text, chart, "t")

    assert result.split("---\n", 1)[1] == (
        "# Source: fullstack/templates/a.yaml\n"
        "kind: Pod\nmetadata:\n  name: z\n  namespace: ns\n"
        "spec:\n  containers:\n    - image: r.test/a/b:4.5@sha256:00\n"
        "      args:\n        - one two\n      command:\n        - |\n"
        "          echo one\n          echo two\n"
        "---\n# Source: fullstack/templates/b.yaml\n"
        "kind: Service\nmetadata:\n  name: b\n  namespace: ns\n  labels:\n"
        "    helm.sh/chart: <chart>-<version>\n"
        "    app.kubernetes.io/version: <version>\n"
    )
    with pytest.raises(
        AssertionError, match=re.escape("Service/b: helm.sh/chart is 'x'")
    ):
        normalise(text.replace("fullstack-1.2.3", "x"), chart, "t")
    with pytest.raises(
        AssertionError, match=re.escape("'4.5' is no image tag and not the appVersion")
    ):
        normalise(text.replace(":4.5@", ":4.6@"), chart, "t")
    # An object that runs no image carries the appVersion, masked the same way.
    assert normalise(text.replace("version: '4.5'", "version: '9.9'"), chart, "t") == (
        result
    )
