"""The fake LLM's protocol: chunk counts, usage, behaviours by header/marker/script, the process.

Timing is checked by ordering and counting (the first content chunk comes after the headers,
exactly `tokens` content chunks, the usage chunk last), never by wall-clock thresholds.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from bcrao_testkit import fake_openai
from bcrao_testkit.fake_behaviours import Script, parse
from bcrao_testkit.servers import free_port, serve

AUTH = {"authorization": f"Bearer {fake_openai.API_KEY}"}
MESSAGES = [
    {"role": "system", "content": "You are a member of r/SaaS."},
    {"role": "user", "content": "Topic: late invoices"},
]


@pytest.fixture
async def timed() -> AsyncIterator[str]:
    async with serve(fake_openai.create_app(ttft_ms=5, tokens=60, token_ms=0)) as url:
        yield url


async def _stream(url: str, *, headers: dict[str, str] | None = None, **body: Any) -> list[Any]:
    payload = {"model": "m", "messages": MESSAGES, "stream": True, **body}
    events: list[Any] = []
    async with (
        httpx.AsyncClient(timeout=10) as client,
        client.stream(
            "POST", f"{url}/v1/chat/completions", json=payload, headers={**AUTH, **(headers or {})}
        ) as response,
    ):
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                data = line[6:]
                events.append(data if data == "[DONE]" else json.loads(data))
    return events


def _content(events: list[Any]) -> list[str]:
    return [
        e["choices"][0]["delta"]["content"]
        for e in events
        if isinstance(e, dict) and e["choices"] and "content" in e["choices"][0]["delta"]
    ]


async def test_exactly_the_configured_token_count_then_stop_usage_done(timed: str) -> None:
    events = await _stream(timed, stream_options={"include_usage": True})
    pieces = _content(events)
    assert len(pieces) == 60
    assert all(pieces)
    assert "".join(pieces).startswith("Title: ")
    assert events[0]["choices"][0]["delta"]["role"] == "assistant"
    assert events[-3]["choices"][0]["finish_reason"] == "stop"
    assert events[-2]["choices"] == []
    assert events[-2]["usage"] == {
        "prompt_tokens": 412,
        "completion_tokens": 60,
        "total_tokens": 472,
    }
    assert events[-1] == "[DONE]"


async def test_no_usage_chunk_unless_asked(timed: str) -> None:
    events = await _stream(timed)
    assert not any(isinstance(e, dict) and "usage" in e for e in events)
    assert len(_content(events)) == 60


async def test_non_streaming_answer_has_the_same_text_and_usage(timed: str) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{timed}/v1/chat/completions", json={"model": "m", "messages": MESSAGES}, headers=AUTH
        )
    body = response.json()
    assert body["object"] == "chat.completion"
    assert body["choices"][0]["message"]["content"].startswith("Title: ")
    assert body["usage"]["completion_tokens"] == 60
    streamed = "".join(_content(await _stream(timed)))
    assert body["choices"][0]["message"]["content"] == streamed


async def test_header_marker_and_script_select_behaviours(timed: str) -> None:
    async with httpx.AsyncClient() as client:
        url = f"{timed}/v1/chat/completions"
        body = {"model": "m", "messages": MESSAGES, "stream": True}
        limited = await client.post(
            url, json=body, headers={**AUTH, "x-fake-llm": "429;retry_after=7"}
        )
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "7"
        marked = [*MESSAGES[:1], {"role": "user", "content": "x [[fake-llm:500]] y"}]
        assert (
            await client.post(url, json={**body, "messages": marked}, headers=AUTH)
        ).status_code == 500
        scripted = await client.post(
            f"{timed}/control", json={"script": [{"do": "500", "times": 2}, "401"]}
        )
        assert scripted.json()["script"] == ["500", "500", "401"]
        statuses = [(await client.post(url, json=body, headers=AUTH)).status_code for _ in range(3)]
        assert statuses == [500, 500, 401]
        stats = (await client.get(f"{timed}/control")).json()
        assert stats["by_behaviour"] == {"500": 2, "401": 1}
        assert stats["script"] == []


async def test_control_changes_the_default_timing(timed: str) -> None:
    async with httpx.AsyncClient() as client:
        answer = await client.post(f"{timed}/control", json={"timing": {"tokens": 9}})
        assert answer.json()["timing"] == {"ttft_ms": 5.0, "tokens": 9, "token_ms": 0.0}
        assert len(_content(await _stream(timed))) == 9
        refused = await client.post(f"{timed}/control", json={"timing": {"tokens": "many"}})
        assert refused.status_code == 400
        assert (await client.get(f"{timed}/control")).json()["timing"]["tokens"] == 9


async def test_cut_stops_after_the_given_chunks_without_finish(timed: str) -> None:
    events = await _stream(timed, headers={"x-fake-llm": "cut;after=5"})
    assert len(_content(events)) == 5
    assert "[DONE]" not in events
    assert all(e["choices"][0]["finish_reason"] is None for e in events)


async def test_long_generation_streams_many_more_chunks(timed: str) -> None:
    events = await _stream(timed, headers={"x-fake-llm": "long;tokens=500"})
    assert len(_content(events)) == 500


async def test_older_script_endpoint_and_request_log_still_work() -> None:
    async with (
        serve(fake_openai.create_app(retry_after="3")) as url,
        httpx.AsyncClient() as client,
    ):
        await client.post(f"{url}/_script", json={"behaviours": ["429"]})
        body = {"model": "m", "messages": MESSAGES, "stream": True}
        first = await client.post(f"{url}/v1/chat/completions", json=body, headers=AUTH)
        assert (first.status_code, first.headers["retry-after"]) == (429, "3")
        assert len((await client.get(f"{url}/_requests")).json()["requests"]) == 1


def test_behaviour_specs_parse_and_reject_unknowns() -> None:
    assert parse("cut;after=5").params == {"after": 5}
    assert parse("slow;ttft_ms=2.5").params == {"ttft_ms": 2.5}
    with pytest.raises(ValueError, match="unknown"):
        parse("explode")
    with pytest.raises(ValueError, match="key=value"):
        parse("cut;after")
    with pytest.raises(ValueError, match="neither"):
        Script().replace([{"times": 2}])


def test_split_gives_exactly_n_pieces_that_join_back() -> None:
    text = fake_openai.draft_text(MESSAGES)
    for n in (1, 7, 60, len(text), 3 * len(text)):
        pieces = fake_openai.split_text(text, n)
        assert len(pieces) == n
        assert all(pieces)
    assert "".join(fake_openai.split_text(text, 60)) == text


async def test_runs_as_its_own_process() -> None:
    port = free_port()
    args = ["--port", str(port), "--ttft-ms", "1", "--tokens", "12", "--token-ms", "0"]
    proc = subprocess.Popen([sys.executable, "-m", "bcrao_testkit.fake_openai", *args])
    try:
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                try:
                    await client.get(f"{url}/control")
                    break
                except httpx.TransportError:
                    assert proc.poll() is None
                    import asyncio

                    await asyncio.sleep(0.05)
        assert len(_content(await _stream(url))) == 12
    finally:
        proc.terminate()
        proc.wait(10)
