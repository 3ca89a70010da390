"""Gateway settings from `GATEWAY_*` variables, validated once, failing fast on bad secrets."""

from __future__ import annotations

import importlib.util
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bcrao_gateway.streaming.settings import StreamSettings

JwtAlgorithm = Literal["HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384"]

MIN_HMAC_SECRET_BYTES = 32
MIN_SERVICE_TOKEN_CHARS = 16


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_nested_delimiter="__", extra="ignore"
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    public_base_url: str = "http://127.0.0.1:8000"
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    topic_prefix: str = ""

    draft_store_url: str = "http://127.0.0.1:8001"
    draft_store_token: SecretStr
    draft_store_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    draft_store_max_connections: int = Field(default=100, ge=1, le=10_000)

    # jwt_secret verifies user tokens when the algorithm is HS*, and always keys stream tokens
    # (through a derived key), so every gateway instance can verify any instance's stream_url.
    jwt_secret: SecretStr
    # During a rotation: the secret being replaced, still accepted for verification (user tokens
    # under HS*, and stream tokens) but never used to sign. Remove it once old tokens expired.
    jwt_previous_secret: SecretStr | None = None
    jwt_public_key: str | None = None
    jwt_algorithm: JwtAlgorithm = "HS256"
    jwt_issuer: str = "bcrao-drafts"
    jwt_audience: str = "bcrao-api"
    jwt_leeway_seconds: int = Field(default=30, ge=0, le=300)
    # A user token may live at most this long (exp - iat; and exp at most this far ahead when it
    # has no iat): a leaked token with a 100-year exp is refused. 7 days covers the usual
    # refresh-token rotation of identity providers (1 h to 1 day) with room to spare.
    jwt_max_lifetime_seconds: int = Field(default=7 * 86_400, ge=60, le=366 * 86_400)
    stream_token_ttl_seconds: int = Field(default=600, ge=10, le=86_400)

    # Host header values served, comma-separated: exact names, `*.example.com`, or `*` for any
    # (/healthz and /readyz answer any). Redirects never use the Host header, so this is defence
    # in depth: set the public host(s) in production.
    allowed_hosts: Annotated[list[str], NoDecode] = ["*"]
    # A connection whose request headers are not complete this long after it opened (or after
    # the previous response) is closed: slow headers cannot hold it.
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    # A request body not complete this long after its headers is answered 408.
    body_timeout_seconds: float = Field(default=15.0, gt=0, le=600)
    # An idle keep-alive connection is closed after this long.
    keep_alive_seconds: int = Field(default=5, ge=1, le=300)
    # Request headers larger than this are answered 431.
    max_header_bytes: int = Field(default=16_384, ge=1024, le=1024 * 1024)
    max_body_bytes: int = Field(default=65_536, ge=1024, le=10 * 1024 * 1024)
    # Bearer token for /metrics. Without one, /metrics is served only when the gateway listens
    # on a loopback address (a local run); otherwise it answers 401.
    metrics_token: SecretStr | None = None
    generate_rate_per_minute: int = Field(default=10, ge=1, le=10_000)
    max_in_flight: int = Field(default=3, ge=1, le=1000)
    # A task the gateway never hears the end of stops counting after this long.
    in_flight_ttl_seconds: float = Field(default=900.0, gt=0)
    # While Kafka answers, a generate waits at most this long for the acknowledgement; while it
    # does not (see kafka_probe_seconds), generate answers 503 at once.
    publish_timeout_seconds: float = Field(default=5.0, gt=0, le=300)
    # How often the producer side checks that the broker answers; two failed checks in a row (the
    # second sent at once) make generate answer 503 without trying, and readiness fail.
    kafka_probe_seconds: float = Field(default=2.0, gt=0, le=60)
    # How long the producer lingers to batch concurrent accepts into one request.
    kafka_linger_ms: int = Field(default=5, ge=0, le=1000)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # OpenTelemetry traces over OTLP/HTTP (e.g. http://collector:4318); unset (or empty): tracing
    # off and nothing instrumented.
    otlp_endpoint: str | None = None

    stream: StreamSettings = StreamSettings()

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [host.strip() for host in value.split(",") if host.strip()]
        return value

    @field_validator("otlp_endpoint", mode="before")
    @classmethod
    def _blank_endpoint_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @model_validator(mode="after")
    def _check_secrets(self) -> Settings:
        secret = self.jwt_secret.get_secret_value().encode()
        if len(secret) < MIN_HMAC_SECRET_BYTES:
            raise ValueError(
                f"GATEWAY_JWT_SECRET must be at least {MIN_HMAC_SECRET_BYTES} bytes "
                f"(got {len(secret)}); generate one with `openssl rand -hex 32`"
            )
        previous = self.jwt_previous_secret
        if previous is not None and len(previous.get_secret_value()) < MIN_HMAC_SECRET_BYTES:
            raise ValueError(
                f"GATEWAY_JWT_PREVIOUS_SECRET must be at least {MIN_HMAC_SECRET_BYTES} bytes"
            )
        if len(self.draft_store_token.get_secret_value()) < MIN_SERVICE_TOKEN_CHARS:
            raise ValueError(
                f"GATEWAY_DRAFT_STORE_TOKEN must be at least {MIN_SERVICE_TOKEN_CHARS} characters"
            )
        if not self.jwt_algorithm.startswith("HS"):
            if not self.jwt_public_key:
                raise ValueError(
                    f"GATEWAY_JWT_ALGORITHM={self.jwt_algorithm} needs GATEWAY_JWT_PUBLIC_KEY (PEM)"
                )
            if importlib.util.find_spec("cryptography") is None:
                raise ValueError(f"{self.jwt_algorithm} needs the `cryptography` package")
        if self.metrics_token is not None and len(self.metrics_token.get_secret_value()) < 16:
            raise ValueError("GATEWAY_METRICS_TOKEN must be at least 16 characters")
        if not self.allowed_hosts:
            raise ValueError("GATEWAY_ALLOWED_HOSTS must name at least one host (or *)")
        if not self.public_base_url.startswith(("http://", "https://")):
            raise ValueError("GATEWAY_PUBLIC_BASE_URL must be an http(s) URL")
        return self

    @property
    def uses_hmac(self) -> bool:
        return self.jwt_algorithm.startswith("HS")
