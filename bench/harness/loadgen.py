"""Load generator, run as its own process; prints one JSON object with raw timings (seconds).

    loadgen.py llm    --port P --conc N                       the fake LLM called directly
    loadgen.py gen    --port P --jobs F --conc N              N generations at once, POST → stream
    loadgen.py rate   --port P --jobs F --rate R --seconds T  open loop at R/s, POST → stream
    loadgen.py accept --port P --jobs F --conc C --seconds T  closed loop of POSTs → status
    loadgen.py burst  --port P --jobs F --n N --kafka K --stored-topic S   N POSTs; DraftStored

`--jobs` is a JSON file: a list of {"token": <JWT>, "campaign": <id>} (one per bench user);
requests cycle through it. `accept --path` may contain `{campaign}`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from rawhttp import Conn

DEADLINE = 180.0  # a stream with no terminal event by then counts as an error, not a hang
GENERATE = {"subreddit": "SaaS", "archetype": "ProblemSolution", "context": "late invoices"}
LLM_BODY = {
    "model": "gpt-4o-mini",
    "stream": True,
    "stream_options": {"include_usage": True},
    "messages": [{"role": "user", "content": "Topic: late invoices"}],
}


async def call_llm(port: int, start: asyncio.Event) -> dict[str, Any]:
    conn = Conn("127.0.0.1", port)
    await conn._open()  # connecting is not part of the LLM's latency, nor of the system's
    await start.wait()
    t0 = time.perf_counter()
    first = None
    headers = {"Authorization": "Bearer sk-test-fake-key"}
    _, head = await conn.send("POST", "/v1/chat/completions", headers, LLM_BODY)
    async for data in conn.events(head):
        if first is None and b'"content"' in data:
            first = time.perf_counter() - t0
        if data == b"[DONE]":
            break
    total = time.perf_counter() - t0
    await conn.close()
    return {"first": first, "complete": total}


async def generation(port: int, job: dict[str, str], start: asyncio.Event | None) -> dict[str, Any]:
    """POST generate, then read the stream until its terminal event (or DEADLINE)."""
    post, stream = Conn("127.0.0.1", port), Conn("127.0.0.1", port)
    await post._open()
    await stream._open()
    if start is not None:
        await start.wait()
    t0 = time.perf_counter()
    auth = {"Authorization": f"Bearer {job['token']}"}
    path = f"/v1/campaigns/{job['campaign']}/drafts/generate"
    out: dict[str, Any] = {"first": None, "complete": None, "error": None}
    try:
        async with asyncio.timeout(DEADLINE):
            await _generate(post, stream, path, auth, t0, out)
    except TimeoutError:
        out["error"] = f"no terminal event within {DEADLINE:g} s"
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        out["error"] = repr(exc)
    finally:
        await post.close()
        await stream.close()
    return out


async def _generate(
    post: Conn, stream: Conn, path: str, auth: dict[str, str], t0: float, out: dict[str, Any]
) -> None:
    """The POST and the stream, recording into `out` (times from the POST and from the 202)."""
    status, body = await post.request("POST", path, auth, GENERATE)
    t_accept = time.perf_counter()
    out["accept"] = t_accept - t0
    if status != 202:
        out["error"] = f"HTTP {status}: {body[:200]!r}"
        return
    url = json.loads(body)["stream_url"]
    _, head = await stream.send("GET", url, {"Accept": "text/event-stream"})
    async for data in stream.events(head):
        kind = json.loads(data).get("type")
        now = time.perf_counter()
        if kind == "chunk" and out["first"] is None:
            out["first"], out["first_from_202"] = now - t0, now - t_accept
        elif kind in ("complete", "error"):
            out["complete"], out["complete_from_202"] = now - t0, now - t_accept
            if kind == "error":
                out["error"] = data[:200].decode()
            break


async def mode_llm(args: argparse.Namespace) -> dict[str, Any]:
    start = asyncio.Event()
    tasks = [asyncio.create_task(call_llm(args.port, start)) for _ in range(args.conc)]
    await asyncio.sleep(0.3)  # every connection open before the gun
    start.set()
    return {"results": await asyncio.gather(*tasks)}


async def mode_gen(args: argparse.Namespace) -> dict[str, Any]:
    jobs = itertools.cycle(json.loads(Path(args.jobs).read_text()))
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(generation(args.port, next(jobs), start)) for _ in range(args.conc)
    ]
    await asyncio.sleep(0.3 + args.conc / 500)
    start.set()
    return {"results": await asyncio.gather(*tasks)}


async def mode_rate(args: argparse.Namespace) -> dict[str, Any]:
    jobs = itertools.cycle(json.loads(Path(args.jobs).read_text()))
    loop = asyncio.get_running_loop()
    begin = loop.time()
    tasks = []
    for i in range(int(args.rate * args.seconds)):
        await asyncio.sleep(max(0.0, begin + i / args.rate - loop.time()))
        tasks.append(asyncio.create_task(generation(args.port, next(jobs), None)))
    sent_for = loop.time() - begin
    return {"results": await asyncio.gather(*tasks), "sent_for": sent_for}


async def mode_accept(args: argparse.Namespace) -> dict[str, Any]:
    jobs = json.loads(Path(args.jobs).read_text())
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    answered = [0]  # warm-up included: what the servers' CPU was spent on
    loop = asyncio.get_running_loop()
    warm_until = loop.time() + args.warmup
    stop_at = warm_until + args.seconds

    async def worker(index: int) -> None:
        conn = Conn("127.0.0.1", args.port)
        for n in itertools.count(index):
            if loop.time() >= stop_at:
                break
            job = jobs[n % len(jobs)]
            headers = {"Authorization": f"Bearer {job['token']}"}
            t0 = time.perf_counter()
            status, _ = await conn.request(
                "POST", args.path.format(campaign=job["campaign"]), headers, GENERATE
            )
            answered[0] += 1
            if loop.time() >= warm_until:
                latencies.append(time.perf_counter() - t0)
                statuses[str(status)] = statuses.get(str(status), 0) + 1
        await conn.close()

    await asyncio.gather(*(worker(i) for i in range(args.conc)))
    # Percentiles here, not the raw list: at thousands of requests/s it is megabytes of JSON.
    ordered = sorted(latencies)

    def q(p: float) -> float | None:  # nearest rank, as stats.pct
        if not ordered:
            return None
        return ordered[max(0, min(len(ordered), math.ceil(len(ordered) * p / 100)) - 1)]

    return {
        "p50": q(50),
        "p99": q(99),
        "n": len(ordered),
        "statuses": statuses,
        "answered": answered[0],
        "seconds": args.seconds,
    }


async def mode_burst(args: argparse.Namespace) -> dict[str, Any]:
    """N accepts as fast as C connections allow; drafts/s = N / (first POST → last DraftStored)."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        args.stored_topic, bootstrap_servers=args.kafka, auto_offset_reset="latest", group_id=None
    )
    await consumer.start()
    while not consumer.assignment():
        await asyncio.sleep(0.05)
    for tp in consumer.assignment():  # pin the start position before the first POST
        await consumer.position(tp)
    jobs = itertools.cycle(json.loads(Path(args.jobs).read_text()))
    accepted: set[str] = set()
    errors = 0
    t0 = time.time()

    async def poster(count: int) -> None:
        nonlocal errors
        conn = Conn("127.0.0.1", args.port)
        for _ in range(count):
            job = next(jobs)
            status, body = await conn.request(
                "POST",
                f"/v1/campaigns/{job['campaign']}/drafts/generate",
                {"Authorization": f"Bearer {job['token']}"},
                GENERATE,
            )
            if status == 202:
                accepted.add(json.loads(body)["task_id"])
            else:
                errors += 1
        await conn.close()

    share = [args.n // args.conc + (i < args.n % args.conc) for i in range(args.conc)]
    posting = asyncio.gather(*(poster(c) for c in share))
    marks: dict[str, float] = {}
    posting.add_done_callback(lambda _: marks.setdefault("posted", time.time()))
    stored: dict[str, float] = {}
    deadline = time.time() + args.timeout
    while time.time() < deadline:
        batch = await consumer.getmany(timeout_ms=200)
        now = time.time()
        for records in batch.values():
            for record in records:
                task = json.loads(record.value)["task_id"]
                stored.setdefault(task, now)
        if posting.done() and accepted and accepted <= stored.keys():
            break
    await posting
    await consumer.stop()
    ours = [stored[t] for t in accepted if t in stored]
    return {
        "n": args.n,
        "accepted": len(accepted),
        "errors": errors,
        "stored": len(ours),
        "first_post": t0,
        "last_stored": max(ours, default=None),
        "posting_done": marks["posted"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["llm", "gen", "rate", "accept", "burst"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--jobs")
    parser.add_argument("--conc", type=int, default=1)
    parser.add_argument("--rate", type=float, default=1)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--warmup", type=float, default=1)
    parser.add_argument("--path", default="/v1/campaigns/{campaign}/drafts/generate")
    parser.add_argument("--n", type=int, default=100)
    parser.add_argument("--kafka")
    parser.add_argument("--stored-topic")
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    mode = globals()[f"mode_{args.mode}"]
    print(json.dumps(asyncio.run(mode(args))))


if __name__ == "__main__":
    main()
