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
    # During a rotation: the token being replaced, still accepted until every caller switched.
    service_token_previous: SecretStr | None = None
    consumer_group: str = "draft-store"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    migrate_on_start: bool = True
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Pooled connections, all opened at start; a request beyond them waits for one.",
    )
    db_pre_ping: bool = Field(
        default=False,
        description="Ping each connection on checkout: a round trip on every request, so off; "
        "the consumers retry and the REST edge answers 503 when a connection was dropped.",
    )
    retry_attempts: int = Field(
        default=5,
        ge=1,
        le=20,
        description="Attempts of a batch's transaction on transient database errors "
        "(capped exponential backoff with jitter); they never count against max_attempts.",
    )
    retry_base_delay: float = Field(default=0.2, gt=0, description="First backoff, seconds.")
    retry_max_delay: float = Field(default=5.0, gt=0, description="Longest backoff, seconds.")
    max_attempts: int = Field(
        default=5,
        ge=1,
        le=100,
        description="A message that keeps failing for a reason that is not transient is "
        "dead-lettered after this many attempts (counted per process).",
    )
    batch_max_records: int = Field(
        default=200,
        ge=1,
        le=5000,
        description="Most records in one consumed batch (one transaction, one offset commit); "
        "a batch is whatever has arrived, never waited for.",
    )
    batch_timeout_ms: int = Field(
        default=20,
        ge=1,
        le=10_000,
        description="An idle consumer's poll interval; a quiet moment adds about twice this to "
        "a stream's `complete`.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token /metrics requires (at least 16 characters); unset, /metrics "
        "is open (local runs only).",
    )
    docs_enabled: bool = Field(
        default=True,
        description="Serve the internal OpenAPI (/openapi.json, /docs), to the service token "
        "only; off: not at all.",
    )
    unclaimed_task_seconds: float = Field(
        default=600.0,
        ge=10,
        description="The sweeper fails a queued task no generator claimed for this long (its "
        "publish or its requester vanished) and releases its unit.",
    )
    stale_task_seconds: float = Field(
        default=1800.0,
        ge=60,
        description="The sweeper fails a running task claimed this long ago (longer than the "
        "worst generation the generator allows) and releases its unit.",
    )
    sweep_interval_seconds: float = Field(default=30.0, gt=0, description="Seconds between sweeps.")
    consumer_rejoin_seconds: float = Field(
        default=30.0,
        ge=1,
        description="A consumer that has no partitions, lost its group membership or stopped "
        "polling for this long while the broker answers is torn down and recreated in the "
        "process (if that fails the process exits non-zero).",
    )
    open_task_seconds: float = Field(
        default=5.0,
        ge=0.5,
        le=30,
        description="Longest the transaction that opens a task (and reserves its unit) may take, "
        "enforced by PostgreSQL and checked before COMMIT; keep it below the gateway's "
        "GATEWAY_DRAFT_STORE_TIMEOUT_SECONDS (10) so a request the gateway answered 503 never "
        "leaves a task behind (ADR 0009).",
    )
    shutdown_seconds: float = Field(
        default=18.0,
        ge=1,
        le=25,
        description="Longest the shutdown after the HTTP drain may take (consumers' in-flight "
        "batches, offset commits, producer flush); past it the rest is abandoned uncommitted "
        "and redelivered. With the 8 s HTTP drain it keeps SIGTERM under Kubernetes' 30 s.",
    )
    consumer_poll_seconds: float = Field(
        default=60.0,
        ge=1,
        description="A consumer that has not asked for records, or has not committed while "
        "behind, for this long is stalled: /readyz answers 503.",
    )
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP endpoint for OpenTelemetry traces (e.g. http://collector:4318); "
        "unset: tracing off, nothing instrumented.",
    )
    outbox_interval_seconds: float = Field(
        default=1.0,
        gt=0,
        description="Seconds between looks for deleted campaigns' tasks whose GenerationFailed "
        "is still to be published (their streams end within about this).",
    )

    @field_validator("service_token", "service_token_previous")
    @classmethod
    def _token_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_TOKEN_LENGTH:
            raise ValueError(f"service tokens must be at least {MIN_TOKEN_LENGTH} characters")
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

    @field_validator("otlp_endpoint")
    @classmethod
    def _blank_endpoint_is_unset(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # empty in an env file means unset: tracing off
        return value.strip()

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
