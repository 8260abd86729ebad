"""The Kubernetes manifests: rendered by kustomize (kubectl), validated against Kubernetes' schemas.

kubernetes-validate checks the rendered objects strictly (unknown fields are errors); the
tests below then pin what the issue asks of them, and tie them to deploy/config/app.yaml
(the ConfigMap is that file; the grace periods outlast its drain).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import DEPLOY, ok, run

K8S = DEPLOY / "k8s"
APP_YAML = DEPLOY / "config" / "app.yaml"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = ok(run("kubectl", "kustomize", K8S))
    path = tmp_path_factory.mktemp("k8s") / "rendered.yaml"
    path.write_text(output)
    return path


@pytest.fixture(scope="module")
def objects(rendered: Path) -> dict[tuple[str, str], dict[str, Any]]:
    docs = [doc for doc in yaml.safe_load_all(rendered.read_text()) if doc]
    # The ConfigMap's name carries a hash of its content (muster-config-<hash>).
    return {(doc["kind"], _unhashed(doc)): doc for doc in docs}


def _unhashed(doc: dict[str, Any]) -> str:
    name: str = doc["metadata"]["name"]
    return name.rsplit("-", 1)[0] if doc["kind"] == "ConfigMap" else name


def test_kubernetes_validate_strict(rendered: Path, objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    output = ok(run("kubernetes-validate", "--strict", rendered, K8S / "secret.template.yaml"))
    assert "ERROR" not in output and output.count(" passed ") == len(objects) + 1  # and the Secret


def test_kubernetes_validate_rejects_an_unknown_field(rendered: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(rendered.read_text().replace("livenessProbe:", "livenesProbe:"))
    result = run("kubernetes-validate", "--strict", broken)
    assert result.returncode != 0 and "livenesProbe" in result.stdout + result.stderr


def test_the_objects_the_issue_asks_for(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    assert set(objects) == {
        ("Namespace", "muster"),
        ("ServiceAccount", "muster"),
        ("ConfigMap", "muster-config"),
        ("Service", "muster-api"),
        ("Deployment", "muster-api"),
        ("Deployment", "muster-worker"),
        ("HorizontalPodAutoscaler", "muster-api"),
        ("HorizontalPodAutoscaler", "muster-worker"),
        ("PodDisruptionBudget", "muster-api"),
        ("PodDisruptionBudget", "muster-worker"),
        ("Job", "muster-migrate"),
    }
    assert {doc["metadata"].get("namespace") for kind, doc in objects.items() if kind[0] != "Namespace"} == {
        "muster"
    }


def test_the_configmap_is_app_yaml_and_every_pod_mounts_it(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    configmap = objects["ConfigMap", "muster-config"]
    assert configmap["data"] == {"app.yaml": APP_YAML.read_text()}
    for kind, name in (
        ("Deployment", "muster-api"),
        ("Deployment", "muster-worker"),
        ("Job", "muster-migrate"),
    ):
        pod = objects[kind, name]["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert volumes["config"]["configMap"]["name"] == configmap["metadata"]["name"]  # the hashed name
        (container,) = pod["containers"]
        assert {"name": "config", "mountPath": "/etc/muster", "readOnly": True} in container["volumeMounts"]
        assert {"name": "MUSTER_CONFIG", "value": "/etc/muster/app.yaml"} in container["env"]
        assert container["envFrom"] == [{"secretRef": {"name": "muster-secrets"}}]


def test_pods_are_non_root_read_only_and_limited(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    for kind, name in (
        ("Deployment", "muster-api"),
        ("Deployment", "muster-worker"),
        ("Job", "muster-migrate"),
    ):
        pod = objects[kind, name]["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] != 0
        assert pod["automountServiceAccountToken"] is False
        (container,) = pod["containers"]
        security = container["securityContext"]
        assert security["readOnlyRootFilesystem"] is True and security["allowPrivilegeEscalation"] is False
        assert security["capabilities"]["drop"] == ["ALL"]
        assert set(container["resources"]) == {"requests", "limits"}
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]


def test_probes_and_grace_outlast_the_drain(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    drain = yaml.safe_load(APP_YAML.read_text())["server"]["drain_seconds"]
    api = objects["Deployment", "muster-api"]["spec"]["template"]["spec"]
    (container,) = api["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/health"
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    # uvicorn's graceful shutdown, then the lifespan's executor drain, each up to drain_seconds.
    assert api["terminationGracePeriodSeconds"] > 2 * drain
    worker = objects["Deployment", "muster-worker"]["spec"]["template"]["spec"]
    (container,) = worker["containers"]
    metrics_port = yaml.safe_load(APP_YAML.read_text())["monitoring"]["metrics_port"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/metrics", "port": "metrics"}
    assert {"name": "metrics", "containerPort": metrics_port} in container["ports"]
    assert worker["terminationGracePeriodSeconds"] > drain
    annotations = objects["Deployment", "muster-worker"]["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == str(metrics_port)


def test_autoscaling_and_disruption_budget(objects: dict[tuple[str, str], dict[str, Any]]) -> None:
    hpa = objects["HorizontalPodAutoscaler", "muster-api"]["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (3, 10)
    targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in hpa["metrics"]}
    assert targets == {"cpu": 70, "memory": 80}
    assert hpa["scaleTargetRef"]["name"] == "muster-api"
    assert objects["PodDisruptionBudget", "muster-api"]["spec"]["maxUnavailable"] == 1
    job = objects["Job", "muster-migrate"]["spec"]["template"]["spec"]
    assert job["containers"][0]["args"] == ["db", "upgrade"]


def test_the_secret_is_a_template_outside_the_kustomization() -> None:
    secret = yaml.safe_load((K8S / "secret.template.yaml").read_text())
    assert set(secret["stringData"]) == {"OPENAI_API_KEY", "DATABASE_URL", "REDIS_PASSWORD"}
    assert all("REPLACE" in value for value in secret["stringData"].values())
    assert "secret.template.yaml" not in yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"]
