"""Generator settings, from the environment with the GENERATOR_ prefix. Read once, at start."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator
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
    concurrency: int = Field(default=4, ge=1, le=64, description="generations at once")
    # Longer than the worst case of one generation (attempts × models × attempt timeout), so a
    # slow LLM never makes the group think this consumer died and rebalance it away.
    max_poll_interval_ms: int = Field(default=1_800_000, ge=60_000)
    shutdown_grace_seconds: float = Field(default=30.0, ge=0, description="finish running tasks")

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

    @field_validator("llm_api_key", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def uses_offline_composer(self) -> bool:
        return self.llm_api_key is None
