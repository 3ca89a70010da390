"""The generator as an OS process, stopped with 100 generations in flight (SIGKILL, or SIGTERM
with a short drain), then restarted: every task ends exactly once (real broker, an
OpenAI-compatible fake served over HTTP)."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition
from bcrao_contracts.events import parse_event
from bcrao_contracts.topics import Topics
from bcrao_testkit.processes import Service
from bcrao_testkit.servers import free_port, serve
from bcrao_testkit.waits import eventually
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .kafka_helpers import collect, committed, create_generator_topics, prefix, produce
from .test_handlers import task

pytestmark = pytest.mark.integration

LOGS = Path(__file__).resolve().parents[3] / ".state" / "test-logs"
TASKS = 100
PARTITIONS = 24
TEXT = (
    "Title: What finally fixed our late invoices\n\n"
    "We kept chasing clients by hand for months and it wore everyone down. "
    "Then we set up reminders that go out on their own, and the awkward emails stopped.\n\n"
    "Payments came in faster within a few weeks. How do you handle clients who go quiet?"
)


class HeldLLM:
    """Holds every completion until `release` is set; counts calls per task marker."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.waiting = 0
        self.release = asyncio.Event()

    def app(self) -> Starlette:
        async def completions(request: Request) -> Response:
            body = await request.json()
            user = " ".join(str(m.get("content", "")) for m in body["messages"])
            marker = re.search(r"late invoices (\d+)", user)
            self.calls[marker.group(1) if marker else "?"] += 1
            self.waiting += 1
            try:
                await self.release.wait()
            finally:
                self.waiting -= 1

            async def stream() -> AsyncIterator[str]:
                for i in range(0, len(TEXT), 40):
                    yield _chunk({"content": TEXT[i : i + 40]}, None)
                yield _chunk({}, "stop")
                yield "data: [DONE]\n\n"

            return StreamingResponse(stream(), media_type="text/event-stream")

        return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


def _chunk(delta: dict[str, Any], finish: str | None) -> str:
    body = {
        "id": "chatcmpl-held",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": "gpt-4o-mini",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n"


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
async def test_stopped_with_a_hundred_in_flight_then_restarted_each_task_ends_once(
    kafka_bootstrap: str, sig: signal.Signals
) -> None:
    p = prefix()
    topics = Topics(p)
    group = f"gen-{secrets.token_hex(4)}"
    await create_generator_topics(kafka_bootstrap, topics, partitions=PARTITIONS)
    llm = HeldLLM()
    async with serve(llm.app()) as llm_url:
        port = free_port()
        env = {
            "GENERATOR_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "GENERATOR_TOPIC_PREFIX": p,
            "GENERATOR_GROUP_ID": group,
            "GENERATOR_HOST": "127.0.0.1",
            "GENERATOR_PORT": str(port),
            "GENERATOR_LLM_API_KEY": "sk-held",
            "GENERATOR_LLM_BASE_URL": f"{llm_url}/v1",
            "GENERATOR_LLM_MODEL": "gpt-4o-mini",
            "GENERATOR_LLM_FALLBACK_MODEL": "",
            "GENERATOR_REBALANCE_GRACE_SECONDS": "1",
            "GENERATOR_SHUTDOWN_GRACE_SECONDS": "1",
        }
        LOGS.mkdir(parents=True, exist_ok=True)
        first = Service("generator", env, port, LOGS / f"generator-crash-{port}.log")
        tasks = [task(n) for n in range(1, TASKS + 1)]
        second = first.replacement()
        try:
            first.start()
            await asyncio.to_thread(first.wait_healthy)
            await produce(
                kafka_bootstrap,
                topics.generate_requested,
                [(t.key, t.to_json(), None) for t in tasks],
            )
            await eventually(lambda: _waiting(llm, TASKS), hang_guard=60)
            # SIGKILL: no drain, no commit, no leaving the group. SIGTERM: a 1 s drain (the
            # held generations do not finish), nothing committed past them, a clean exit.
            code = await asyncio.to_thread(first.stop, sig)
            assert code == -sig  # uvicorn re-raises a handled signal once it has shut down
            if sig == signal.SIGTERM:
                log = first.tail(200)
                assert f"draining {TASKS} in-flight messages" in log
                assert "Application shutdown complete" in log

            second.start()
            await eventually(lambda: _called_twice(llm), hang_guard=90)
            llm.release.set()
            out = await collect(
                kafka_bootstrap,
                [topics.generated, topics.failed],
                until=lambda r: len(r) >= TASKS,
                timeout=90,
            )
            tps = [TopicPartition(topics.generate_requested, i) for i in range(PARTITIONS)]

            async def all_committed() -> bool:
                offsets = await committed(kafka_bootstrap, group, tps)
                return sum(o or 0 for o in offsets.values()) == TASKS

            await eventually(all_committed, hang_guard=60)
            # Everything is committed, so nothing more can come: read the topics once more.
            out = await collect(
                kafka_bootstrap,
                [topics.generated, topics.failed],
                until=lambda r: len(r) >= len(out),
            )
        except Exception:
            print(first.tail(), second.tail(), sep="\n--- restarted ---\n")
            raise
        finally:
            llm.release.set()
            second.stop()
            first.stop()

    ends = Counter(parse_event(r.value).task_id for r in out)
    assert ends == Counter({t.task_id: 1 for t in tasks})
    assert set(llm.calls.values()) == {2}  # run by the killed process, then once more


async def _waiting(llm: HeldLLM, count: int) -> bool:
    return llm.waiting >= count


async def _called_twice(llm: HeldLLM) -> bool:
    return len(llm.calls) == TASKS and all(c >= 2 for c in llm.calls.values())
