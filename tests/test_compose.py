"""docker-compose.yml and the Dockerfile cannot run here (no Docker engine): check what can be.

Every variable compose sets must be a real setting that validates; required settings must be
given; ports, health checks and service URLs must agree with each other and with the settings;
each image must come from its own target of the one Dockerfile.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from bcrao_platform import topics
from bcrao_stacktest.catalog import BY_NAME, SERVICES, ServiceInfo, env_vars

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "deploy/docker/Dockerfile"
JOBS = ("kafka-topics", "migrate")
# Stand-ins for the ${VAR:?…} secrets compose asks the operator for, long enough to validate.
OPERATOR_ENV = {"BCRAO_SERVICE_TOKEN": "s" * 40, "BCRAO_JWT_SECRET": "j" * 64}


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?error} (the forms this file uses)."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if name in env and env[name] != "":
            return env[name]
        if op == ":?":
            raise KeyError(f"{name}: {arg}")
        return arg if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def environment(compose: dict[str, Any], name: str) -> dict[str, str]:
    raw = compose["services"][name].get("environment", {})
    return {k: interpolate(str(v), OPERATOR_ENV) for k, v in raw.items()}


def dockerfile_stages() -> dict[str, list[str]]:
    """Instructions per `FROM … AS name` stage (continuation lines joined)."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    stages: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if match := re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.IGNORECASE):
            current = stages.setdefault(match.group(2) or match.group(1), [])
        current.append(line)
    return stages


def test_every_service_is_declared(compose: dict[str, Any]) -> None:
    expected = {s.name for s in SERVICES} | set(JOBS) | {"kafka", "postgres"}
    assert set(compose["services"]) == expected


@pytest.mark.parametrize("name", [*BY_NAME, *JOBS])
def test_images_are_targets_of_the_one_dockerfile(compose: dict[str, Any], name: str) -> None:
    build = compose["services"][name]["build"]
    assert build["dockerfile"] == "deploy/docker/Dockerfile"
    assert build["context"] == "."
    assert build["target"] in dockerfile_stages()
    if name in BY_NAME:
        assert build["target"] == name


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_each_target_runs_its_service_unprivileged(service: ServiceInfo) -> None:
    stages = dockerfile_stages()
    target = stages[service.name]
    base = target[0].split()[1]
    assert base == "runtime", "service targets build on the slim non-root runtime stage"
    assert f'CMD ["python", "-m", "{service.module}"]' in target
    assert f"EXPOSE {service.port}" in target
    runtime = stages["runtime"]
    assert runtime[0].split()[1] == "${PYTHON_IMAGE}"
    assert "ARG PYTHON_IMAGE=python:3.11-slim" in DOCKERFILE.read_text()
    [user] = [line for line in runtime if line.startswith("USER ")]
    uid = user.split()[1].split(":")[0]
    assert uid.isdigit(), "a numeric uid, so runAsNonRoot can check it"
    assert int(uid) > 0


def test_dependencies_are_installed_before_the_sources_are_copied() -> None:
    stages = dockerfile_stages()
    workspace = " ".join(stages["workspace"])
    members = sorted(p.parent.relative_to(ROOT) for p in ROOT.glob("*/*/pyproject.toml"))
    for member in members:
        assert f"COPY {member}/pyproject.toml {member}/" in workspace, member
    assert "COPY pyproject.toml uv.lock ./" in workspace
    for name in [*BY_NAME, "topics"]:
        deps, build = " ".join(stages[f"deps-{name}"]), stages[f"build-{name}"]
        assert "--no-install-workspace" in deps
        assert "COPY" not in deps.split("RUN")[1]
        copies = [i for i, line in enumerate(build) if line.startswith("COPY")]
        sync = next(i for i, line in enumerate(build) if "uv sync" in line)
        assert copies
        assert max(copies) < sync
    for line in DOCKERFILE.read_text().splitlines():
        if "uv sync" in line:
            assert "--frozen" in line, line
            assert "--no-dev" in line, line


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_service_environment_is_made_of_valid_settings(
    compose: dict[str, Any], service: ServiceInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = environment(compose, service.name)
    known = {v.name for v in env_vars(service.settings, service.prefix)}
    assert set(env) <= known, f"not settings of {service.name}: {set(env) - known}"
    required = {v.name for v in env_vars(service.settings, service.prefix) if v.required}
    assert required <= set(env), f"{service.name} lacks {required - set(env)}"
    for key in list(os.environ):
        if key.startswith(service.prefix):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = service.settings()  # raises when a value does not validate
    assert settings.host == "0.0.0.0", "other containers must reach it"
    assert settings.port == service.port


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.name)
def test_health_checks_ask_readiness_on_the_service_port(
    compose: dict[str, Any], service: ServiceInfo
) -> None:
    check = compose["services"][service.name]["healthcheck"]["test"]
    [url] = re.findall(r"https?://[^'\" ]+", " ".join(check))
    assert url == f"http://127.0.0.1:{service.port}/readyz"
    assert check[:3] == ["CMD", "python", "-c"], "the slim image has python, not curl"


def test_dependencies_wait_for_health_or_completion(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, spec in services.items():
        for dependency, condition in spec.get("depends_on", {}).items():
            wanted = "service_completed_successfully" if dependency in JOBS else "service_healthy"
            assert condition == {"condition": wanted}, f"{name} -> {dependency}"
            if wanted == "service_healthy":
                assert "healthcheck" in services[dependency], dependency
    for name in (*BY_NAME, "migrate"):
        uses_kafka = name != "migrate"
        assert ("kafka-topics" in services[name].get("depends_on", {})) == uses_kafka, name
    assert "migrate" in services["draft-store"]["depends_on"]


def test_only_the_migration_job_migrates(compose: dict[str, Any]) -> None:
    draft_store = BY_NAME["draft-store"].settings
    env = environment(compose, "draft-store")
    assert draft_store.model_fields["migrate_on_start"].default is True
    assert env["DRAFT_STORE_MIGRATE_ON_START"] == "false"
    migrating = [n for n, s in compose["services"].items() if "migrate" in s.get("command", [])]
    assert migrating == ["migrate"]
    assert compose["services"]["migrate"]["command"][:3] == [
        "python",
        "-m",
        "bcrao_draft_store.cli",
    ]
    job_env = environment(compose, "migrate")
    assert job_env["DRAFT_STORE_DATABASE_URL"] == env["DRAFT_STORE_DATABASE_URL"]


def test_the_provisioning_job_runs_the_topics_command(compose: dict[str, Any]) -> None:
    job = compose["services"]["kafka-topics"]
    assert (
        'ENTRYPOINT ["python", "-m", "bcrao_platform.topics"]'
        in dockerfile_stages()[job["build"]["target"]]
    )
    args = topics._parser().parse_args(job["command"])  # the real command line accepts them
    assert args.command == "ensure"
    assert args.partitions == topics.DEFAULT_PARTITIONS
    assert args.bootstrap == kafka_listener(compose)


def kafka_listener(compose: dict[str, Any]) -> str:
    advertised = compose["services"]["kafka"]["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    return advertised.removeprefix("PLAINTEXT://")


def test_services_point_at_each_other(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for service in SERVICES:
        env = environment(compose, service.name)
        assert env[f"{service.prefix}KAFKA_BOOTSTRAP_SERVERS"] == kafka_listener(compose)
    store_url = urlsplit(environment(compose, "api-gateway")["GATEWAY_DRAFT_STORE_URL"])
    assert (store_url.hostname, store_url.port) == ("draft-store", BY_NAME["draft-store"].port)
    db = urlsplit(environment(compose, "draft-store")["DRAFT_STORE_DATABASE_URL"])
    pg = services["postgres"]["environment"]
    assert (db.hostname, db.username, db.password, db.path) == (
        "postgres",
        pg["POSTGRES_USER"],
        pg["POSTGRES_PASSWORD"],
        "/" + pg["POSTGRES_DB"],
    )
    store_token = environment(compose, "draft-store")["DRAFT_STORE_SERVICE_TOKEN"]
    assert environment(compose, "api-gateway")["GATEWAY_DRAFT_STORE_TOKEN"] == store_token


def test_the_ui_is_published_on_the_gateway(compose: dict[str, Any]) -> None:
    gateway = BY_NAME["api-gateway"]
    [mapping] = compose["services"]["api-gateway"]["ports"]
    host, host_port, container_port = mapping.split(":")
    assert (host, int(container_port)) == ("127.0.0.1", gateway.port)
    public = environment(compose, "api-gateway")["GATEWAY_PUBLIC_BASE_URL"]
    assert public == f"http://127.0.0.1:{host_port}"
    published = {n for n, s in compose["services"].items() if s.get("ports")}
    assert published == {"api-gateway"}, "only the gateway is public"


def test_secrets_come_from_the_operator(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        raw = compose["services"][service.name]["environment"]
        for var in env_vars(service.settings, service.prefix):
            if var.secret and var.required:
                assert re.fullmatch(r"\$\{\w+:\?[^}]+\}", raw[var.name]), var.name
    with pytest.raises(KeyError, match="BCRAO_JWT_SECRET"):
        interpolate(compose["services"]["api-gateway"]["environment"]["GATEWAY_JWT_SECRET"], {})


def test_env_example_lists_every_setting() -> None:
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    for service in SERVICES:
        names = {v.name for v in env_vars(service.settings, service.prefix)}
        assert names <= listed, f"{service.name}: missing {sorted(names - listed)}"
        stray = {n for n in listed if n.startswith(service.prefix)} - names
        assert not stray, f".env.example names settings that do not exist: {sorted(stray)}"


def test_health_check_commands_are_valid_python(compose: dict[str, Any]) -> None:
    for service in SERVICES:
        code = compose["services"][service.name]["healthcheck"]["test"][3]
        compile(code, f"{service.name} healthcheck", "exec")


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = (ROOT / "deploy/docker/Dockerfile.dockerignore").read_text().splitlines()
    for path in (".venv", ".state", ".git", ".env"):
        assert path in ignored, path


@pytest.mark.skipif(shutil.which("uv") is None, reason="no uv on PATH to compare with")
def test_the_image_uv_reads_the_lockfile_this_uv_writes() -> None:
    pinned = re.search(r"ARG UV_IMAGE=ghcr.io/astral-sh/uv:(\d+)\.(\d+)", DOCKERFILE.read_text())
    assert pinned, "pin uv's minor version"
    local = re.search(
        r"uv (\d+)\.(\d+)",
        subprocess.run(["uv", "--version"], capture_output=True, text=True, check=True).stdout,
    )
    assert local
    image_uv = (int(pinned.group(1)), int(pinned.group(2)))
    local_uv = (int(local.group(1)), int(local.group(2)))
    assert image_uv >= local_uv, "uv.lock may use a format the image's uv cannot read"
