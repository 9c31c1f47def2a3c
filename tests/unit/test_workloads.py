"""Frontend and backend Deployments, their HPA, PDB and config (C12, C38, C42, C43)."""

from __future__ import annotations

import pytest
from helm_render import Manifests, container, env_entries, pod_spec, pod_template

FRONTEND = "rel-fullstack-frontend"
BACKEND = "rel-fullstack-backend"

# C43: one render per optional block, each set to a non-empty value.
OPTIONAL_BLOCKS = {
    "extraVolumes+Mounts": {
        "extraVolumes": [{"name": "scratch", "emptyDir": {}}],
        "extraVolumeMounts": [{"name": "scratch", "mountPath": "/scratch"}],
    },
    "affinity": {
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 1,
                        "podAffinityTerm": {"topologyKey": "kubernetes.io/hostname"},
                    }
                ]
            }
        }
    },
    "tolerations": {"tolerations": [{"key": "dedicated", "operator": "Exists"}]},
    "nodeSelector": {"nodeSelector": {"disktype": "ssd"}},
    "topologySpread": {
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
            }
        ]
    },
    "priorityClassName": {"priorityClassName": "high"},
    "podLabels+Annotations": {
        "podLabels": {"tier": "web"},
        "podAnnotations": {"example.test/scrape": True},
    },
    "extraEnvFrom": {"extraEnvFrom": [{"secretRef": {"name": "extra"}}]},
    "extraInitContainers": {
        "extraInitContainers": [
            {"name": "wait", "image": "busybox:1.37", "command": ["true"]}
        ]
    },
    "resources": {
        "resources": {"requests": {"cpu": "10m"}, "limits": {"memory": "64Mi"}}
    },
    "podSecurityContext": {
        "podSecurityContext": {
            "fsGroup": 2000,
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
    },
    "lifecycle-off": {"lifecycle": {"preStop": None}},
}
COMPONENTS = {
    "frontend": "Deployment",
    "backend": "Deployment",
    "postgresql": "StatefulSet",
    "backup": "CronJob",
}


@pytest.mark.parametrize("block", sorted(OPTIONAL_BLOCKS))
def test_optional_block_renders_in_place(render, block: str) -> None:
    # Each block is set on every component at once: one render per block.
    settings = OPTIONAL_BLOCKS[block]
    # Only the three long-running components have a default preStop to remove.
    components = (
        COMPONENTS if block != "lifecycle-off" else dict(list(COMPONENTS.items())[:3])
    )
    values = {component: settings for component in components}
    manifests = render(
        {**values, "global": {"imagePullSecrets": ["regcred", {"name": ""}]}}
    )

    for component, kind in components.items():
        doc = manifests.get(kind, f"rel-fullstack-{component}")
        template, spec = pod_template(doc), pod_spec(doc)
        main = spec["containers"][0]
        assert spec["imagePullSecrets"] == [{"name": "regcred"}]
        for key, value in settings.items():
            if key == "extraVolumes":
                assert value[0] in spec["volumes"]
            elif key == "extraVolumeMounts":
                assert value[0] in main["volumeMounts"]
            elif key == "topologySpreadConstraints":
                assert spec[key] == [
                    {
                        **value[0],
                        "labelSelector": {
                            "matchLabels": {
                                "app.kubernetes.io/component": component,
                                "app.kubernetes.io/instance": "rel",
                                "app.kubernetes.io/name": "fullstack",
                            }
                        },
                    }
                ]
            elif key == "podLabels":
                assert template["metadata"]["labels"]["tier"] == "web"
            elif key == "podAnnotations":
                assert (
                    template["metadata"]["annotations"]["example.test/scrape"] == "true"
                )
            elif key == "extraEnvFrom":
                assert value[0] in main["envFrom"]
            elif key == "extraInitContainers":
                assert spec["initContainers"][-1] == value[0]
            elif key == "resources":
                assert main["resources"] == value
            elif key == "lifecycle":
                assert "lifecycle" not in main
            elif key == "podSecurityContext":
                assert value.items() <= spec["securityContext"].items()
            else:
                assert spec[key] == value


def test_env_values_are_always_strings(render) -> None:
    # C38: booleans and numbers from values become strings, valueFrom passes through.
    extra_env = [
        {"name": "DEBUG", "value": False},
        {"name": "WORKERS", "value": 4},
        {"name": "BIG", "value": 10000000},
        {"name": "RATIO", "value": 0.25},
        {
            "name": "FROM_FIELD",
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
        },
    ]
    manifests = render(
        {
            c: {"extraEnv": extra_env}
            for c in ("frontend", "backend", "postgresql", "backup")
        }
    )

    for kind, name, item in [
        ("Deployment", FRONTEND, "frontend"),
        ("Deployment", BACKEND, "backend"),
        ("StatefulSet", "rel-fullstack-postgresql", "postgresql"),
        ("CronJob", "rel-fullstack-backup", "backup"),
    ]:
        env = env_entries(container(manifests.get(kind, name), item))
        assert env["DEBUG"] == {"name": "DEBUG", "value": "false"}
        assert env["WORKERS"]["value"] == "4"
        assert env["BIG"]["value"] == "10000000"
        assert env["RATIO"]["value"] == "0.25"
        assert env["FROM_FIELD"] == extra_env[4]


def test_backend_config_map_holds_settings_as_strings(render) -> None:
    manifests = render(
        {
            "backend": {
                "logLevel": "debug",
                "appTitle": "Shop: #1 & more",
                "config": {
                    "FEATURE_FLAG": True,
                    "WORKERS": 4,
                    "SMTP_PASSWORD": "@start",
                },
            }
        }
    )
    data = manifests.get("ConfigMap", BACKEND)["data"]
    backend = container(manifests.get("Deployment", BACKEND), "backend")

    assert data == {
        "APP_TITLE": "Shop: #1 & more",
        "FEATURE_FLAG": "true",
        "LOG_LEVEL": "debug",
        "SMTP_PASSWORD": "@start",
        "WORKERS": "4",
    }
    assert backend["envFrom"][0] == {"configMapRef": {"name": BACKEND}}


def test_frontend_proxies_to_the_backend_service(default_manifests: Manifests) -> None:
    frontend = container(default_manifests.get("Deployment", FRONTEND), "frontend")

    assert env_entries(frontend)["BACKEND_URL"] == {
        "name": "BACKEND_URL",
        "value": "http://rel-fullstack-backend:8080",
    }


def test_autoscaling_replaces_replicas(render, default_manifests) -> None:
    manifests = render(
        {
            "backend": {
                "autoscaling": {
                    "enabled": True,
                    "minReplicas": 2,
                    "maxReplicas": 6,
                    "targetMemoryUtilizationPercentage": 75,
                    "behavior": {"scaleDown": {"stabilizationWindowSeconds": 600}},
                },
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
            }
        }
    )
    hpa = manifests.get("HorizontalPodAutoscaler", BACKEND)

    assert default_manifests.of_kind("HorizontalPodAutoscaler") == []
    assert "replicas" not in manifests.get("Deployment", BACKEND)["spec"]
    assert default_manifests.get("Deployment", BACKEND)["spec"]["replicas"] == 1
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": BACKEND,
    }
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu", "memory"]
    assert hpa["spec"]["minReplicas"] == 2
    assert hpa["spec"]["maxReplicas"] == 6
    assert hpa["spec"]["behavior"] == {"scaleDown": {"stabilizationWindowSeconds": 600}}


@pytest.mark.parametrize(
    ("pdb", "expected"),
    [
        ({"enabled": True}, {"maxUnavailable": 1}),
        (
            {"enabled": True, "minAvailable": "50%", "maxUnavailable": ""},
            {"minAvailable": "50%"},
        ),
        (
            {"enabled": True, "minAvailable": 1, "maxUnavailable": ""},
            {"minAvailable": 1},
        ),
    ],
)
def test_pod_disruption_budget(render, pdb: dict, expected: dict) -> None:
    budget = render({"frontend": {"podDisruptionBudget": pdb}}).get(
        "PodDisruptionBudget", FRONTEND
    )

    assert {k: v for k, v in budget["spec"].items() if k != "selector"} == expected
    assert (
        budget["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        == "frontend"
    )


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        (
            {},
            {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
        ),
        ({"type": "Recreate"}, {"type": "Recreate"}),
        (
            {"rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
        ),
    ],
    ids=["default", "recreate", "percent"],
)
def test_update_strategy(render, strategy: dict, expected: dict) -> None:
    deployment = render({"backend": {"updateStrategy": strategy}}).get(
        "Deployment", BACKEND
    )

    assert deployment["spec"]["strategy"] == expected


def test_service_account_settings(render) -> None:
    manifests = render(
        {
            "frontend": {"serviceAccount": {"create": False, "name": "shared"}},
            "backend": {
                "serviceAccount": {"annotations": {"iam.example.test/role": "api"}}
            },
        }
    )

    assert manifests.names("ServiceAccount") == [BACKEND]
    assert (
        pod_spec(manifests.get("Deployment", FRONTEND))["serviceAccountName"]
        == "shared"
    )
    account = manifests.get("ServiceAccount", BACKEND)
    assert account["metadata"]["annotations"] == {"iam.example.test/role": "api"}


@pytest.mark.parametrize(
    "component", ["frontend", "backend", "postgresql", "backup", "tests"]
)
def test_components_can_be_disabled(render, component: str) -> None:
    values = {component: {"enabled": False}}
    if component == "frontend":
        values["ingress"] = {
            "hosts": [
                {
                    "host": "",
                    "paths": [
                        {"path": "/api", "pathType": "Prefix", "service": "backend"}
                    ],
                }
            ]
        }
    if component == "backend":
        values["frontend"] = {"backendUrl": "http://api.example.test/"}
        values["ingress"] = {
            "hosts": [
                {
                    "host": "",
                    "paths": [
                        {"path": "/", "pathType": "Prefix", "service": "frontend"}
                    ],
                }
            ]
        }
    if component == "postgresql":
        values["externalDatabase"] = {"host": "db", "existingSecret": "db"}
    manifests = render(values)
    rendered = " ".join(f"{kind}/{name}" for kind, name in manifests.kinds())

    label = {"tests": "test-"}.get(component, f"-{component}")
    assert label not in rendered
    if component == "backend":
        frontend = container(manifests.get("Deployment", FRONTEND), "frontend")
        assert (
            env_entries(frontend)["BACKEND_URL"]["value"] == "http://api.example.test"
        )


def test_extra_objects_are_templated(render) -> None:
    manifests = render(
        {
            "extraObjects": [
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "{{ .Release.Name }}-extra"},
                    "data": {"fullname": '{{ include "fullstack.fullname" . }}'},
                },
                "apiVersion: v1\nkind: Secret\n"
                "metadata:\n  name: '{{ .Release.Name }}-s'\n",
            ]
        }
    )

    assert manifests.get("ConfigMap", "rel-extra")["data"] == {
        "fullname": "rel-fullstack"
    }
    assert manifests.get("Secret", "rel-s")["kind"] == "Secret"
