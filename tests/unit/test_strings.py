"""Every user string lands in YAML quoted and comes back unchanged (C05)."""

from __future__ import annotations

import pytest
from helm_render import Manifests, container, env_values, pod_spec, pod_template

HOSTILE = [
    "%&/()=?: #x*y>",
    "@start",
    "*alias",
    "- item",
    "{{ .Release.Name }}",
    "yes",
    "0o17",
    "a'b\"c\\d",
    "tab\there",
    "",
]


def _values(text: str) -> dict:
    return {
        "commonAnnotations": {"example.test/note": text},
        "backend": {
            "appTitle": text,
            "config": {"SMTP_PASSWORD": text},
            "extraEnv": [{"name": "GREETING", "value": text}],
            "podAnnotations": {"example.test/pod": text},
            "service": {"annotations": {"example.test/svc": text}},
        },
        "postgresql": {
            "auth": {
                "username": "app " + text,
                "database": "db " + text,
                "password": "p",
                "adminPassword": "a",
            },
            "parameters": {"application_name": text},
            "initScripts": {"10-x.sql": text},
            "initdbArgs": "--locale=C " + text,
        },
        "ingress": {"annotations": {"example.test/ingress": text}},
    }


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_strings_round_trip(render, text: str) -> None:
    manifests: Manifests = render(_values(text))
    backend = manifests.get("Deployment", "rel-fullstack-backend")
    statefulset = manifests.get("StatefulSet", "rel-fullstack-postgresql")
    postgres = container(statefulset, "postgresql")
    data = manifests.get("ConfigMap", "rel-fullstack-backend")["data"]

    assert backend["metadata"]["annotations"]["example.test/note"] == text
    assert pod_template(backend)["metadata"]["annotations"]["example.test/pod"] == text
    assert data["APP_TITLE"] == text
    assert data["SMTP_PASSWORD"] == text
    assert env_values(pod_spec(backend)["containers"][0])["GREETING"] == text
    assert env_values(pod_spec(backend)["containers"][0])["PGUSER"] == "app " + text
    assert env_values(postgres)["FULLSTACK_APP_USER"] == "app " + text
    assert env_values(postgres)["POSTGRES_DB"] == "db " + text
    assert env_values(postgres)["POSTGRES_INITDB_ARGS"] == "--locale=C " + text
    assert postgres["args"] == ["postgres", "-c", f"application_name={text}"]
    initdb = manifests.get("ConfigMap", "rel-fullstack-postgresql-initdb")["data"]
    assert initdb["10-x.sql"] == text
    service = manifests.get("Service", "rel-fullstack-backend")
    assert service["metadata"]["annotations"]["example.test/svc"] == text
    ingress = manifests.get("Ingress", "rel-fullstack")
    assert ingress["metadata"]["annotations"]["example.test/ingress"] == text
