"""Write docs/CONFIGURATION.md: every environment variable of every service, from its Settings.

    python scripts/gen_config_reference.py           # rewrite the file (part of `make docs`)
    python scripts/gen_config_reference.py --check   # exit 1 when the file is stale

Name, type, default and description come from the settings classes themselves: the description
is the field's `description`, else the comment written above the field in the class.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import sys
import types
from enum import Enum
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from bcrao_stacktest.catalog import SERVICES, EnvVar, env_vars
from pydantic import BaseModel, SecretStr

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs/CONFIGURATION.md"
INTRO = """\
# Configuration reference

Every setting of every service is an environment variable with the service's prefix
(`DRAFT_STORE_`, `GENERATOR_`, `GATEWAY_`); nested settings use `__`
(`GATEWAY_STREAM__PING_SECONDS`). Each service reads its variables once at start and exits
with status 2 naming what is wrong (never printing a value). `.env.example` lists them all for
`make up`; `docker-compose.yml` and `deploy/k8s/` set them per deployment (secrets come from the
operator, never from a file in the repository).

Generated from the settings classes by `make docs` (scripts/gen_config_reference.py): do not edit
by hand; `tests/test_config_reference.py` fails when this file and the classes disagree.
"""

# Settings every service has, described once here (a field's own description or comment wins).
COMMON = {
    "host": "Interface the HTTP server binds (0.0.0.0 in a container).",
    "port": "HTTP port of /healthz, /readyz, /metrics and the service's API.",
    "kafka_bootstrap_servers": "Kafka brokers, `host:port[,host:port…]`.",
    "topic_prefix": "Prepended to every topic name (tests and parallel deployments on one broker).",
    "log_level": "Level of the JSON log lines on stderr.",
}

# Settings whose class gives no description yet, keyed by variable. A description added to the
# field wins; an entry naming a variable that no longer exists fails the drift test.
EXTRA = {
    "DRAFT_STORE_DATABASE_URL": "PostgreSQL URL (`postgresql://` or `postgresql+psycopg://`); "
    "holds the password: pass it as a secret.",
    "DRAFT_STORE_SERVICE_TOKEN": "Bearer token the gateway (and the generator) present on the "
    "internal REST; at least 16 characters.",
    "DRAFT_STORE_CONSUMER_GROUP": "Kafka consumer group of the DraftGenerated/GenerationFailed "
    "consumers.",
    "DRAFT_STORE_MIGRATE_ON_START": "Upgrade the schema before serving. `false` where a migration "
    "job runs instead (compose, Kubernetes).",
    "GENERATOR_GROUP_ID": "Kafka consumer group of the GenerateRequested consumer.",
    "GENERATOR_LLM_API_KEY": "OpenAI-compatible API key; unset: the offline composer writes "
    "the drafts.",
    "GENERATOR_LLM_BASE_URL": "OpenAI-compatible endpoint; unset: OpenAI's.",
    "GENERATOR_LLM_MODEL": "Model asked first.",
    "GENERATOR_LLM_FALLBACK_MODEL": "Model asked when the first one keeps failing; unset: none.",
    "GENERATOR_LLM_PRICES": "USD per million tokens, `{model: [input, output]}`, for the cost "
    "recorded with each draft.",
    "GATEWAY_PUBLIC_BASE_URL": "Where browsers reach the gateway; stream URLs are built from it.",
    "GATEWAY_DRAFT_STORE_URL": "Base URL of draft-store's internal REST.",
    "GATEWAY_DRAFT_STORE_TOKEN": "draft-store's service token (DRAFT_STORE_SERVICE_TOKEN).",
    "GATEWAY_JWT_PUBLIC_KEY": "PEM public key verifying user tokens for the RS*/ES* algorithms.",
    "GATEWAY_JWT_ALGORITHM": "Algorithm of user tokens.",
    "GATEWAY_JWT_ISSUER": "Required `iss` claim of user tokens.",
    "GATEWAY_JWT_AUDIENCE": "Required `aud` claim of user tokens.",
    "GATEWAY_STREAM__SHUTDOWN_FAREWELL": "On shutdown, tell each open stream to reconnect "
    "(elsewhere) before closing it.",
}


def type_name(annotation: Any) -> str:
    if annotation is SecretStr:
        return "secret"
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (Union, types.UnionType):
        named = [type_name(a) for a in args if a is not type(None)]
        return " \\| ".join(named) + (" (optional)" if type(None) in args else "")
    if origin is dict or annotation is dict:
        return "JSON object"
    if origin in (list, tuple):
        return "JSON array"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(f"`{m.value}`" for m in annotation)
    return getattr(annotation, "__name__", str(annotation))


def default_text(var: EnvVar) -> str:
    if var.secret:
        return "(secret, required)" if var.required else "(secret, optional)"
    if var.required:
        return "(required)"
    value = var.default
    if value is None:
        return "(unset)"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, dict | list | tuple):
        return f"`{json.dumps(value, separators=(', ', ': '))}`"
    if isinstance(value, Enum):
        value = value.value
    return "(empty)" if value == "" else f"`{value}`"


def bounds(var: EnvVar) -> str:
    words = {"ge": "≥", "gt": ">", "le": "≤", "lt": "<"}
    parts = []
    for meta in var.field.metadata:
        for attr, sign in words.items():
            if getattr(meta, attr, None) is not None:
                parts.append(f"{sign} {getattr(meta, attr)}")
    return ", ".join(parts)


def comments_above_fields(cls: type[BaseModel]) -> dict[str, str]:
    """The `# …` lines written directly above each field of the class body."""
    found: dict[str, str] = {}
    pending: list[str] = []
    for line in inspect.getsource(cls).splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            pending.append(stripped.lstrip("#").strip())
            continue
        match = re.match(r"(\w+)\s*:", stripped)
        if match and match.group(1) in cls.model_fields and pending:
            found[match.group(1)] = " ".join(pending)
        pending = []
    return found


def descriptions(settings: type[BaseModel], prefix: str) -> dict[str, str]:
    out: dict[str, str] = {}
    comments = comments_above_fields(settings)
    for name, field in settings.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            out.update(descriptions(annotation, f"{prefix}{name.upper()}__"))
        else:
            variable = prefix + name.upper()
            out[variable] = (
                field.description
                or comments.get(name)
                or EXTRA.get(variable)
                or COMMON.get(name, "")
            )
    return out


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    lines = [INTRO]
    for service in SERVICES:
        variables = env_vars(service.settings, service.prefix)
        described = descriptions(service.settings, service.prefix)
        lines += [
            f"## {service.name}\n",
            f"`{service.settings_path}` · `python -m {service.module}` · port {service.port}\n",
            "| Variable | Type | Default | Description |",
            "|---|---|---|---|",
        ]
        for var in variables:
            description = described.get(var.name, "")
            limits = bounds(var)
            if limits:
                description = f"{description} ({limits})" if description else limits
            lines.append(
                f"| `{var.name}` | {type_name(var.annotation)} | {cell(default_text(var))} "
                f"| {cell(description)} |"
            )
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    parser.add_argument("--output", type=Path, default=TARGET)
    args = parser.parse_args(argv)
    wanted = render()
    if args.check:
        if not args.output.exists() or args.output.read_text() != wanted:
            print(f"{args.output} is stale: run `make docs`", file=sys.stderr)
            return 1
        return 0
    args.output.write_text(wanted)
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
