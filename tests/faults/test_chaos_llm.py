"""The fake LLM's per-task chaos and its request log, through its real HTTP interface."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from bcrao_testkit import fake_openai
from bcrao_testkit.chaos_llm import ChaosLLM, read_log
from bcrao_testkit.servers import serve


@asynccontextmanager
async def chaos_client(log: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(ChaosLLM(fake_openai.create_app(), log)) as url:  # noqa: SIM117 (url first)
        async with httpx.AsyncClient(base_url=url, timeout=10) as client:
            yield client


def body(context: str) -> dict[str, object]:
    return {
        "model": "gpt-4o-mini",
        "stream": True,
        "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": context}],
    }


async def call(client: httpx.AsyncClient, context: str) -> tuple[int, str]:
    headers = {"Authorization": f"Bearer {fake_openai.API_KEY}"}
    answer = await client.post("/v1/chat/completions", json=body(context), headers=headers)
    return answer.status_code, answer.text


async def test_429_twice_then_a_full_stream_and_each_call_logged(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    async with chaos_client(log) as client:
        first = await call(client, "ref fz-0123456789ab chaos=429x2")
        second = await call(client, "ref fz-0123456789ab chaos=429x2")
        third = await call(client, "ref fz-0123456789ab chaos=429x2")
        other = await call(client, "ref fz-ba9876543210")
    assert (first[0], second[0], third[0], other[0]) == (429, 429, 200, 200)
    assert third[1].rstrip().endswith("data: [DONE]")
    records = read_log(log)
    assert [r["nonce"] for r in records] == ["fz-0123456789ab"] * 3 + ["fz-ba9876543210"]
    assert [r["completed"] for r in records] == [False, False, True, True]
    assert [r["outcome"] for r in records][:2] == ["error429", "error429"]


async def test_a_cut_stream_has_no_finish_reason_and_is_not_a_finished_call(
    tmp_path: Path,
) -> None:
    log = tmp_path / "calls.jsonl"
    async with chaos_client(log) as client:
        cut = await call(client, "fz-00000000000a chaos=cutx1")
        again = await call(client, "fz-00000000000a chaos=cutx1")
    assert cut[0] == 200
    assert '"finish_reason": "stop"' not in cut[1]
    assert "[DONE]" not in cut[1]
    assert '"finish_reason": "stop"' in again[1]
    assert [r["outcome"] for r in read_log(log)] == ["cut", "ok"]


async def test_500_bursts_count_per_task(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    async with chaos_client(log) as client:
        codes = [(await call(client, "fz-00000000000b chaos=500x3"))[0] for _ in range(4)]
    assert codes == [500, 500, 500, 200]


async def test_a_slow_stream_still_ends_as_a_finished_call(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    async with chaos_client(log) as client:
        status, text = await call(client, "fz-00000000000c chaos=slow2")
    assert status == 200
    assert text.rstrip().endswith("data: [DONE]")
    (record,) = read_log(log)
    assert record["completed"]
