"""List and replay dead letters (the records `bcrao_platform.deadletter` writes to `<topic>.dlq`).

    python -m bcrao_platform.dlq list   --bootstrap HOST:PORT --topic drafts.generated.dlq [--json]
    python -m bcrao_platform.dlq replay --bootstrap HOST:PORT --topic drafts.generated.dlq \\
        (--all | --offset PARTITION:OFFSET ...) [--reason REASON] [--dry-run]

`list` reads the topic from its beginning to its current end, without a consumer group (it
commits nothing and moves no one's position). `replay` publishes the original payload, with its
original key, to the original topic named in the record's headers (x-dlq-original-topic), so the
consumers take it again; the consumers are idempotent, so replaying a record twice stores nothing
twice. A record whose payload was too large to copy (x-dlq-payload=reference) holds only where
the original was: it is listed but cannot be replayed; replay reports it and exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from . import deadletter as dl

REPLAYED_FROM = "x-dlq-replayed-from"  # added to a replayed record: where it came back from


@dataclass(frozen=True)
class Entry:
    partition: int
    offset: int
    timestamp: str
    key: str | None
    reason: str
    error: str
    original_topic: str
    original_partition: str
    original_offset: str
    attempts: str
    consumer: str
    payload: str  # "inline" | "reference"
    size: int
    value: bytes
    raw_key: bytes | None

    @property
    def where(self) -> str:
        return f"{self.partition}:{self.offset}"

    @property
    def replayable(self) -> bool:
        return self.payload == "inline" and bool(self.original_topic)

    def public(self) -> dict[str, object]:
        """The fields worth printing (not the payload itself, which may hold user text)."""
        out = asdict(self)
        del out["value"], out["raw_key"]
        return out


def _entry(record: object) -> Entry:
    headers = {k: v.decode(errors="replace") for k, v in getattr(record, "headers", ()) or ()}
    key: bytes | None = getattr(record, "key", None)
    value: bytes = getattr(record, "value", None) or b""
    millis: int = getattr(record, "timestamp", 0)
    return Entry(
        partition=getattr(record, "partition", -1),
        offset=getattr(record, "offset", -1),
        timestamp=datetime.fromtimestamp(millis / 1000, UTC).isoformat(timespec="seconds"),
        key=key.decode(errors="replace") if key is not None else None,
        reason=headers.get(dl.HEADER_REASON, ""),
        error=headers.get(dl.HEADER_ERROR, ""),
        original_topic=headers.get(dl.HEADER_TOPIC, ""),
        original_partition=headers.get(dl.HEADER_PARTITION, ""),
        original_offset=headers.get(dl.HEADER_OFFSET, ""),
        attempts=headers.get(dl.HEADER_ATTEMPTS, ""),
        consumer=headers.get(dl.HEADER_CONSUMER, ""),
        # Records written before the payload header existed always carried the payload inline.
        payload=headers.get(dl.HEADER_PAYLOAD, "inline"),
        size=len(value),
        value=value,
        raw_key=key,
    )


async def read_dead_letters(bootstrap: str, topic: str, *, timeout: float = 30.0) -> list[Entry]:
    """Every record of `topic` from its beginning up to its end as of the call, oldest first."""
    partitions = await _partitions(bootstrap, topic)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, client_id="bcrao-dlq"
    )
    await consumer.start()
    try:
        assigned = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        entries: list[Entry] = []
        async with asyncio.timeout(timeout):
            while [tp for tp in assigned if await consumer.position(tp) < ends[tp]]:
                batches = await consumer.getmany(*assigned, timeout_ms=500)
                for tp, records in batches.items():
                    entries += [_entry(r) for r in records if r.offset < ends[tp]]
        return sorted(entries, key=lambda e: (e.timestamp, e.partition, e.offset))
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="bcrao-dlq")
    await admin.start()
    try:
        # Listing first: a metadata request naming a missing topic would have the broker
        # auto-create it.
        if topic not in await admin.list_topics():
            raise LookupError(f"no topic {topic}")
        [described] = await admin.describe_topics([topic])
        return sorted(p["partition"] for p in described["partitions"])
    finally:
        await admin.close()


@dataclass
class ReplayReport:
    replayed: list[Entry]
    refused: list[Entry]


async def replay(bootstrap: str, dlq_topic: str, entries: Sequence[Entry]) -> ReplayReport:
    """Publish each replayable entry's payload to its original topic (acks=all, idempotent)."""
    report = ReplayReport([], [])
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, client_id="bcrao-dlq"
    )
    await producer.start()
    try:
        for entry in entries:
            if not entry.replayable:
                report.refused.append(entry)
                continue
            headers = [
                ("content-type", b"application/json"),
                (REPLAYED_FROM, f"{dlq_topic}:{entry.where}".encode()),
            ]
            await producer.send_and_wait(
                entry.original_topic, entry.value, key=entry.raw_key, headers=headers
            )
            report.replayed.append(entry)
    finally:
        await producer.stop()
    return report


def _select(entries: list[Entry], args: argparse.Namespace) -> list[Entry]:
    chosen = entries
    if getattr(args, "offset", None):
        wanted = set(args.offset)
        chosen = [e for e in entries if e.where in wanted]
        missing = wanted - {e.where for e in chosen}
        if missing:
            raise LookupError(f"no record at {', '.join(sorted(missing))} in {args.topic}")
    if args.reason:
        chosen = [e for e in chosen if e.reason == args.reason]
    return chosen


def _line(entry: Entry) -> str:
    origin = f"{entry.original_topic}[{entry.original_partition}]@{entry.original_offset}"
    note = "" if entry.replayable else "  (payload too large: reference only, not replayable)"
    return (
        f"{entry.where:>8}  {entry.timestamp}  {entry.reason:<13} {origin}  "
        f"attempts={entry.attempts or '?'} consumer={entry.consumer or '?'} "
        f"key={entry.key} {entry.size}B  {entry.error[:160]}{note}"
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bcrao_platform.dlq",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="print every dead letter of a .dlq topic")
    again = commands.add_parser("replay", help="publish dead letters to their original topic")
    for command in (listing, again):
        command.add_argument("--bootstrap", required=True, help="HOST:PORT[,HOST:PORT...]")
        command.add_argument("--topic", required=True, help="a dead-letter topic (<topic>.dlq)")
        command.add_argument("--reason", choices=dl.REASONS, help="only records of this reason")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    which = again.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="every record (see --reason)")
    which.add_argument("--offset", action="append", metavar="PARTITION:OFFSET")
    again.add_argument("--dry-run", action="store_true", help="say what would be replayed")
    return parser


async def _run(args: argparse.Namespace) -> int:
    if not args.topic.endswith(".dlq"):
        print(f"dlq: {args.topic} is not a dead-letter topic (<topic>.dlq)", file=sys.stderr)
        return 2
    entries = _select(await read_dead_letters(args.bootstrap, args.topic), args)
    if args.command == "list":
        for entry in entries:
            print(json.dumps(entry.public()) if args.json else _line(entry))
        print(f"dlq: {len(entries)} dead letters in {args.topic}", file=sys.stderr)
        return 0
    if args.dry_run:
        for entry in entries:
            verb = "would replay" if entry.replayable else "cannot replay"
            print(f"{verb} {entry.where} -> {entry.original_topic or '?'}")
        return 0
    report = await replay(args.bootstrap, args.topic, entries)
    for entry in report.replayed:
        print(f"replayed {entry.where} -> {entry.original_topic} (key {entry.key})")
    for entry in report.refused:
        print(
            f"not replayed {entry.where}: the dead letter holds only a reference to "
            f"{entry.original_topic}[{entry.original_partition}]@{entry.original_offset} "
            "(payload too large to copy); recover it from there while its retention lasts",
            file=sys.stderr,
        )
    print(f"dlq: {len(report.replayed)} replayed, {len(report.refused)} not replayable")
    return 1 if report.refused else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # errors are reported below
    try:
        return asyncio.run(_run(args))
    except (LookupError, TimeoutError) as exc:
        print(f"dlq: {exc or 'timed out reading the topic'}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
