"""Generator settings, from the environment with the GENERATOR_ prefix. Read once, at start."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# USD per 1M tokens (input, output). Unknown models cost 0 and say so in the draft's params.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1": (2.00, 8.00),
    "offline-composer": (0.0, 0.0),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="GENERATOR_", extra="ignore")

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    topic_prefix: str = ""
    group_id: str = "generator"
    # Generations are LLM waits, so one instance runs many at once whatever the partition count.
    concurrency: int = Field(default=256, ge=1, le=4096, description="generations at once")
    # The poll loop never waits on a generation, so this only bounds a wedged event loop.
    max_poll_interval_ms: int = Field(default=1_800_000, ge=60_000)
    shutdown_grace_seconds: float = Field(
        default=20.0,
        ge=0,
        le=22,
        description="finish running tasks on SIGTERM (what does not finish is redelivered); "
        "with the 5 s HTTP drain and the 3 s close the process ends within 30 s",
    )
    # Every rebalance waits this long for the revoked partitions (aiokafka revokes all of
    # them); what still runs then carries on, and is adopted if its partition comes back.
    rebalance_grace_seconds: float = Field(
        default=5.0, ge=0, le=120, description="revoked partitions finish their running tasks"
    )
    max_attempts: int = Field(default=5, ge=1, le=100, description="failures before the DLQ")
    consumer_rejoin_seconds: float = Field(
        default=30.0,
        ge=1,
        description="The consumer, out of its group, without partitions or not polling for "
        "this long while the broker answers, is recreated in the process (if that fails the "
        "process exits non-zero)",
    )
    consumer_poll_seconds: float = Field(
        default=60.0,
        ge=1,
        description="Not polled, or not committing while behind, for this long: /readyz 503",
    )

    # Task claim (docs/ARCHITECTURE.md, generate flow): skip tasks already ended or deleted.
    # Without a URL nothing is claimed (draft-store still keeps one draft per task).
    draft_store_url: str | None = Field(
        default=None, description="draft-store base URL for the task claim (unset: no claim)"
    )
    draft_store_token: SecretStr | None = Field(
        default=None, description="draft-store's service token (DRAFT_STORE_SERVICE_TOKEN)"
    )
    # While draft-store is unreachable a claim waits (never generates unclaimed), backing off
    # up to this long between attempts.
    claim_retry_cap_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="longest wait between claim attempts while draft-store is unreachable",
    )
    claim_timeout_seconds: float = Field(default=2.0, gt=0, le=30)

    # OpenTelemetry traces over OTLP/HTTP (e.g. http://collector:4318); off when unset.
    otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP endpoint for traces (unset: tracing off)"
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="bearer token for /metrics (open when unset)"
    )

    host: str = "127.0.0.1"
    port: int = 8002
    log_level: str = "INFO"

    llm_api_key: SecretStr | None = None
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_fallback_model: str | None = "gpt-4o"
    llm_temperature: float = Field(default=0.85, ge=0, le=2)
    llm_frequency_penalty: float = Field(default=0.3, ge=-2, le=2)
    llm_presence_penalty: float = Field(default=0.2, ge=-2, le=2)
    llm_max_tokens: int = Field(default=2000, ge=64, le=16_000)
    llm_connect_timeout: float = Field(default=10.0, gt=0)
    llm_read_timeout: float = Field(default=60.0, gt=0, description="max silence inside a stream")
    llm_attempt_timeout: float = Field(default=180.0, gt=0, description="one attempt, end to end")
    llm_attempts: int = Field(default=3, ge=1, le=10, description="per model")
    llm_backoff_base: float = Field(default=0.5, ge=0)
    llm_backoff_cap: float = Field(default=8.0, ge=0)
    llm_retry_after_cap: float = Field(default=30.0, ge=0)
    llm_prices: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_PRICES))

    # Blacklist and machine-tell checks run on a worker thread; past this the task fails.
    validation_timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    chunk_interval_ms: int = Field(default=100, ge=0, le=5000)
    offline_chunk_delay_ms: int = Field(default=25, ge=0, le=1000)

    @field_validator(
        "llm_api_key",
        "draft_store_url",
        "draft_store_token",
        "metrics_token",
        "otlp_endpoint",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _claims_need_a_token(self) -> Settings:
        if self.draft_store_url and self.draft_store_token is None:
            raise ValueError("GENERATOR_DRAFT_STORE_URL needs GENERATOR_DRAFT_STORE_TOKEN")
        return self

    @property
    def uses_offline_composer(self) -> bool:
        return self.llm_api_key is None
