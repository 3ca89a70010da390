"""The one topic-provisioning command: every topic of `bcrao_contracts.topics` and its `.dlq`.

    python -m bcrao_platform.topics ensure --bootstrap HOST:PORT [--prefix P]
        [--partitions 24] [--replication-factor 1] [--timeout 60]
    python -m bcrao_platform.topics plan [--prefix P]     # what `ensure` would want, as JSON

`make up` (deploy/local/kafka.sh), the compose provisioning job and the tests run `ensure`; the
Kubernetes manifests declare the same topics as Strimzi KafkaTopic resources, and a test checks
them against `topic_specs()`. Running it again is harmless: existing topics are kept, topics
with fewer partitions than wanted gain partitions (Kafka never removes any), and a retention
that differs from the table below is set back to it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.client import AIOKafkaClient
from aiokafka.errors import KafkaError
from bcrao_contracts import topics as contract
from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

# 24 partitions bound every consumer group at 24 busy members, and keep the gateways' broadcast
# reader (each gateway reads every partition of the streaming topics) cheap: docs/OPERATIONS.md.
DEFAULT_PARTITIONS = 24
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS

# How long each topic keeps its records. Progress (chunks of text as they are written) only
# matters while a stream is open or a gateway replays its window (GATEWAY_STREAM__REPLAY_SECONDS,
# 15 minutes by default): one day is ample. The other events are replayable work for a week.
# Dead letters wait two weeks for someone to look at them.
RETENTION_MS: dict[str, int] = {
    contract.GENERATE_REQUESTED: 7 * DAY_MS,
    contract.PROGRESS: 1 * DAY_MS,
    contract.GENERATED: 7 * DAY_MS,
    contract.FAILED: 7 * DAY_MS,
    contract.STORED: 7 * DAY_MS,
}
DLQ_RETENTION_MS = 14 * DAY_MS

TOPIC_ALREADY_EXISTS = 36
T = TypeVar("T")


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)

    @property
    def retention_ms(self) -> int:
        return int(self.configs["retention.ms"])


def topic_specs(
    prefix: str = "", partitions: int = DEFAULT_PARTITIONS, replication_factor: int = 1
) -> list[TopicSpec]:
    """Every topic the services use, then every dead-letter topic, with their configuration."""
    extra: dict[str, str] = {}
    if replication_factor >= 3:
        # acks=all then survives one broker down without accepting a write held by one replica.
        extra["min.insync.replicas"] = "2"
    specs = [
        TopicSpec(prefix + name, partitions, {"retention.ms": str(RETENTION_MS[name]), **extra})
        for name in contract.ALL
    ]
    specs += [
        TopicSpec(
            contract.dlq(prefix + name),
            partitions,
            {"retention.ms": str(DLQ_RETENTION_MS), **extra},
        )
        for name in contract.ALL
    ]
    return specs


@dataclass
class EnsureReport:
    created: list[str] = field(default_factory=list)
    grown: dict[str, tuple[int, int]] = field(default_factory=dict)  # name -> (before, after)
    reconfigured: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{len(self.created)} created", f"{len(self.grown)} given more partitions"]
        parts += [f"{len(self.reconfigured)} reconfigured", f"{len(self.unchanged)} unchanged"]
        return ", ".join(parts)


class ProvisioningError(RuntimeError):
    pass


async def ensure_topics(
    bootstrap: str,
    prefix: str = "",
    partitions: int = DEFAULT_PARTITIONS,
    replication_factor: int = 1,
    *,
    timeout: float = 60.0,
) -> EnsureReport:
    """Create what is missing, grow what is too small, reset retention that drifted.

    Waits up to `timeout` seconds for the broker to answer (a provisioning job usually starts
    with the broker). Raises ProvisioningError when the broker refuses a change.
    """
    specs = topic_specs(prefix, partitions, replication_factor)
    admin = await _connect(bootstrap, timeout)
    try:
        return await _ensure(admin, specs, replication_factor, timeout)
    finally:
        await admin.close()


async def create_exact(
    bootstrap: str, topics: Sequence[NewTopic], *, timeout: float = 60.0
) -> list[str]:
    """Create the given topics as they are (tests and benches: their own partitions and limits,
    not the table's) and return once every partition has a leader; returns the names created.

    A topic that exists is kept as it is. Returning before the metadata shows the partitions
    would let a consumer started next subscribe to a topic it cannot see yet: it then holds no
    partition until its next metadata refresh (five minutes by default).
    """
    admin = await _connect(bootstrap, timeout)
    try:
        created = await _create_missing(admin, topics)
        new = {t.name: t.num_partitions for t in topics if t.name in created}
        await _wait_for_partitions(admin, {t.name: 1 for t in topics} | new, timeout)
        return created
    finally:
        await admin.close()


async def _create_missing(admin: AIOKafkaAdminClient, topics: Sequence[NewTopic]) -> list[str]:
    """Create the topics that do not exist yet; returns the names this call created (one made
    meanwhile by someone else is fine and not counted)."""
    # Listing first: a metadata request naming a missing topic would have the broker auto-create
    # it (auto.create.topics.enable) with the broker's defaults instead of ours.
    existing = set(await admin.list_topics())
    missing = [t for t in topics if t.name not in existing]
    if not missing:
        return []
    created: list[str] = []
    response = await admin.create_topics(missing)
    for name, code, message in response.topic_errors:
        if code == 0:
            created.append(name)
        elif code != TOPIC_ALREADY_EXISTS:
            raise ProvisioningError(f"cannot create {name}: error {code} {message}")
    return created


class _NotYet(Exception):
    """The broker has not caught up yet (metadata or configuration): look again shortly."""


def _patiently(timeout: float, *retry_on: type[BaseException]) -> AsyncRetrying:
    return AsyncRetrying(
        stop=stop_after_delay(timeout),
        wait=wait_exponential_jitter(multiplier=0.1, max=1.0, jitter=0.1),
        retry=retry_if_exception_type(retry_on),
        reraise=True,
    )


async def track_only(client: AIOKafkaAdminClient | AIOKafkaConsumer, topics: Sequence[str]) -> None:
    """Keep a long-lived side client's metadata to `topics`. An admin client, and a consumer
    that neither subscribes nor is assigned, follow no topic, and aiokafka then asks for the
    metadata of the whole cluster every `metadata_max_age_ms` (5 minutes): on a broker of
    12,000 partitions that is megabytes parsed per refresh, and each one left the process a few
    MiB bigger (B5's RSS stepped every 5 minutes in all three services). aiokafka has no public
    way to say which topics such a client follows, hence its inner client's `set_topics` (what
    `subscribe` and `assign` call); with another aiokafka that lacks it, nothing changes."""
    inner = getattr(client, "_client", None)
    if topics and isinstance(inner, AIOKafkaClient):
        await inner.set_topics(list(topics))


async def broker_tracks_its_topics(broker: Any) -> None:
    """A started FastStream `KafkaBroker` keeps an admin client (for `ping` and creating topics)
    that follows no topic: `track_only` it to the broker's subscribed and published topics.
    `broker.config.admin` is FastStream's (pinned below 0.8); absent, nothing changes."""
    admin = getattr(getattr(getattr(broker, "config", None), "admin", None), "admin_client", None)
    topics = {t for s in broker.subscribers for t in s.topic_names_for_subscribe}
    topics.update(p.topic for p in broker.publishers if getattr(p, "topic", None))
    if admin is not None:
        await track_only(admin, sorted(topics))


async def _connect(bootstrap: str, timeout: float) -> AIOKafkaAdminClient:
    try:
        async for attempt in _patiently(timeout, KafkaError, OSError):
            with attempt:
                admin = AIOKafkaAdminClient(
                    bootstrap_servers=bootstrap, client_id="bcrao-topics", request_timeout_ms=15_000
                )
                try:
                    await admin.start()
                    await admin.describe_cluster()
                except BaseException:
                    await admin.close()
                    raise
                return admin
    except (KafkaError, OSError) as exc:
        raise ProvisioningError(f"no Kafka broker answers on {bootstrap}: {exc}") from exc
    raise AssertionError("unreachable: tenacity either returns or re-raises")


async def _ensure(
    admin: AIOKafkaAdminClient, specs: list[TopicSpec], replication_factor: int, timeout: float
) -> EnsureReport:
    report = EnsureReport()
    by_name = {s.name: s for s in specs}
    report.created = await _create_missing(
        admin,
        [
            NewTopic(s.name, s.partitions, replication_factor, topic_configs=s.configs)
            for s in specs
        ],
    )

    present = [s for s in specs if s.name not in report.created]
    counts = await _wait_for_partitions(admin, {s.name: 1 for s in specs}, timeout)
    grow = {s.name: counts[s.name] for s in present if counts[s.name] < s.partitions}
    if grow:
        await admin.create_partitions(
            {name: NewPartitions(total_count=by_name[name].partitions) for name in grow}
        )
        report.grown = {name: (before, by_name[name].partitions) for name, before in grow.items()}
    # Returning only once every partition has a leader: services started next find them all.
    await _wait_for_partitions(admin, {s.name: s.partitions for s in specs}, timeout)

    drifted = await _drifted_configs(admin, present)
    if drifted:
        # AlterConfigs replaces a topic's dynamic configuration: the table is the whole of it.
        responses = await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, s.name, s.configs) for s in drifted]
        )
        for response in responses:
            for code, message, _type, name in response.resources:
                if code:
                    raise ProvisioningError(f"cannot configure {name}: error {code} {message}")
        report.reconfigured = [s.name for s in drifted]
        await _wait_for_configs(admin, drifted, timeout)
    changed = set(report.created) | set(report.grown) | set(report.reconfigured)
    report.unchanged = [s.name for s in specs if s.name not in changed]
    return report


async def _wait_for_partitions(
    admin: AIOKafkaAdminClient, at_least: dict[str, int], timeout: float
) -> dict[str, int]:
    """Partition counts once the metadata shows every topic with at least that many partitions,
    each with a leader (a topic just created or grown is not in the metadata at once)."""

    async def look() -> dict[str, int]:
        counts: dict[str, int] = {}
        for topic in await admin.describe_topics(list(at_least)):
            led = [p for p in topic["partitions"] if p["error_code"] == 0 and p["leader"] >= 0]
            if topic["error_code"] == 0 and len(led) == len(topic["partitions"]):
                counts[topic["topic"]] = len(led)
        late = sorted(n for n, want in at_least.items() if counts.get(n, 0) < want)
        if late:
            raise _NotYet(f"topics without all their partitions yet: {late}")
        return counts

    return await _until(look, timeout)


async def _wait_for_configs(
    admin: AIOKafkaAdminClient, specs: list[TopicSpec], timeout: float
) -> None:
    """A change reaches the brokers through the metadata log: wait until they serve it."""

    async def look() -> None:
        if late := await _drifted_configs(admin, specs):
            raise _NotYet(f"configuration not applied yet: {[s.name for s in late]}")

    await _until(look, timeout)


async def _until(look: Callable[[], Awaitable[T]], timeout: float) -> T:
    try:
        async for attempt in _patiently(timeout, _NotYet):
            with attempt:
                return await look()
    except _NotYet as exc:
        raise ProvisioningError(str(exc)) from None
    raise AssertionError("unreachable: tenacity either returns or re-raises")


async def _drifted_configs(admin: AIOKafkaAdminClient, specs: list[TopicSpec]) -> list[TopicSpec]:
    if not specs:
        return []
    responses = await admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, s.name, dict.fromkeys(s.configs)) for s in specs]
    )
    actual: dict[str, dict[str, str]] = {}
    for response in responses:
        for resource in response.to_object()["resources"]:
            actual[resource["resource_name"]] = {
                entry["config_names"]: entry["config_value"] for entry in resource["config_entries"]
            }
    return [
        s for s in specs if any(actual.get(s.name, {}).get(k) != v for k, v in s.configs.items())
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bcrao_platform.topics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ensure = commands.add_parser("ensure", help="create or bring up to date every topic")
    ensure.add_argument("--bootstrap", required=True, help="HOST:PORT[,HOST:PORT...]")
    plan = commands.add_parser("plan", help="print the wanted topics as JSON (no broker)")
    for command in (ensure, plan):
        command.add_argument("--prefix", default="", help="prepended to every topic name")
        command.add_argument("--partitions", type=int, default=DEFAULT_PARTITIONS)
        command.add_argument("--replication-factor", type=int, default=1)
    ensure.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the broker to answer"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # While the broker is still starting, aiokafka logs every refused connection; the command
    # reports the outcome itself.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    if args.partitions < 1 or args.replication_factor < 1:
        print("topics: --partitions and --replication-factor must be at least 1", file=sys.stderr)
        return 2
    if args.command == "plan":
        specs = topic_specs(args.prefix, args.partitions, args.replication_factor)
        print(json.dumps([s.__dict__ for s in specs], indent=2))
        return 0
    try:
        report = asyncio.run(
            ensure_topics(
                args.bootstrap,
                args.prefix,
                args.partitions,
                args.replication_factor,
                timeout=args.timeout,
            )
        )
    except ProvisioningError as exc:
        print(f"topics: {exc}", file=sys.stderr)
        return 1
    for name in report.created:
        print(f"topics: created {name}")
    for name, (before, after) in report.grown.items():
        print(f"topics: {name} grown from {before} to {after} partitions")
    for name in report.reconfigured:
        print(f"topics: {name} retention reset")
    print(f"topics: {report.summary()} ({args.partitions} partitions each)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
