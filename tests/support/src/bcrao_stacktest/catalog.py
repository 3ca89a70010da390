"""The three services as deployments see them: settings class, variable prefix, module, port.

One list for the deployment checks (tests/test_compose.py, tests/test_k8s.py) and the generated
configuration reference (scripts/gen_config_reference.py), so a setting added to a Settings class
shows up in all of them, and a deployment file naming a setting that does not exist fails.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

if TYPE_CHECKING:
    from pydantic_settings import BaseSettings


@dataclass(frozen=True)
class ServiceInfo:
    name: str  # compose service, Kubernetes Deployment and Dockerfile target
    settings_path: str  # "module:Class"
    prefix: str
    module: str  # python -m <module>
    port: int

    @property
    def settings(self) -> type[BaseSettings]:
        module, _, cls = self.settings_path.partition(":")
        loaded: type[BaseSettings] = getattr(importlib.import_module(module), cls)
        return loaded


SERVICES = (
    ServiceInfo(
        "draft-store",
        "bcrao_draft_store.config:Settings",
        "DRAFT_STORE_",
        "bcrao_draft_store",
        8001,
    ),
    ServiceInfo(
        "generator", "bcrao_generator.config:Settings", "GENERATOR_", "bcrao_generator", 8002
    ),
    ServiceInfo("api-gateway", "bcrao_gateway.config:Settings", "GATEWAY_", "bcrao_gateway", 8000),
)
BY_NAME = {s.name: s for s in SERVICES}
NESTED_DELIMITER = "__"  # pydantic-settings' env_nested_delimiter (the gateway's stream settings)


@dataclass(frozen=True)
class EnvVar:
    name: str
    field: FieldInfo
    annotation: Any

    @property
    def required(self) -> bool:
        return self.field.is_required()

    @property
    def secret(self) -> bool:
        return _mentions(self.annotation, SecretStr)

    @property
    def default(self) -> Any:
        if self.field.default_factory is not None:
            return self.field.default_factory()  # type: ignore[call-arg]
        return None if self.field.default is PydanticUndefined else self.field.default


def env_vars(settings: type[BaseModel], prefix: str) -> list[EnvVar]:
    """Every variable a settings class reads, nested models flattened with `__`, in order."""
    found: list[EnvVar] = []
    for name, field in settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += env_vars(annotation, f"{prefix}{name.upper()}{NESTED_DELIMITER}")
        else:
            found.append(EnvVar(prefix + name.upper(), field, annotation))
    return found


def _mentions(annotation: Any, target: type) -> bool:
    if annotation is target:
        return True
    return any(_mentions(arg, target) for arg in getattr(annotation, "__args__", ()))
