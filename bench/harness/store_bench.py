"""B4, one round, its own process: draft-store storing a DraftGenerated burst, then the baselines.

1. opens N tasks through draft-store's internal API (setup, not timed) and builds N
   DraftGenerated events from the pure pipeline's template (fresh ids per task);
2. subject: produce the burst (acks=all) → every DraftStored seen; drafts/s = N / that time;
3. baselines on the very rows draft-store wrote: one psycopg COPY into a table shaped like
   `drafts` (same defaults, indexes and checks), and one INSERT + COMMIT per row into another.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

sys.path.insert(0, str(Path(__file__).resolve().parent))
import cpu
from rawhttp import Conn

BODY = {"subreddit": "SaaS", "archetype": "ProblemSolution", "context": "late invoices"}


async def open_tasks(args: argparse.Namespace) -> list[dict[str, Any]]:
    jobs = itertools.cycle(json.loads(Path(args.jobs).read_text()))
    host, port = args.store.removeprefix("http://").split(":")
    opened: list[dict[str, Any]] = []
    auth = {"Authorization": f"Bearer {os.environ['BENCH_SERVICE_TOKEN']}"}

    async def worker(count: int) -> None:
        conn = Conn(host, int(port))
        for _ in range(count):
            job = next(jobs)
            path = f"/internal/users/{job['user']}/campaigns/{job['campaign']}/tasks"
            status, body = await conn.request("POST", path, auth, BODY)
            if status != 201:
                raise RuntimeError(f"opening a task: HTTP {status} {body[:300]!r}")
            opened.append(json.loads(body))
        await conn.close()

    await asyncio.gather(*(worker(args.n // 8 + (i < args.n % 8)) for i in range(8)))
    return opened


def generated(template: dict[str, Any], request: dict[str, Any]) -> bytes:
    event = json.loads(json.dumps(template))
    event.update(
        event_id=str(uuid.uuid4()),
        task_id=request["task_id"],
        correlation_id=request["task_id"],
        occurred_at=datetime.now(UTC).isoformat(),
    )
    event["draft"].update(campaign_id=request["campaign"]["id"], user_id=request["user_id"])
    return json.dumps(event).encode()


async def subject(args: argparse.Namespace, events: list[tuple[str, bytes]]) -> float:
    sink = AIOKafkaConsumer(
        f"{args.prefix}drafts.stored",
        bootstrap_servers=args.kafka,
        group_id=None,
        auto_offset_reset="latest",
    )
    await sink.start()
    while not sink.assignment():
        await asyncio.sleep(0.05)
    for tp in sink.assignment():
        await sink.position(tp)
    producer = AIOKafkaProducer(bootstrap_servers=args.kafka, acks="all", linger_ms=5)
    await producer.start()
    wanted = {task for task, _ in events}
    started = time.perf_counter()
    sends = [
        await producer.send(f"{args.prefix}drafts.generated", value, key=task.encode())
        for task, value in events
    ]
    await asyncio.gather(*sends)
    deadline = time.perf_counter() + args.timeout
    while wanted and time.perf_counter() < deadline:
        for records in (await sink.getmany(timeout_ms=200)).values():
            for record in records:
                wanted.discard(json.loads(record.value)["task_id"])
    elapsed = time.perf_counter() - started
    await producer.stop()
    await sink.stop()
    if wanted:
        raise RuntimeError(f"{len(wanted)} of {len(events)} drafts never reported stored")
    return elapsed


def baselines(url: str, tasks: list[str], copy_first: bool) -> dict[str, float]:
    with psycopg.connect(url) as conn:
        columns = [
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'drafts' "
                "ORDER BY ordinal_position"
            ).fetchall()
        ]
        for table in ("bench_copy", "bench_rows"):
            conn.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (LIKE drafts INCLUDING DEFAULTS "
                "INCLUDING INDEXES INCLUDING CONSTRAINTS)"
            )
            conn.execute(f"TRUNCATE {table}")
        select = ", ".join(f"{c}::text" for c in columns)
        rows = conn.execute(
            f"SELECT {select} FROM drafts WHERE task_id::text = ANY(%s)", (tasks,)
        ).fetchall()
        conn.commit()
        names = ", ".join(columns)
        placeholders = ", ".join(["%s"] * len(columns))

        def copy() -> float:
            started = time.perf_counter()
            with conn.cursor() as cur, cur.copy(f"COPY bench_copy ({names}) FROM STDIN") as out:
                for row in rows:
                    out.write_row(row)
            conn.commit()
            return len(rows) / (time.perf_counter() - started)

        def row_by_row() -> float:
            started = time.perf_counter()
            for row in rows:
                conn.execute(f"INSERT INTO bench_rows ({names}) VALUES ({placeholders})", row)
                conn.commit()
            return len(rows) / (time.perf_counter() - started)

        if copy_first:
            return {"copy_per_s": copy(), "rows_per_s": row_by_row(), "rows": len(rows)}
        rows_rate = row_by_row()
        return {"copy_per_s": copy(), "rows_per_s": rows_rate, "rows": len(rows)}


async def batches_seen(store: str, topic: str) -> tuple[float, float]:
    """draft-store's own count of consumed DraftGenerated batches and their messages."""
    host, port = store.removeprefix("http://").split(":")
    conn = Conn(host, int(port))
    status, body = await conn.request("GET", "/metrics", {}, None)
    await conn.close()
    if status != 200:
        return (0.0, 0.0)
    figures = {"count": 0.0, "sum": 0.0}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            kind = sample.name.removeprefix("draft_store_batch_size_")
            if kind in figures and sample.labels.get("topic") == topic:
                figures[kind] += sample.value
    return (figures["count"], figures["sum"])


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    template = json.loads(Path(args.template).read_text())
    requests = await open_tasks(args)
    events = [(r["task_id"], generated(template, r)) for r in requests]
    topic = f"{args.prefix}drafts.generated"
    before = await batches_seen(args.store, topic)
    used_before = cpu.snapshot()
    elapsed = await subject(args, events)
    used = cpu.usage(used_before, cpu.snapshot())
    after = await batches_seen(args.store, topic)
    result = baselines(args.database_url, [t for t, _ in events], args.round % 2 == 0)
    batches = after[0] - before[0]
    return {
        "n": len(events),
        "store_per_s": len(events) / elapsed,
        "batches": batches,
        "mean_batch": (after[1] - before[1]) / batches if batches else 0.0,
        "cpu": used.as_dict(),
        **result,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("store", "jobs", "kafka", "prefix", "template", "database-url"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--round", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args))))


if __name__ == "__main__":
    main()
