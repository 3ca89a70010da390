"""docker-compose.yml cannot run here (no Docker engine); check what can be checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from bcrao_draft_store.config import Settings as DraftStoreSettings
from bcrao_gateway.config import Settings as GatewaySettings
from bcrao_gateway.streaming.settings import StreamSettings
from bcrao_generator.config import Settings as GeneratorSettings
from pydantic_settings import BaseSettings

ROOT = Path(__file__).resolve().parent.parent
SETTINGS: dict[str, tuple[type[BaseSettings], str]] = {
    "draft-store": (DraftStoreSettings, "DRAFT_STORE_"),
    "migrate": (DraftStoreSettings, "DRAFT_STORE_"),
    "generator": (GeneratorSettings, "GENERATOR_"),
    "api-gateway": (GatewaySettings, "GATEWAY_"),
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_is_declared(compose: dict[str, Any]) -> None:
    assert set(SETTINGS) | {"kafka", "kafka-topics", "postgres"} == set(compose["services"])


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_service_env_names_are_settings_fields(compose: dict[str, Any], name: str) -> None:
    settings, prefix = SETTINGS[name]
    env = compose["services"][name]["environment"]
    fields = {f.upper() for f in settings.model_fields}
    for key in env:
        assert key.startswith(prefix), key
        assert key.removeprefix(prefix) in fields, f"{name}: {key} is not a setting"


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_required_settings_are_provided(compose: dict[str, Any], name: str) -> None:
    settings, prefix = SETTINGS[name]
    env = compose["services"][name]["environment"]
    required = {f"{prefix}{n.upper()}" for n, f in settings.model_fields.items() if f.is_required()}
    assert required <= set(env), required - set(env)


def test_images_are_built_from_the_one_dockerfile(compose: dict[str, Any]) -> None:
    dockerfile = ROOT / "deploy/docker/Dockerfile"
    assert dockerfile.exists()
    for name in SETTINGS:
        build = compose["services"][name]["build"]
        assert build["dockerfile"] == "deploy/docker/Dockerfile"
        assert build["args"]["PACKAGE"].startswith("bcrao-")


def test_env_example_lists_every_setting() -> None:
    example = (ROOT / ".env.example").read_text()
    for settings, prefix in SETTINGS.values():
        for field in settings.model_fields:
            if field == "stream":
                continue
            assert f"{prefix}{field.upper()}" in example, f"{prefix}{field.upper()} missing"
    for field in StreamSettings.model_fields:
        assert f"GATEWAY_STREAM__{field.upper()}" in example, f"stream setting {field} missing"
