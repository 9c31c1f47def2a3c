"""Bad values fail once, with every problem, its value path and what is allowed
(C59 and the chart's `fullstack.validate`). The rules that need a specific
component are tested next to it (backup, ingress, postgresql)."""

from __future__ import annotations

import pytest

ONE_PROBLEM = "fullstack: 1 problem in the values:\n- "
SCHEMA_HEADER = (
    "values don't meet the specifications of the schema(s) in the following "
    "chart(s):\nfullstack:\n"
)


def _schema_lines(error: str) -> list[str]:
    """The schema problems, sorted (Helm 3 and 4 order them differently)."""
    assert error.startswith(SCHEMA_HEADER), error
    return sorted(error.removeprefix(SCHEMA_HEADER).splitlines())


def test_several_bad_values_fail_once_listing_all(render_error) -> None:
    error = render_error(
        {
            "backup": {"retention": {"keepLast": 0, "maxAgeDays": 0}},
            "frontend": {
                "autoscaling": {"enabled": True, "minReplicas": 6, "maxReplicas": 5}
            },
            "ingress": {
                "className": "nginx",
                "annotations": {"kubernetes.io/ingress.class": "nginx"},
            },
            "restore": {"enabled": True},
            "backend": {"config": {"LOG_LEVEL": "debug"}},
        }
    )

    assert error == "\n".join(
        [
            "fullstack: 6 problems in the values:",
            "- backup.retention: keepLast and maxAgeDays are both 0, so no rule says "
            "which dumps to keep; set keepLast (e.g. 7) and/or maxAgeDays (e.g. 30).",
            "- restore.dumpFile: required when restore.enabled is true; give the file "
            "name of a dump in the backup volume (the backup Job's log lists them).",
            "- frontend.autoscaling.minReplicas: 6 is more than maxReplicas 5; "
            "minReplicas must be at most maxReplicas.",
            "- frontend.autoscaling.targetCPUUtilizationPercentage: needs "
            "frontend.resources.requests.cpu, because utilisation is measured against "
            "the request; set a CPU request or set the target to 0.",
            "- backend.config.LOG_LEVEL: set by the chart; use backend.logLevel "
            "instead.",
            "- ingress.annotations.kubernetes.io/ingress.class: cannot be combined "
            "with ingress.className (Kubernetes rejects an Ingress with both); remove "
            "the annotation and keep ingress.className.",
        ]
    )


RULES = [
    pytest.param(
        {"postgresql": {"image": {"tag": "bookworm"}}},
        'postgresql.image.tag: "bookworm" does not start with the PostgreSQL major '
        'version; use a tag such as "18.6" or set postgresql.majorVersion (e.g. "18").',
        id="postgresql-major-unknown",
    ),
    pytest.param(
        {"postgresql": {"image": {"tag": "14.19"}}},
        "postgresql.image.tag: PostgreSQL 14 is not supported by the bundled server; "
        "use major 15 or newer (the default is 18).",
        id="postgresql-major-too-old",
    ),
    pytest.param(
        {"postgresql": {"auth": {"existingSecret": "db", "password": "x"}}},
        "postgresql.auth.password: cannot be combined with "
        "postgresql.auth.existingSecret (the password is read from the Secret); remove "
        "one of them.",
        id="password-and-existingSecret",
    ),
    pytest.param(
        {"postgresql": {"auth": {"existingSecret": "db", "adminPassword": "x"}}},
        "postgresql.auth.adminPassword: cannot be combined with "
        "postgresql.auth.existingSecret (the password is read from the Secret); remove "
        "one of them.",
        id="adminPassword-and-existingSecret",
    ),
    pytest.param(
        {"postgresql": {"auth": {"username": "postgres", "adminPassword": "x"}}},
        "postgresql.auth.adminPassword: not used when postgresql.auth.username is "
        '"postgres" (the application then connects as the superuser, with '
        "postgresql.auth.password); remove it, or choose another username.",
        id="adminPassword-unused-by-the-postgres-user",
    ),
    pytest.param(
        {"postgresql": {"auth": {"secretKeys": {"adminPasswordKey": "password"}}}},
        "postgresql.auth.secretKeys: userPasswordKey and adminPasswordKey are both "
        '"password"; the application and superuser passwords need different keys.',
        id="same-secret-keys",
    ),
    pytest.param(
        {"postgresql": {"initScripts": {"fullstack-init.sh": "echo"}}},
        "postgresql.initScripts.fullstack-init.sh: this name is used by the chart's "
        "own init script; rename your script.",
        id="reserved-init-script",
    ),
    pytest.param(
        {
            "restore": {"enabled": True, "dumpFile": "x.dump"},
            "backup": {"enabled": False},
        },
        "restore.enabled: the restore reads the backup volume; set backup.enabled=true "
        "or backup.persistence.existingClaim.",
        id="restore-without-volume",
    ),
    pytest.param(
        {
            "backend": {
                "autoscaling": {"enabled": True, "targetCPUUtilizationPercentage": 0}
            }
        },
        "backend.autoscaling: targetCPUUtilizationPercentage and "
        "targetMemoryUtilizationPercentage are both 0; set at least one of them.",
        id="hpa-without-target",
    ),
    pytest.param(
        {
            "backend": {
                "autoscaling": {
                    "enabled": True,
                    "targetCPUUtilizationPercentage": 0,
                    "targetMemoryUtilizationPercentage": 80,
                }
            }
        },
        "backend.autoscaling.targetMemoryUtilizationPercentage: needs "
        "backend.resources.requests.memory, because utilisation is measured against "
        "the request; set a memory request or set the target to 0.",
        id="hpa-memory-without-request",
    ),
    pytest.param(
        {"frontend": {"podDisruptionBudget": {"enabled": True, "minAvailable": 1}}},
        "frontend.podDisruptionBudget: minAvailable and maxUnavailable are both set; "
        "set "
        'exactly one of them and the other to "".',
        id="pdb-both",
    ),
    pytest.param(
        {"backend": {"podDisruptionBudget": {"enabled": True, "maxUnavailable": ""}}},
        "backend.podDisruptionBudget: neither minAvailable nor maxUnavailable is set; "
        "set exactly one of them.",
        id="pdb-neither",
    ),
    pytest.param(
        {"backend": {"enabled": False}, "ingress": {"enabled": False}},
        "frontend.backendUrl: required when frontend.enabled is true and "
        "backend.enabled is false; set the URL the frontend proxies /api/ to.",
        id="frontend-without-backend",
    ),
    pytest.param(
        {"postgresql": {"service": {"nodePort": 30432}}},
        "postgresql.service.nodePort: 30432 needs postgresql.service.type NodePort or "
        "LoadBalancer (it is ClusterIP); change the type or set nodePort to 0.",
        id="nodePort-on-ClusterIP",
    ),
    pytest.param(
        {"backend": {"config": {"APP_TITLE": "x"}}},
        "backend.config.APP_TITLE: set by the chart; use backend.appTitle instead.",
        id="config-APP_TITLE",
    ),
    pytest.param(
        {"backend": {"config": {"PGHOST": "elsewhere"}}},
        "backend.config.PGHOST: set by the chart from postgresql.auth or "
        "externalDatabase and cannot be replaced.",
        id="config-PGHOST",
    ),
    pytest.param(
        {
            "backend": {
                "extraEnv": [
                    {"name": "TZ", "value": "UTC"},
                    {"name": "PGPASSWORD", "value": "x"},
                ]
            }
        },
        "backend.extraEnv[1].name: PGPASSWORD is set by the chart from postgresql.auth "
        "or externalDatabase and cannot be replaced.",
        id="extraEnv-PGPASSWORD",
    ),
    pytest.param(
        {"frontend": {"extraEnv": [{"name": "BACKEND_URL", "value": "http://x"}]}},
        "frontend.extraEnv[0].name: BACKEND_URL is set by the chart; use "
        "frontend.backendUrl instead.",
        id="extraEnv-BACKEND_URL",
    ),
    pytest.param(
        {"extraObjects": [{"apiVersion": "v1", "kind": "ConfigMap"}, "just text"]},
        "extraObjects[1]: needs apiVersion and kind; give a Kubernetes object as a map "
        "or as a YAML string.",
        id="extraObjects-not-an-object",
    ),
    pytest.param(
        {
            "httpRoute": {"enabled": True, "parentRefs": [{"name": "gw"}]},
            "frontend": {"enabled": False},
            "ingress": {"enabled": False},
        },
        'httpRoute.paths[0].service: "frontend" is disabled (frontend.enabled=false); '
        "route only to enabled components.",
        id="route-to-disabled",
    ),
]


@pytest.mark.parametrize(("values", "message"), RULES)
def test_each_rule_names_the_value_and_what_is_allowed(render_error, values, message):
    assert render_error(values) == ONE_PROBLEM + message


def test_external_database_settings_are_checked_by_the_template_too(
    render_error,
) -> None:
    # The schema requires them first; this rule covers --skip-schema-validation.
    error = render_error(
        {"postgresql": {"enabled": False}}, args=["--skip-schema-validation"]
    )

    assert error == "\n".join(
        [
            "fullstack: 2 problems in the values:",
            "- externalDatabase.host: required when postgresql.enabled is false (the "
            "backend, backup and tests connect to it); set the host name of your "
            "PostgreSQL server, or set postgresql.enabled=true.",
            "- externalDatabase.existingSecret: required when postgresql.enabled is "
            "false; name a Secret that holds the password under the key "
            'externalDatabase.existingSecretPasswordKey ("password").',
        ]
    )


def test_route_targets_are_checked_by_the_template_too(render_error) -> None:
    # The schema allows only frontend and backend; without it, another name
    # must still give the value path, not a template error.
    path = {"path": "/", "pathType": "Prefix", "service": "database"}
    error = render_error(
        {
            "ingress": {"hosts": [{"host": "", "paths": [path]}]},
            "httpRoute": {
                "enabled": True,
                "parentRefs": [{"name": "gateway"}],
                "paths": [{"path": "/", "type": "PathPrefix", "service": "nothing"}],
            },
        },
        args=["--skip-schema-validation"],
    )

    assert error == "\n".join(
        [
            "fullstack: 2 problems in the values:",
            '- ingress.hosts[0].paths[0].service: "database" is not a component; '
            'allowed: "frontend", "backend".',
            '- httpRoute.paths[0].service: "nothing" is not a component; '
            'allowed: "frontend", "backend".',
        ]
    )


def test_schema_requires_external_database_settings(render_error) -> None:
    error = render_error({"postgresql": {"enabled": False}})

    assert _schema_lines(error) == [
        "- at '/externalDatabase/existingSecret': minLength: got 0, want 1",
        "- at '/externalDatabase/host': minLength: got 0, want 1",
    ]


@pytest.mark.parametrize(
    ("values", "lines"),
    [
        pytest.param(
            {
                "replicaCont": 3,
                "backend": {"replicaCont": 3},
                "postgresql": {"persistance": {"size": "5Gi"}},
            },
            [
                "- at '': additional properties 'replicaCont' not allowed",
                "- at '/backend': additional properties 'replicaCont' not allowed",
                "- at '/postgresql': additional properties 'persistance' not allowed",
            ],
            id="unknown-keys-root-and-nested",
        ),
        pytest.param(
            {
                "frontend": {"probes": {"liveness": {"timeout": 3}}},
                "ingress": {
                    "hosts": [
                        {
                            "host": "",
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "service": "frontend",
                                    "port": 80,
                                }
                            ],
                        }
                    ]
                },
            },
            [
                "- at '/frontend/probes/liveness': additional properties 'timeout' not "
                "allowed",
                "- at '/ingress/hosts/0/paths/0': additional properties 'port' not "
                "allowed",
            ],
            id="unknown-keys-deep",
        ),
        pytest.param(
            {"backend": {"image": {"tag": "latest"}}},
            [
                "- at '/backend/image/tag': value must be 'a pinned tag (latest is not "
                "allowed)'"
            ],
            id="latest-tag",
        ),
        pytest.param(
            {"backend": {"containerPort": "8080", "service": {"port": 70000}}},
            [
                "- at '/backend/containerPort': got string, want integer",
                "- at '/backend/service/port': maximum: got 70,000, want 65,535",
            ],
            id="ports",
        ),
        pytest.param(
            {"postgresql": {"replicaCount": 2, "auth": {"password": 1234}}},
            [
                "- at '/postgresql/auth/password': got number, want string",
                "- at '/postgresql/replicaCount': maximum: got 2, want 1",
            ],
            id="postgresql-replicas-and-numeric-password",
        ),
        pytest.param(
            {
                "frontend": {"service": {"type": "ExternalName"}},
                "ingress": {
                    "hosts": [
                        {
                            "host": "",
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "service": "database",
                                }
                            ],
                        }
                    ]
                },
            },
            [
                "- at '/frontend/service/type': value must be one of 'ClusterIP', "
                "'NodePort', 'LoadBalancer'",
                "- at '/ingress/hosts/0/paths/0/service': value must be one of "
                "'frontend', 'backend'",
            ],
            id="enums",
        ),
        pytest.param(
            {"frontend": None, "postgresql": {"auth": None}},
            [
                "- at '': missing property 'frontend'",
                "- at '/postgresql': missing property 'auth'",
            ],
            id="nulled-blocks",
        ),
        pytest.param(
            # The frontend image proxies to scheme://host[:port] only and would
            # crash-loop on a path; the schema says so at install time.
            {"frontend": {"backendUrl": "http://api.example.test/v1"}},
            [
                "- at '/frontend/backendUrl': 'http://api.example.test/v1' does not "
                "match pattern '^(https?://[A-Za-z0-9._:\\\\[\\\\]-]+/?)?$'",
                "- at '/frontend/backendUrl': value must be 'http(s)://host[:port] "
                "without a path, or empty'",
            ],
            id="backend-url-with-a-path",
        ),
        pytest.param(
            # An empty entry would render `tls: [null]`, which the API rejects.
            {"ingress": {"tls": [{}]}},
            ["- at '/ingress/tls/0': minProperties: got 0, want 1"],
            id="empty-tls-entry",
        ),
    ],
)
def test_schema_rejects_bad_values(render_error, values, lines) -> None:
    # C59/C40: typos and wrong types fail with the path and the expectation.
    assert _schema_lines(render_error(values)) == sorted(lines)


def test_global_accepts_keys_of_other_charts(render) -> None:
    manifests = render({"global": {"storageClass": "fast", "someParentKey": {"a": 1}}})

    assert manifests.of_kind("Deployment")
