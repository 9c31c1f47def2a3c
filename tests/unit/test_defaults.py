"""The default render: which objects, in which namespace, valid, deterministic.

Schema validation: every value profile (helm_render.value_profiles plus
"everything" below) is rendered for each Kubernetes minor the chart supports,
from the lower bound of Chart.yaml's kubeVersion up to the newest schema that
kubernetes-validate bundles (an upper bound in kubeVersion, if any, wins), and
every object is validated offline against that minor's schema in
kubernetes-validate's strict mode (unknown fields are errors). Bumping
kubeVersion or kubernetes-validate changes the matrix by itself.

Kinds that are not part of Kubernetes are listed in CRD_SCHEMAS and validated
against their CustomResourceDefinition's schema, made just as strict; a kind
with neither schema fails the test. HTTPRoute's CRD is read from the Go module
sigs.k8s.io/gateway-api (`go mod download`: from Go's module cache, which the
first run fills through the module proxy).
"""

from __future__ import annotations

import base64
import copy
import functools
import json
import os
import re
import shutil
import string
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import kubernetes_validate.utils as kv_utils
import pytest
import yaml
from helm_render import (
    CHART_DIR,
    DEFAULT_NAMESPACE,
    Manifests,
    value_profiles,
    walk_strings,
)
from referencing import Registry, Resource

from harness.config import versions

_BOUND = re.compile(r"(>=|>|<=|<)v?1\.(\d+)(?:\.(\d+))?(-[0-9A-Za-z.-]+)?")


def supported_minors(kube_version: str, newest: str, oldest: str) -> list[str]:
    """Kubernetes minors ("1.33", ...) that a Chart.yaml kubeVersion allows,
    from its lower bound up to `newest` (or its own upper bound).

    Knows the forms `>=1.33.0-0`, `>1.33`, `<1.38.0-0`, `<=1.37`, separated
    by spaces or commas; anything else (`||`, `~`, `^`, no lower bound) is an
    error rather than a guess.
    """
    terms = re.sub(r"(>=|<=|>|<)\s+", r"\1", kube_version.strip())
    low, high = None, int(newest.split(".")[1])
    for term in filter(None, re.split(r"[\s,]+", terms)):
        match = _BOUND.fullmatch(term)
        if match is None:
            raise ValueError(f"kubeVersion {kube_version!r}: cannot read {term!r}")
        operator, minor = match[1], int(match[2])
        if operator in (">=", ">"):
            low = minor if low is None else max(low, minor)
        elif operator == "<=" or (operator == "<" and int(match[3] or 0) > 0):
            high = min(high, minor)
        else:  # "<1.38", "<1.38.0", "<1.38.0-0": nothing of 1.38
            high = min(high, minor - 1)
    if low is None:
        raise ValueError(f"kubeVersion {kube_version!r} has no lower bound")
    if low < int(oldest.split(".")[1]):
        raise ValueError(
            f"kubeVersion {kube_version!r} allows 1.{low}, older than {oldest}"
        )
    minors = [f"1.{minor}" for minor in range(low, high + 1)]
    if not minors:
        raise ValueError(f"kubeVersion {kube_version!r} allows nothing up to {newest}")
    return minors


CHART = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text(encoding="utf-8"))
# Minors of the Kubernetes schemas every rendered object must be valid for.
KUBERNETES_MINORS = supported_minors(
    CHART["kubeVersion"],
    newest=kv_utils.latest_version(),
    oldest=kv_utils.all_versions()[0],
)
# Kinds that are not part of Kubernetes: (apiVersion, kind) -> the Go module
# (path, version) that ships the CRD, and the CRD's file in it. The Gateway API
# release is pinned in versions.env (the one the pinned Traefik is built with).
CRD_SCHEMAS = {
    ("gateway.networking.k8s.io/v1", "HTTPRoute"): (
        ("sigs.k8s.io/gateway-api", versions()["GATEWAY_API_VERSION"]),
        "config/crd/standard/gateway.networking.k8s.io_httproutes.yaml",
    ),
}
OBJECT_META = (
    "https://kubernetes.io/api/_definitions.json"
    "#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
)
CI_SCENARIOS = sorted(p.name for p in (CHART_DIR / "ci").glob("*-values.yaml"))
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

EXPECTED_DEFAULT_OBJECTS = [
    ("ConfigMap", "rel-fullstack-backend"),
    ("ConfigMap", "rel-fullstack-postgresql-initdb"),
    ("CronJob", "rel-fullstack-backup"),
    ("Deployment", "rel-fullstack-backend"),
    ("Deployment", "rel-fullstack-frontend"),
    ("Ingress", "rel-fullstack"),
    ("Job", "INITIAL-DUMP"),
    ("PersistentVolumeClaim", "rel-fullstack-backup"),
    ("Pod", "rel-fullstack-test-backend"),
    ("Pod", "rel-fullstack-test-database"),
    ("Pod", "rel-fullstack-test-frontend"),
    ("Secret", "rel-fullstack-postgresql"),
    ("Service", "rel-fullstack-backend"),
    ("Service", "rel-fullstack-frontend"),
    ("Service", "rel-fullstack-postgresql"),
    ("Service", "rel-fullstack-postgresql-hl"),
    ("ServiceAccount", "rel-fullstack-backend"),
    ("ServiceAccount", "rel-fullstack-frontend"),
    ("StatefulSet", "rel-fullstack-postgresql"),
]


def test_default_render_has_every_expected_object(default_manifests: Manifests) -> None:
    # The install-time dump Job is named after a hash of its spec.
    jobs = default_manifests.names("Job")
    assert len(jobs) == 1
    assert re.fullmatch(r"rel-fullstack-backup-[0-9a-f]{8}", jobs[0])

    expected = sorted(
        (kind, jobs[0] if name == "INITIAL-DUMP" else name)
        for kind, name in EXPECTED_DEFAULT_OBJECTS
    )
    assert default_manifests.kinds() == expected


def test_default_render_has_no_null_and_no_empty_names(
    default_manifests: Manifests,
) -> None:
    # C42: optional blocks are omitted, not rendered as null or empty entries.
    assert not re.search(r":\s*null\s*$", default_manifests.text, re.MULTILINE)
    for doc in default_manifests.docs:
        for path, leaf in walk_strings(doc):
            assert leaf is not None, f"{doc['kind']} {path} is null"
            if path.endswith(".name"):
                assert leaf != "", f"{doc['kind']} {path} is an empty name"


@pytest.mark.parametrize(
    ("values", "namespace"),
    [
        ({}, DEFAULT_NAMESPACE),
        ({"namespaceOverride": "shop-prod"}, "shop-prod"),
    ],
    ids=["release-namespace", "namespaceOverride"],
)
def test_every_object_carries_the_namespace(render, values, namespace) -> None:
    # C46: nothing lands in the kubectl context's namespace or in "default".
    manifests = render({**values, "networkPolicy": {"enabled": True}})

    assert {doc["metadata"].get("namespace") for doc in manifests.docs} == {namespace}
    assert "default" not in {
        leaf for _, leaf in walk_strings(list(manifests.docs)) if isinstance(leaf, str)
    }
    assert ".svc.cluster.local" not in manifests.text


def test_offline_renders_differ_only_in_the_generated_passwords(renderer) -> None:
    # C02 and C12: only the Secret carries random data, and no checksum hashes it.
    first = renderer.run(cache=False)
    second = renderer.run(cache=False)
    docs = [list(yaml.safe_load_all(r.stdout)) for r in (first, second)]

    changed = [
        (a["kind"], a["metadata"]["name"])
        for a, b in zip(*docs, strict=True)
        if a is not None and a != b
    ]
    assert changed == [("Secret", "rel-fullstack-postgresql")]


def test_generated_passwords_are_32_alphanumeric_characters(
    default_manifests: Manifests,
) -> None:
    # C02: a generated value is valid base64 of the expected length.
    secret = default_manifests.get("Secret", "rel-fullstack-postgresql")
    allowed = set(string.ascii_letters + string.digits)

    assert sorted(secret["data"]) == ["password", "postgres-password"]
    for encoded in secret["data"].values():
        decoded = base64.b64decode(encoded, validate=True).decode()
        assert len(decoded) == 32
        assert set(decoded) <= allowed


# Every optional object and opt-in container at once.
EVERYTHING = {
    "networkPolicy": {"enabled": True},
    "restore": {"enabled": True, "dumpFile": "x.dump"},
    "frontend": {
        "service": {"type": "NodePort", "nodePort": 30080},
        "autoscaling": {"enabled": True},
        "resources": {"requests": {"cpu": "10m"}},
        "podDisruptionBudget": {"enabled": True},
        "extraEnv": [{"name": "FLAG", "value": True}],
    },
    "backend": {"service": {"type": "LoadBalancer"}, "config": {"N": 1000000}},
    "postgresql": {
        "volumePermissions": {"enabled": True},
        "parameters": {"max_connections": 50},
        "initScripts": {"01.sql": "select 1;"},
        "persistence": {"storageClass": "-"},
    },
    "backup": {"volumePermissions": {"enabled": True}, "timeZone": "Etc/UTC"},
    "global": {"imagePullSecrets": ["regcred"]},
    "httpRoute": {"enabled": True, "parentRefs": [{"name": "gw"}]},
}


PROFILES = {**value_profiles(), "everything": EVERYTHING}


def _closed(schema: dict[str, Any]) -> dict[str, Any]:
    """Make unknown fields errors, in place, like kubernetes-validate's strict
    schemas (and like the API server's strict field validation).

    allOf/anyOf/oneOf/not branches stay open: in a structural schema they only
    restate fields of the schema around them.
    """
    for sub in schema.get("properties", {}).values():
        _closed(sub)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _closed(schema[key])
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        schema["additionalProperties"] = False
    return schema


def strict_crd_schema(crd: dict[str, Any], api_version: str, kind: str) -> dict:
    """The JSON schema of one version of a CRD: closed, apiVersion and kind
    fixed, metadata checked as a Kubernetes ObjectMeta.

    CEL rules (x-kubernetes-validations) are not evaluated: only the API
    server can.
    """
    versions = {
        f"{crd['spec']['group']}/{v['name']}": v for v in crd["spec"]["versions"]
    }
    assert crd["spec"]["names"]["kind"] == kind, crd["metadata"]["name"]
    assert versions[api_version]["served"], f"{api_version} is not served"
    schema = _closed(copy.deepcopy(versions[api_version]["schema"]["openAPIV3Schema"]))
    schema["properties"]["apiVersion"] = {"type": "string", "enum": [api_version]}
    schema["properties"]["kind"] = {"type": "string", "enum": [kind]}
    schema["properties"]["metadata"] = {"$ref": OBJECT_META}
    schema["required"] = sorted({*schema.get("required", []), "apiVersion", "kind"})
    return schema


def go_module_dir(module: str, version: str, workdir: Path) -> Path:
    """The folder of a Go module in Go's module cache (downloaded if missing)."""
    go = shutil.which("go")
    if go is None:
        pytest.fail(f"go not found: it provides {module} {version} (CRD schemas)")
    result = subprocess.run(
        [go, "mod", "download", "-json", f"{module}@{version}"],
        cwd=workdir,
        env={**os.environ, "GOWORK": "off"},
        check=False,
        timeout=300,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.fail(
            f"go mod download {module}@{version}: {result.stdout}{result.stderr}"
        )
    return Path(json.loads(result.stdout)["Dir"])


@pytest.fixture(scope="module")
def crd_schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple, dict]:
    """(apiVersion, kind) -> strict JSON schema, for every kind of CRD_SCHEMAS."""
    workdir = tmp_path_factory.mktemp("go")
    schemas = {}
    for (api_version, kind), ((module, version), path) in CRD_SCHEMAS.items():
        crd_file = go_module_dir(module, version, workdir) / path
        crd = yaml.load(crd_file.read_text(encoding="utf-8"), Loader=_LOADER)
        schemas[api_version, kind] = strict_crd_schema(crd, api_version, kind)
    return schemas


@pytest.fixture(scope="module")
def validate_object(
    crd_schemas: dict[tuple, dict],
) -> Iterator[Callable[[dict[str, Any], str], None]]:
    """validate(doc, minor): strict, offline schema validation of one object.

    kubernetes-validate reads and parses its schema files (1.8 MB of
    definitions per version) on every call; reading each file once for this
    module makes the matrix take seconds instead of half a minute. setattr
    fails if kubernetes-validate ever renames the function.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            kv_utils, "schema_contents", functools.cache(kv_utils.schema_contents)
        )

        @functools.cache
        def crd_validator(api_version: str, kind: str, minor: str) -> Any:
            definitions = kv_utils.schema_contents(
                f"kubernetes-json-schema/v{minor}.0-local-strict/_definitions.json",
                minor,
            )
            registry = Resource.from_contents(definitions) @ Registry()
            return jsonschema.Draft202012Validator(
                crd_schemas[api_version, kind], registry=registry
            )

        def validate(doc: dict[str, Any], minor: str) -> None:
            what = f"{doc['kind']} {doc['metadata']['name']}"
            try:
                if (doc["apiVersion"], doc["kind"]) in crd_schemas:
                    crd_validator(doc["apiVersion"], doc["kind"], minor).validate(doc)
                else:
                    kubernetes_validate.validate(doc, minor, strict=True)
            except kv_utils.SchemaNotFoundError as error:
                pytest.fail(f"{what}: {error.message}; add its CRD to CRD_SCHEMAS")
            except jsonschema.ValidationError as error:
                where = "/".join(str(part) for part in error.absolute_path)
                pytest.fail(f"{what}, Kubernetes {minor}, {where}: {error.message}")

        yield validate


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("minor", KUBERNETES_MINORS)
def test_every_profile_renders_valid_kubernetes_objects(
    render, validate_object, profile: str, minor: str
) -> None:
    # C38/C40/C42/C43: types and shapes are accepted by the Kubernetes schema.
    manifests = render(PROFILES[profile], args=["--kube-version", f"{minor}.0"])

    for doc in manifests.docs:
        validate_object(doc, minor)


def test_the_kubernetes_matrix_follows_chart_yaml() -> None:
    # From kubeVersion's lower bound to the newest bundled schema, no gaps.
    lower = re.search(r"1\.(\d+)", CHART["kubeVersion"])

    assert KUBERNETES_MINORS[0] == f"1.{lower[1]}"
    assert KUBERNETES_MINORS[-1] == kv_utils.major_minor(kv_utils.latest_version())
    newest = int(KUBERNETES_MINORS[-1].split(".")[1])
    assert [f"1.{minor}" for minor in range(int(lower[1]), newest + 1)] == (
        KUBERNETES_MINORS
    )


@pytest.mark.parametrize(
    ("kube_version", "expected"),
    [
        (">=1.33.0-0", ["1.33", "1.34", "1.35", "1.36", "1.37"]),
        (">= 1.35", ["1.35", "1.36", "1.37"]),
        (">=1.33.0-0 <1.36.0-0", ["1.33", "1.34", "1.35"]),
        (">=1.33.0-0, <=1.34.2", ["1.33", "1.34"]),
        ("<1.34.5 >1.33.1", ["1.33", "1.34"]),
    ],
)
def test_supported_minors_reads_kube_version(kube_version, expected) -> None:
    assert supported_minors(kube_version, newest="1.37.0", oldest="1.25.0") == expected


@pytest.mark.parametrize(
    ("kube_version", "message"),
    [
        (">=1.33.0 || >=2.0", "cannot read '||'"),
        ("~1.33", "cannot read '~1.33'"),
        ("<1.38.0-0", "has no lower bound"),
        (">=1.38.0-0", "allows nothing up to 1.37.0"),
        (">=1.20", "older than 1.25.0"),
    ],
)
def test_supported_minors_refuses_to_guess(kube_version, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        supported_minors(kube_version, newest="1.37.0", oldest="1.25.0")


def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of doc with the dotted path (list indexes as numbers) set."""
    doc = copy.deepcopy(doc)
    *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
    node: Any = doc
    for part in parents:
        node = node[part]
    node[last] = value
    return doc


@pytest.mark.parametrize(
    ("kind", "path", "value", "message"),
    [
        (
            "Deployment",
            "spec.template.spec.containers.0.imagePullPolcy",
            "Always",
            "'imagePullPolcy' was unexpected",
        ),
        ("Deployment", "spec.replicas", "2", "'2' is not of type"),
        (
            "HTTPRoute",
            "spec.rules.0.matches.0.path.type",
            "Glob",
            "'Glob' is not one of",
        ),
        ("HTTPRoute", "spec.rules.0.backendRef", [], "'backendRef' was unexpected"),
        ("HTTPRoute", "metadata.label", {}, "'label' was unexpected"),
        (
            "HTTPRoute",
            "apiVersion",
            "gateway.networking.k8s.io/v1beta2",
            "Couldn't find schema for kind HTTPRoute with api version "
            "gateway.networking.k8s.io/v1beta2",
        ),
    ],
    ids=[
        "unknown-field",
        "wrong-type",
        "crd-wrong-value",
        "crd-unknown-field",
        "crd-unknown-metadata-field",
        "crd-version-without-schema",
    ],
)
def test_strict_validation_finds_errors(
    render, validate_object, kind: str, path: str, value: Any, message: str
) -> None:
    # Negative controls: unknown fields, wrong values and kinds without a
    # schema fail, for Kubernetes kinds and for the CRD alike.
    manifests = render(PROFILES["gateway-api"])
    doc = manifests.of_kind(kind)[0]
    validate_object(doc, KUBERNETES_MINORS[0])

    with pytest.raises(pytest.fail.Exception, match=re.escape(message)):
        validate_object(_set(doc, path, value), KUBERNETES_MINORS[0])


def test_ci_scenario_files_are_named_for_chart_testing() -> None:
    # ct only reads ci/*-values.yaml; any other file there would be ignored.
    assert sorted(p.name for p in (CHART_DIR / "ci").iterdir()) == CI_SCENARIOS
    assert CI_SCENARIOS == [
        "default-values.yaml",
        "external-database-values.yaml",
        "production-values.yaml",
    ]


def test_demo_images_default_to_the_app_version() -> None:
    # The release workflow tags the demo images with appVersion; a values.yaml
    # tag that drifts from it would point the chart at an image never built.
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text(encoding="utf-8"))

    for component in ("frontend", "backend"):
        assert values[component]["image"]["tag"] == CHART["appVersion"], component


def test_external_database_scenario_runs_the_default_postgres_image() -> None:
    # ci/external-database-values.yaml brings its own PostgreSQL (extraObjects)
    # so chart-testing can install it; its image is the chart's default, which
    # Renovate updates in values.yaml only.
    values = yaml.safe_load((CHART_DIR / "values.yaml").read_text(encoding="utf-8"))
    image = values["postgresql"]["image"]
    default = f"{image['registry']}/{image['repository']}:{image['tag']}"
    scenario = (CHART_DIR / "ci" / "external-database-values.yaml").read_text()

    assert re.findall(r"image: *\"?([^\s\"]*postgres[^\s\"]*)", scenario) == [default]
