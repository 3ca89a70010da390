"""deploy/k8s offline: every manifest against the Kubernetes schemas (kubernetes-validate), the
Strimzi resources against the fields their CRDs require, and the workloads against the settings
classes, the Dockerfile and the topic table."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import kubernetes_validate.utils as kv
import pytest
import yaml
from bcrao_platform import topics
from bcrao_stacktest.catalog import BY_NAME, SERVICES, ServiceInfo, env_vars

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy/k8s"
STRIMZI = "kafka.strimzi.io/v1"
MONITORING = "monitoring.coreos.com/v1"  # the Prometheus Operator's kinds (deploy/k8s/monitoring)
SECRET = "bcrao-secrets"
UID = 10001  # the Dockerfile's runtime user
CONSUMER_GROUPS = {"draft-store", "generator"}  # bounded by partitions; gateways are not


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


MANIFESTS = sorted(p for p in K8S.rglob("*.yaml") if p.name != "kustomization.yaml")
ALL = [(p, d) for p in MANIFESTS for d in documents(p)]


def find(kind: str, name: str | None = None) -> list[dict[str, Any]]:
    return [d for _, d in ALL if d["kind"] == kind and name in (None, d["metadata"]["name"])]


def one(kind: str, name: str) -> dict[str, Any]:
    [found] = find(kind, name)
    return found


def container(service: ServiceInfo) -> dict[str, Any]:
    [main] = one("Deployment", service.name)["spec"]["template"]["spec"]["containers"]
    return main


def config(service: ServiceInfo) -> dict[str, str]:
    [source] = container(service)["envFrom"]
    return one("ConfigMap", source["configMapRef"]["name"])["data"]


@pytest.mark.parametrize(
    ("path", "doc"),
    [(p, d) for p, d in ALL if d["apiVersion"] not in (STRIMZI, MONITORING)],
    ids=lambda v: v.name if isinstance(v, Path) else "",
)
def test_every_manifest_is_valid(path: Path, doc: dict[str, Any]) -> None:
    # Strimzi's kinds are not in kubernetes-validate's schemas: test_strimzi_* check them.
    kv.validate(doc, kv.latest_version(), strict=True)  # raises ValidationError


@pytest.mark.skipif(
    not os.environ.get("STRIMZI_CRDS"),
    reason="STRIMZI_CRDS (a folder of Strimzi's CRD files, e.g. packaging/install/"
    "cluster-operator of strimzi-kafka-operator) not set; the structural checks below still run",
)
def test_strimzi_resources_match_the_crd_schemas() -> None:
    import jsonschema

    schemas = {}
    for path in Path(os.environ["STRIMZI_CRDS"]).glob("*Crd*.yaml"):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            api = f"{crd['spec']['group']}/{version['name']}"
            schemas[(api, crd["spec"]["names"]["kind"])] = version["schema"]["openAPIV3Schema"]
    strimzi = [d for _, d in ALL if d["apiVersion"] == STRIMZI]
    assert strimzi
    for doc in strimzi:
        jsonschema.validate(doc, schemas[(doc["apiVersion"], doc["kind"])])


def test_kustomizations_list_every_manifest_and_nothing_else() -> None:
    listed: set[Path] = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        for entry in yaml.safe_load(kustomization.read_text())["resources"]:
            target = (kustomization.parent / entry).resolve()
            assert target.exists(), f"{kustomization}: {entry}"
            if target.is_file():
                listed.add(target)
    assert listed == {p.resolve() for p in MANIFESTS}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl (kustomize) not installed")
@pytest.mark.parametrize("overlay", ["", "managed"])
def test_kustomize_renders_valid_manifests(overlay: str) -> None:
    rendered = subprocess.run(
        ["kubectl", "kustomize", str(K8S / overlay)], capture_output=True, text=True, check=True
    ).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    for doc in docs:
        if doc["kind"] != "Namespace":
            assert doc["metadata"]["namespace"] == "bcrao", doc["metadata"]["name"]
        if doc["apiVersion"] != STRIMZI:
            kv.validate(doc, kv.latest_version(), strict=True)
    kinds = {d["kind"] for d in docs}
    assert {
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
        "Job",
    } <= kinds
    assert ("Kafka" in kinds) == (overlay == "")


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_workload_image_port_and_probes(service: ServiceInfo) -> None:
    main = container(service)
    assert main["image"] == f"bcrao/{service.name}"
    dockerfile = (ROOT / "deploy/docker/Dockerfile").read_text()
    assert f" AS {service.name}\n" in dockerfile
    [port] = main["ports"]
    assert (port["name"], port["containerPort"]) == ("http", service.port)
    assert config(service)[f"{service.prefix}PORT"] == str(service.port)
    assert config(service)[f"{service.prefix}HOST"] == "0.0.0.0"
    for probe, path in [
        ("startupProbe", "/healthz"),
        ("livenessProbe", "/healthz"),
        ("readinessProbe", "/readyz"),
    ]:
        assert main[probe]["httpGet"] == {"path": path, "port": "http"}, probe
    assert set(main["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(main["resources"]["requests"])
    assert "memory" in main["resources"]["limits"]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_workload_runs_as_the_restricted_profile_wants(service: ServiceInfo) -> None:
    pod = one("Deployment", service.name)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == UID
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod["automountServiceAccountToken"] is False
    security = container(service)["securityContext"]
    assert security == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert f"USER {UID}:{UID}" in (ROOT / "deploy/docker/Dockerfile").read_text()


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_environment_is_made_of_valid_settings(
    service: ServiceInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    variables = {v.name: v for v in env_vars(service.settings, service.prefix)}
    plain = config(service)
    secret_refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container(service)["env"]}
    assert set(plain) | set(secret_refs) <= set(variables)
    assert not set(plain) & set(secret_refs)
    for name, ref in secret_refs.items():
        assert ref["name"] == SECRET
        assert variables[name].secret or name.endswith("DATABASE_URL"), f"{name} is no secret"
    for var in variables.values():
        if var.secret:
            assert var.name not in plain, f"{var.name} must come from the Secret"
        if var.required:
            assert var.name in plain or var.name in secret_refs, f"{var.name} is required"
    for key in list(os.environ):
        if key.startswith(service.prefix):
            monkeypatch.delenv(key)
    for key, value in plain.items():
        monkeypatch.setenv(key, value)
    for name, ref in secret_refs.items():
        if not ref.get("optional"):
            stand_in = (
                "postgresql://u:p@db:5432/bcrao" if ref["key"] == "database-url" else "x" * 64
            )
            monkeypatch.setenv(name, stand_in)
    settings = service.settings()  # raises when a value does not validate
    assert settings.port == service.port


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_service_budget_and_autoscaler_select_the_workload(service: ServiceInfo) -> None:
    deployment = one("Deployment", service.name)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    svc = one("Service", service.name)
    assert svc["spec"]["selector"].items() <= labels.items()
    assert svc["spec"]["ports"] == [
        {"name": "http", "port": service.port, "targetPort": "http", "protocol": "TCP"}
    ]
    pdb = one("PodDisruptionBudget", service.name)
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    hpa = one("HorizontalPodAutoscaler", service.name)
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": service.name,
    }
    # A drain can always evict one pod without breaking the budget.
    assert hpa["spec"]["minReplicas"] > pdb["spec"]["minAvailable"]
    if service.name in CONSUMER_GROUPS:
        assert hpa["spec"]["maxReplicas"] <= topics.DEFAULT_PARTITIONS


def test_services_reach_kafka_and_each_other() -> None:
    kafka = one("Kafka", "bcrao")
    [listener] = kafka["spec"]["kafka"]["listeners"]
    bootstrap = f"{kafka['metadata']['name']}-kafka-bootstrap:{listener['port']}"
    for service in SERVICES:
        assert config(service)[f"{service.prefix}KAFKA_BOOTSTRAP_SERVERS"] == bootstrap
    store = BY_NAME["draft-store"]
    assert config(BY_NAME["api-gateway"])["GATEWAY_DRAFT_STORE_URL"] == (
        f"http://{one('Service', store.name)['metadata']['name']}:{store.port}"
    )
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["key"]
        for s in SERVICES
        for e in container(s)["env"]
    }
    assert refs["GATEWAY_DRAFT_STORE_TOKEN"] == refs["DRAFT_STORE_SERVICE_TOKEN"]


def test_only_the_migration_job_migrates() -> None:
    assert config(BY_NAME["draft-store"])["DRAFT_STORE_MIGRATE_ON_START"] == "false"
    job = one("Job", "draft-store-migrate")["spec"]["template"]["spec"]
    [migrate] = job["containers"]
    assert migrate["image"] == "bcrao/draft-store"
    assert migrate["command"] == ["python", "-m", "bcrao_draft_store.cli", "migrate"]
    assert migrate["env"] == [
        {
            "name": "DRAFT_STORE_DATABASE_URL",
            "valueFrom": {"secretKeyRef": {"name": SECRET, "key": "database-url"}},
        }
    ]
    assert job["securityContext"]["runAsNonRoot"] is True


def test_the_managed_topics_job_runs_the_provisioning_command() -> None:
    [job] = one("Job", "kafka-topics")["spec"]["template"]["spec"]["containers"]
    assert job["image"] == "bcrao/topics"
    args = topics._parser().parse_args(job["args"])
    assert (args.command, args.partitions) == ("ensure", topics.DEFAULT_PARTITIONS)


def test_strimzi_kafka_is_kraft_with_node_pools() -> None:
    kafka = one("Kafka", "bcrao")
    assert kafka["apiVersion"] == STRIMZI
    for listener in kafka["spec"]["kafka"]["listeners"]:  # required by the CRD
        assert {"name", "port", "type", "tls"} <= set(listener)
    assert kafka["spec"]["entityOperator"]["topicOperator"] is not None  # reconciles KafkaTopics
    assert kafka["spec"]["kafka"]["config"]["auto.create.topics.enable"] is False
    pools = find("KafkaNodePool")
    assert pools
    for pool in pools:
        assert pool["metadata"]["labels"]["strimzi.io/cluster"] == "bcrao"
        assert {"replicas", "storage", "roles"} <= set(pool["spec"])
        assert set(pool["spec"]["roles"]) <= {"controller", "broker"}
        assert pool["spec"]["storage"]["type"] in {"ephemeral", "persistent-claim", "jbod"}
    roles = {r for p in pools for r in p["spec"]["roles"]}
    assert roles == {"controller", "broker"}, "KRaft: controllers and brokers, no ZooKeeper"
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    min_isr = kafka["spec"]["kafka"]["config"]["min.insync.replicas"]
    assert brokers > min_isr, "one broker may be down without refusing acks=all writes"


def test_strimzi_topics_are_the_topic_table() -> None:
    rendered = subprocess.run(
        [sys.executable, str(ROOT / "scripts/gen_strimzi_topics.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert rendered.returncode == 0, rendered.stderr
    brokers = sum(p["spec"]["replicas"] for p in find("KafkaNodePool"))
    declared = {}
    for topic in find("KafkaTopic"):
        assert topic["apiVersion"] == STRIMZI
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "bcrao"
        assert 1 <= topic["spec"]["replicas"] <= brokers
        declared[topic["spec"]["topicName"]] = (
            topic["spec"]["partitions"],
            topic["spec"]["config"]["retention.ms"],
        )
    assert declared == {s.name: (s.partitions, s.retention_ms) for s in topics.topic_specs()}


def test_compose_and_kubernetes_run_the_same_images() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    for service in SERVICES:
        repository = compose[service.name]["image"].rsplit(":", 1)[0]
        assert container(service)["image"] == repository


def test_every_secret_key_is_documented() -> None:
    operations = (ROOT / "docs/OPERATIONS.md").read_text()
    keys = {
        e["valueFrom"]["secretKeyRef"]["key"]
        for _, doc in ALL
        if doc["kind"] in {"Deployment", "Job"}
        for c in doc["spec"]["template"]["spec"]["containers"]
        for e in c.get("env", [])
    }
    for key in keys:
        assert f"--from-literal={key}=" in operations, key


def test_prometheus_scrapes_every_service_with_the_token_the_services_get() -> None:
    [monitor] = find("PodMonitor")
    [selector] = monitor["spec"]["selector"]["matchExpressions"]
    assert (selector["key"], selector["operator"]) == ("app.kubernetes.io/name", "In")
    assert set(selector["values"]) == {s.name for s in SERVICES}
    [endpoint] = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"]) == ("http", "/metrics")
    credentials = endpoint["authorization"]["credentials"]
    for service in SERVICES:
        assert {p["name"] for p in container(service)["ports"]} >= {"http"}
        env = {e["name"]: e for e in container(service).get("env", [])}
        [token] = [e for name, e in env.items() if name.endswith("_METRICS_TOKEN")]
        given = token["valueFrom"]["secretKeyRef"]
        assert (given["name"], given["key"]) == (credentials["name"], credentials["key"])
    operations = (ROOT / "docs/OPERATIONS.md").read_text()
    assert f"/{credentials['name']}/{credentials['key']}" in operations  # the plain scrape config


def test_the_generator_gets_its_shutdown_grace_before_it_is_killed() -> None:
    generator = BY_NAME["generator"]
    pod = one("Deployment", generator.name)["spec"]["template"]["spec"]
    grace = config(generator).get(
        "GENERATOR_SHUTDOWN_GRACE_SECONDS",
        generator.settings.model_fields["shutdown_grace_seconds"].default,
    )
    assert pod["terminationGracePeriodSeconds"] > float(grace)
