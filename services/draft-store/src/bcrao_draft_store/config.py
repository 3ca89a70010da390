"""Settings of the draft-store service, from `DRAFT_STORE_*` variables (never at import time)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MIN_TOKEN_LENGTH = 16


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DRAFT_STORE_", extra="ignore")

    database_url: str = "postgresql+psycopg://bcrao:bcrao@127.0.0.1:15432/bcrao"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    topic_prefix: str = ""
    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=1, le=65535)
    service_token: SecretStr
    consumer_group: str = "draft-store"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    migrate_on_start: bool = True
    db_pool_size: int = Field(default=10, ge=1, le=200)
    # A round trip per checkout; off because the handlers retry and the REST edge answers 503.
    db_pre_ping: bool = False
    # Transient database errors inside a message handler: attempts and capped exponential backoff.
    retry_attempts: int = Field(default=5, ge=1, le=20)
    retry_base_delay: float = Field(default=0.2, gt=0)
    retry_max_delay: float = Field(default=5.0, gt=0)
    # A message that keeps failing for a reason that is not transient is dead-lettered after
    # this many attempts (per process; see bcrao_platform.deadletter.AttemptTracker).
    max_attempts: int = Field(default=5, ge=1, le=100)
    # Consumed batches: at most this many records. A batch is whatever has arrived (no waiting
    # to fill it); an idle consumer polls every `batch_timeout_ms`, which bounds the latency a
    # quiet moment adds to a stream's `complete` (about twice this).
    batch_max_records: int = Field(default=200, ge=1, le=5000)
    batch_timeout_ms: int = Field(default=20, ge=1, le=10_000)
    # /metrics answers only with this bearer token when it is set (unset: open, for local runs).
    metrics_token: SecretStr | None = None
    # The internal OpenAPI (/docs, /openapi.json): served only with the service token, or not at
    # all when this is off.
    docs_enabled: bool = True
    # The sweeper (sweeper.py) fails a task and releases its unit when it stayed queued this
    # long without a generator claiming it (the publish or the requester vanished) ...
    unclaimed_task_seconds: float = Field(default=600.0, ge=10)
    # ... or when its claim is this old: longer than the worst generation the generator allows.
    stale_task_seconds: float = Field(default=1800.0, ge=60)
    sweep_interval_seconds: float = Field(default=30.0, gt=0)

    @field_validator("service_token")
    @classmethod
    def _token_long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"DRAFT_STORE_SERVICE_TOKEN must be at least {MIN_TOKEN_LENGTH} characters"
            )
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None  # empty in an env file means unset: /metrics open (local runs)
        if len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(
                f"DRAFT_STORE_METRICS_TOKEN must be at least {MIN_TOKEN_LENGTH} characters"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """Accept a libpq URL too; the service always talks to PostgreSQL through psycopg 3."""
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        if value.startswith("postgres://"):
            return "postgresql+psycopg://" + value.removeprefix("postgres://")
        return value


def load_settings() -> Settings:
    """Read the environment, or exit 2 naming the settings that are wrong (never their values)."""
    from bcrao_platform.settings import load_settings as load

    return load(Settings, env_prefix="DRAFT_STORE_", program="draft-store")
