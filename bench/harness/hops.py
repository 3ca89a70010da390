"""Per-hop timestamps of one burst, read back from the topics: does any hop hold a generation
behind another?

    hops.py --kafka K --prefix P --since-ms T

Every record carries its producer's CreateTime (ms). For each task whose GenerateRequested was
produced at or after T: the gateway's publish (GenerateRequested), the generator's first
message (its first ProgressUpdated, sent once the claim came back), the GENERATING status (the
LLM call starts), the first chunk, DraftGenerated, and draft-store's DraftStored. Prints, per
milestone, the spread over the burst (ms after the first publish: min / p50 / max), per hop the
duration (p50 / max) and its correlation with the task's rank in the burst, and how many
ProgressUpdated one generation produced. A hop that holds one generation behind another shows
as durations that grow with the rank.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import statistics
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from bcrao_contracts.topics import Topics

MILESTONES = ("published", "claimed", "generating", "first_chunk", "generated", "stored")


async def _read(kafka: str, topic: str, since_ms: int) -> list[Any]:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not parts:
            await consumer._client.force_metadata_update()
            parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        found = await consumer.offsets_for_times({tp: since_ms for tp in parts})
        todo = {}
        for tp in parts:
            start = found[tp].offset if found.get(tp) else ends[tp]
            if start < ends[tp]:
                consumer.seek(tp, start)
                todo[tp] = ends[tp]
        out: list[Any] = []
        while todo:
            batches = await consumer.getmany(*todo, timeout_ms=1000)
            for tp, records in batches.items():
                out += records
                if records and records[-1].offset + 1 >= todo[tp]:
                    del todo[tp]
        return out
    finally:
        await consumer.stop()


def _rank_correlation(xs: list[float], ys: list[float]) -> float | None:
    if len(xs) < 3 or statistics.pstdev(xs) == 0 or statistics.pstdev(ys) == 0:
        return None
    return statistics.correlation(xs, ys)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    topics = Topics(args.prefix)
    tasks: dict[bytes, dict[str, float]] = {}
    for record in await _read(args.kafka, topics.generate_requested, args.since_ms):
        tasks.setdefault(record.key, {})["published"] = record.timestamp
    for record in await _read(args.kafka, topics.progress, args.since_ms):
        seen = tasks.get(record.key)
        if seen is None:
            continue
        event = json.loads(record.value)
        seen["progress"] = seen.get("progress", 0) + 1
        seen["claimed"] = min(seen.get("claimed", record.timestamp), record.timestamp)
        if event.get("stage") == "generating" and not event.get("restart"):
            seen["generating"] = min(seen.get("generating", record.timestamp), record.timestamp)
        if event.get("kind") == "chunk":
            seen["first_chunk"] = min(seen.get("first_chunk", record.timestamp), record.timestamp)
    for name, topic in (("generated", topics.generated), ("stored", topics.stored)):
        for record in await _read(args.kafka, topic, args.since_ms):
            if record.key in tasks:
                tasks[record.key][name] = record.timestamp
    done = [t for t in tasks.values() if all(m in t for m in MILESTONES)]
    if not done:
        return {"tasks": len(tasks), "complete": 0}
    zero = min(t["published"] for t in done)
    done.sort(key=lambda t: t["published"])
    spread = {
        m: [min(v := [t[m] - zero for t in done]), statistics.median(v), max(v)] for m in MILESTONES
    }
    ranks = [float(i) for i in range(len(done))]
    hops = {}
    for a, b in itertools.pairwise(MILESTONES):
        durations = [t[b] - t[a] for t in done]
        hops[f"{a}→{b}"] = {
            "p50": statistics.median(durations),
            "max": max(durations),
            "rank_corr": _rank_correlation(ranks, durations),
        }
    progress = statistics.median(t.get("progress", 0) for t in done)
    return {
        "tasks": len(tasks),
        "complete": len(done),
        "progress_per_task": progress,
        "spread": spread,
        "hops": hops,
    }


def describe(result: dict[str, Any]) -> list[str]:
    """Lines for the report."""
    if not result.get("complete"):
        return [f"per-hop timestamps: no complete task among {result.get('tasks', 0)}"]
    lines = [
        f"{result['complete']} tasks, {result.get('progress_per_task', 0):.0f} ProgressUpdated "
        "each (median); ms after the burst's first publish (min / p50 / max): "
        + ", ".join(
            f"{m} {lo:.0f}/{mid:.0f}/{hi:.0f}" for m, (lo, mid, hi) in result["spread"].items()
        )
    ]
    lines.append(
        "hop durations, ms (p50 / max; correlation with the task's rank in the burst): "
        + ", ".join(
            f"{name} {h['p50']:.0f}/{h['max']:.0f}"
            + (f" (r={h['rank_corr']:+.2f})" if h["rank_corr"] is not None else "")
            for name, h in result["hops"].items()
        )
    )
    return lines


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--kafka", required=True)
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--since-ms", type=int, required=True)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
