"""The shared plumbing: log lines are valid JSON with the task id, repeats are limited, dead
letters fit the broker, attempts are counted, retries stop, metrics are guarded."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from typing import Any

import pytest
from aiokafka import ConsumerRecord
from bcrao_platform import deadletter, logs, metrics, retry, settings
from faststream.kafka.message import KafkaMessage
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient


@pytest.fixture
def log_stream() -> io.StringIO:
    stream = io.StringIO()
    logs.configure_logging("test-svc", "INFO", stream=stream, limiter=logs.RepeatLimiter(burst=2))
    yield stream
    logging.getLogger().handlers[:] = []


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_log_lines_are_json_even_with_quotes_and_tracebacks(log_stream: io.StringIO) -> None:
    log = logging.getLogger("t.json")
    try:
        raise ValueError('a "quoted"\nmultiline error')
    except ValueError:
        log.exception('failed: "%s"', "x")
    (line,) = lines(log_stream)
    assert line["message"] == 'failed: "x"'
    assert line["level"] == "ERROR"
    assert line["service"] == "test-svc"
    assert 'a "quoted"' in str(line["exc_info"])


async def test_task_scope_carries_the_task_id_across_awaits(log_stream: io.StringIO) -> None:
    log = logging.getLogger("t.scope")

    async def work(task: str) -> None:
        with logs.task_scope(task):
            await asyncio.sleep(0)
            log.info("inside %s", task)

    await asyncio.gather(work("t-1"), work("t-2"))
    log.info("outside")
    found = {str(line["message"]): line["task_id"] for line in lines(log_stream)}
    assert found == {"inside t-1": "t-1", "inside t-2": "t-2", "outside": None}


def test_repeat_limiter_suppresses_a_flood_and_reports_the_count() -> None:
    now = [0.0]
    limiter = logs.RepeatLimiter(burst=3, window=10, clock=lambda: now[0])

    def record(msg: str = "broker %s down") -> logging.LogRecord:
        return logging.makeLogRecord({"name": "aiokafka", "levelno": logging.ERROR, "msg": msg})

    passed = [limiter.filter(record()) for _ in range(1000)]
    assert passed.count(True) == 3
    assert limiter.filter(record("another template"))  # other kinds are not affected
    now[0] = 11.0
    after = record()
    assert limiter.filter(after)
    assert after.suppressed_repeats == 997


def test_info_records_are_never_limited() -> None:
    limiter = logs.RepeatLimiter(burst=1, window=10, clock=lambda: 0.0)
    info = {"name": "x", "levelno": logging.INFO, "msg": "same"}
    assert all(limiter.filter(logging.makeLogRecord(info)) for _ in range(10))


def test_dead_letter_inlines_small_payloads_with_every_header() -> None:
    letter = deadletter.dead_letter_record(
        b'{"bad": 1}',
        topic="drafts.generated",
        partition=3,
        offset=42,
        key=b"task",
        reason="unreadable",
        error=ValueError("nope"),
        attempts=1,
        consumer="draft-store",
    )
    assert letter.value == b'{"bad": 1}'
    assert letter.key == b"task"
    assert letter.header_map == {
        "x-dlq-reason": "unreadable",
        "x-dlq-error": "ValueError: nope",
        "x-dlq-original-topic": "drafts.generated",
        "x-dlq-original-partition": "3",
        "x-dlq-original-offset": "42",
        "x-dlq-attempts": "1",
        "x-dlq-consumer": "draft-store",
        "x-dlq-payload": "inline",
    }


def test_dead_letter_of_an_oversized_payload_is_a_small_reference() -> None:
    big = b"x" * 2_000_000
    letter = deadletter.dead_letter_record(
        big,
        topic="t",
        partition=0,
        offset=7,
        key=b"k" * 5000,
        reason="unreadable",
        error="e" * 10_000,
        attempts=5,
        consumer="generator",
    )
    assert len(letter.value) < 200
    assert json.loads(letter.value) == {
        "ref": {"topic": "t", "partition": 0, "offset": 7},
        "size": 2_000_000,
    }
    assert letter.header_map["x-dlq-payload"] == "reference"
    assert len(letter.header_map["x-dlq-error"]) == deadletter.ERROR_MAX_CHARS
    assert letter.key is not None
    assert len(letter.key) <= 256


def test_a_payload_just_under_the_broker_limit_is_referenced_not_copied() -> None:
    letter = deadletter.dead_letter_record(
        b"y" * 1_040_000, topic="t", partition=0, offset=1, key=None, reason="unreadable",
        error="too big", attempts=1, consumer="c",
    )  # fmt: skip
    assert letter.header_map["x-dlq-payload"] == "reference"


def test_attempt_tracker_counts_per_offset_and_forgets() -> None:
    tracker = deadletter.AttemptTracker(3, capacity=2)
    assert [tracker.record_failure("t", 0, 1) for _ in range(3)] == [1, 2, 3]
    assert tracker.exhausted("t", 0, 1)
    assert not tracker.exhausted("t", 1, 1)
    tracker.forget("t", 0, 1)
    assert tracker.attempts("t", 0, 1) == 0
    for offset in range(5):
        tracker.record_failure("t", 0, offset)
    assert tracker.attempts("t", 0, 0) == 0  # evicted: bounded memory
    assert tracker.attempts("t", 0, 4) == 1
    with pytest.raises(ValueError, match="at least 1"):
        deadletter.AttemptTracker(0)


async def test_retrying_stops_after_the_attempts_and_reraises() -> None:
    calls: list[int] = []
    seen: list[BaseException] = []

    async def always_down() -> None:
        async for attempt in retry.retrying(3, 0.001, 0.002, on_retry=seen.append):
            with attempt:
                calls.append(1)
                raise ConnectionError("down")

    with pytest.raises(ConnectionError):
        await always_down()
    assert len(calls) == 3
    assert len(seen) == 2


async def test_retrying_does_not_retry_what_is_not_transient() -> None:
    calls: list[int] = []

    async def buggy() -> None:
        async for attempt in retry.retrying(
            5, 0.001, 0.002, retry_if=lambda exc: isinstance(exc, ConnectionError)
        ):
            with attempt:
                calls.append(1)
                raise KeyError("bug")

    with pytest.raises(KeyError):
        await buggy()
    assert len(calls) == 1


async def test_a_cancellation_is_never_retried_whatever_the_predicate_says() -> None:
    """A predicate that retries everything (the generator's counts every failure) must still let
    a cancellation through: a stop or a rebalance cancels in-flight work, and a retried
    cancellation would keep that work running."""
    entered = asyncio.Event()
    calls: list[int] = []

    async def work() -> None:
        async for attempt in retry.retrying(None, 0.001, 0.002, retry_if=lambda exc: True):
            with attempt:
                calls.append(1)
                entered.set()
                await asyncio.Event().wait()

    task = asyncio.create_task(work())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)  # a retried cancellation never ends: TimeoutError
    assert calls == [1]


def metrics_app(token: str | None, host: str = "127.0.0.1") -> tuple[TestClient, Counter]:
    registry = CollectorRegistry()
    hits = Counter("things", "Things seen", ["kind"], registry=registry)
    app = Starlette(
        routes=[
            Route(
                "/metrics",
                metrics.metrics_endpoint(registry, token, bind_host=host, token_setting="X_TOKEN"),
            ),
            Route("/items/{item_id}", lambda request: metrics.Response("ok")),
        ]
    )
    app.add_middleware(metrics.HttpMetricsMiddleware, registry=registry, service="svc")
    return TestClient(app), hits


def test_metrics_need_the_token_when_one_is_set() -> None:
    client, hits = metrics_app("s3cret-token")
    hits.labels("a").inc(2)
    refused = client.get("/metrics")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "AUTH_REQUIRED"
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    ok = client.get("/metrics", headers={"Authorization": "Bearer s3cret-token"})
    families = {f.name: f for f in text_string_to_metric_families(ok.text)}
    assert families["things"].samples[0].value == 2


def test_metrics_without_a_token_are_closed_unless_bound_to_loopback() -> None:
    for host in ("0.0.0.0", "10.1.2.3", "bcrao-gateway"):
        client, _ = metrics_app(None, host)
        refused = client.get("/metrics")
        assert refused.status_code == 401
        assert "X_TOKEN" in refused.json()["error"]["message"]
    for host in ("127.0.0.1", "localhost", "::1"):
        client, _ = metrics_app(None, host)
        assert client.get("/metrics").status_code == 200


def test_http_metrics_label_the_route_template_not_the_path() -> None:
    client, _ = metrics_app(None)
    for item in ("1", "2", "3"):
        assert client.get(f"/items/{item}").status_code == 200
    client.get("/nowhere")
    text = client.get("/metrics").text
    samples = {
        (s.labels.get("route"), s.labels.get("status")): s.value
        for f in text_string_to_metric_families(text)
        if f.name == "http_requests"
        for s in f.samples
        if s.name == "http_requests_total"
    }
    assert samples[("/items/{item_id}", "200")] == 3
    assert samples[("unmatched", "404")] == 1


class _Demo(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_")
    api_key: SecretStr
    port: int = 80


def test_load_settings_names_the_setting_never_the_value(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DEMO_API_KEY", "sk-very-secret")
    monkeypatch.setenv("DEMO_PORT", "sk-not-a-number")
    with pytest.raises(SystemExit) as stop:
        settings.load_settings(_Demo, env_prefix="DEMO_", program="demo")
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "DEMO_PORT" in err
    assert "sk-" not in err


def _consumed(value: bytes | None) -> Any:
    return ConsumerRecord(
        topic="drafts.generated",
        partition=5,
        offset=77,
        timestamp=0,
        timestamp_type=0,
        key=b"task-7",
        value=value,
        checksum=None,
        serialized_key_size=6,
        serialized_value_size=len(value or b""),
        headers=(),
    )


def test_dead_letter_for_a_consumed_record_copies_where_it_was_and_logs_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = _consumed(b"not json")
    with caplog.at_level(logging.WARNING, logger="bcrao_platform.deadletter"):
        letter = deadletter.dead_letter_for(
            record,
            reason="unreadable",
            error=ValueError("bad byte\nsecond line"),
            attempts=2,
            consumer="draft-store",
        )
    assert letter == deadletter.dead_letter_record(
        b"not json",
        topic="drafts.generated",
        partition=5,
        offset=77,
        key=b"task-7",
        reason="unreadable",
        error=ValueError("bad byte\nsecond line"),
        attempts=2,
        consumer="draft-store",
    )
    [line] = caplog.records
    assert (
        line.getMessage()
        == "dead-lettered drafts.generated/5@77 (unreadable, 2 attempts): bad byte"
    )


def test_dead_letter_for_a_faststream_message_reads_its_raw_record(
    caplog: pytest.LogCaptureFixture,
) -> None:
    record = _consumed(None)
    message = KafkaMessage(raw_message=record, body=b"", consumer=None)  # type: ignore[arg-type]
    logger = logging.getLogger("test.consumer")
    with caplog.at_level(logging.ERROR, logger="test.consumer"):
        letter = deadletter.dead_letter_for(
            message,
            reason="exhausted",
            error="gave up",
            attempts=5,
            consumer="generator",
            logger=logger,
            level=logging.ERROR,
        )
    assert letter.value == b""
    assert letter.key == b"task-7"
    assert letter.header_map["x-dlq-original-offset"] == "77"
    assert letter.header_map["x-dlq-attempts"] == "5"
    assert [(r.name, r.levelno) for r in caplog.records] == [("test.consumer", logging.ERROR)]


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@h:5432/d", "postgresql+psycopg://u:p@h:5432/d"),
        ("postgres://u@h/d?sslmode=require", "postgresql+psycopg://u@h/d?sslmode=require"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg://u@h/d"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_libpq_urls_become_psycopg_urls_and_others_are_left_alone(
    given: str, expected: str
) -> None:
    assert settings.sqlalchemy_url(given) == expected
