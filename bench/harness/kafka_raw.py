"""Raw aiokafka baselines: 2-hop round trips of the pipeline's message sizes, nothing else.

    kafka_raw.py forward --kafka K --src A --dst B --size S     (its own process: the "service")
    kafka_raw.py drive   --kafka K --src A --dst B --size S --n N            throughput
    kafka_raw.py drive   --kafka K --src A --dst B --size S --rate R --seconds T   latency

drive produces to A (acks=all), `forward` consumes A in a group, produces a message of the
generated size to B (acks=all) and commits; drive consumes B. Each message carries its send
time, so latency is send → back in the driver (one clock, one host).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


def _payload(index: int, size: int) -> bytes:
    head = json.dumps({"i": index, "t": time.time()}).encode()
    return head + b" " * max(0, size - len(head))


def _stamp(value: bytes) -> tuple[int, float]:
    head = json.loads(value[: value.index(b"}") + 1])
    return int(head["i"]), float(head["t"])


async def forward(args: argparse.Namespace) -> None:
    consumer = AIOKafkaConsumer(
        args.src,
        bootstrap_servers=args.kafka,
        group_id=f"{args.src}.fwd",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(bootstrap_servers=args.kafka, acks="all", linger_ms=1)
    await consumer.start()
    await producer.start()
    print("ready", flush=True)
    try:
        while True:
            batch = await consumer.getmany(timeout_ms=100, max_records=500)
            sends = []
            for records in batch.values():
                for record in records:
                    index, sent = _stamp(record.value)
                    head = json.dumps({"i": index, "t": sent}).encode()
                    value = head + b" " * max(0, args.size - len(head))
                    sends.append(await producer.send(args.dst, value, key=record.key))
            if sends:
                await asyncio.gather(*sends)
                await consumer.commit()
    finally:
        await producer.stop()
        await consumer.stop()


async def drive(args: argparse.Namespace) -> dict[str, Any]:
    sink = AIOKafkaConsumer(
        args.dst, bootstrap_servers=args.kafka, group_id=None, auto_offset_reset="latest"
    )
    await sink.start()
    while not sink.assignment():
        await asyncio.sleep(0.05)
    for tp in sink.assignment():
        await sink.position(tp)
    producer = AIOKafkaProducer(bootstrap_servers=args.kafka, acks="all", linger_ms=1)
    await producer.start()
    total = args.n if args.n else int(args.rate * args.seconds)
    latencies: list[float] = []
    seen: set[int] = set()

    async def receive() -> None:
        while len(seen) < total:
            batch = await sink.getmany(timeout_ms=200)
            now = time.time()
            for records in batch.values():
                for record in records:
                    index, sent = _stamp(record.value)
                    if index not in seen:
                        seen.add(index)
                        latencies.append(now - sent)

    receiver = asyncio.create_task(receive())
    started = time.time()
    loop = asyncio.get_running_loop()
    begin = loop.time()
    sends = []
    for i in range(total):
        if not args.n:
            await asyncio.sleep(max(0.0, begin + i / args.rate - loop.time()))
        sends.append(await producer.send(args.src, _payload(i, args.size_in), key=str(i).encode()))
    await asyncio.gather(*sends)
    with contextlib.suppress(TimeoutError):  # the report shows received < n
        await asyncio.wait_for(receiver, args.timeout)
    elapsed = time.time() - started
    await producer.stop()
    await sink.stop()
    return {"n": total, "received": len(seen), "elapsed": elapsed, "latencies": latencies}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["forward", "drive"])
    parser.add_argument("--kafka", required=True)
    parser.add_argument("--src", required=True)
    parser.add_argument("--dst", required=True)
    parser.add_argument("--size", type=int, default=5000, help="bytes of a message on dst")
    parser.add_argument("--size-in", type=int, default=3000, help="bytes of a message on src")
    parser.add_argument("--n", type=int, default=0)
    parser.add_argument("--rate", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    if args.mode == "forward":
        asyncio.run(forward(args))
    else:
        print(json.dumps(asyncio.run(drive(args))))


if __name__ == "__main__":
    main()
