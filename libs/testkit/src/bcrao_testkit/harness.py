"""One deployment under fault: three services and the fake LLM as processes, and its history.

`FaultStack` owns a topic prefix, a database on the given server, its own consumer groups and a
fake LLM process with a durable request log. `history()` joins what the load driver recorded with
the database and the LLM's log into a `history.History` for the checker.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from bcrao_platform.settings import sqlalchemy_url

from . import chaos_llm, fake_openai
from .databases import create_database, drop_database
from .history import DraftRow, History, LedgerRow, LlmCall, TaskRow
from .kafka_faults import create_topics
from .load import NONCE, LoadRecord
from .processes import Service, Stack
from .servers import free_port, loopback_get

TERMINAL = ("completed", "failed")
# Start-up (migrations, group joins) on a busy 2-core machine can take well over a minute.
HEALTHY_WITHIN = 150.0


@dataclass
class FaultStack:
    kafka: str
    server_url: str  # a PostgreSQL server where a database may be created
    log_dir: Path
    llm_chunk_delay: float = 0.05
    generator_env: dict[str, str] = field(default_factory=dict)
    # service name -> interpreter of another checkout (a release) to run it on
    pythons: dict[str, str] = field(default_factory=dict)
    draft_store_env: dict[str, str] = field(default_factory=dict)
    # Run on the new database before any service starts (e.g. migrate it with this checkout's
    # code, for a previous draft-store release that must work on the migrated schema).
    prepare: Callable[[str], None] | None = None
    db_url: str = ""
    stack: Stack | None = None
    llm: subprocess.Popen[bytes] | None = None
    llm_port: int = 0
    generators: list[Service] = field(default_factory=list)

    @property
    def s(self) -> Stack:
        assert self.stack is not None, "start() first"
        return self.stack

    @property
    def llm_log(self) -> Path:
        return self.log_dir / f"llm-{self.llm_port}.jsonl"

    @property
    def draft_store(self) -> Service:
        return self.s.services["draft-store"]

    @property
    def gateway(self) -> Service:
        return self.s.services["api-gateway"]

    async def start(self) -> FaultStack:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.db_url = create_database(self.server_url, prefix="bcrao_faults")
        if self.prepare is not None:
            await asyncio.to_thread(self.prepare, self.db_url)
        self.stack = Stack(
            kafka=self.kafka,
            database_url=sqlalchemy_url(self.db_url),
            log_dir=self.log_dir,
            pythons=dict(self.pythons),
        )
        await create_topics(self.kafka, self.s.topic_prefix)
        await asyncio.to_thread(self._start_processes)
        return self

    def _start_processes(self) -> None:
        self._start_llm()
        store = self.s.service(
            "draft-store",
            extra={
                "DRAFT_STORE_CONSUMER_GROUP": f"{self.s.topic_prefix}store",
                # A task never claimed (its requester vanished before publishing) is swept
                # within the checker's settle time instead of the production default (600 s).
                "DRAFT_STORE_UNCLAIMED_TASK_SECONDS": "120",
                "DRAFT_STORE_SWEEP_INTERVAL_SECONDS": "10",
                **self.draft_store_env,
            },
        )
        self.s.services["draft-store"] = store
        store.start()
        store.wait_healthy(HEALTHY_WITHIN)
        self.generators.append(self.new_generator())
        self.generators[0].start()
        gateway = self.s.service(
            "api-gateway",
            extra={"GATEWAY_GENERATE_RATE_PER_MINUTE": "10000", "GATEWAY_MAX_IN_FLIGHT": "1000"},
        )
        self.s.services["api-gateway"] = gateway
        gateway.start()
        self.generators[0].wait_healthy(HEALTHY_WITHIN)
        gateway.wait_healthy(HEALTHY_WITHIN)

    def _start_llm(self) -> None:
        self.llm_port = free_port()
        log = (self.log_dir / f"llm-{self.llm_port}.log").open("ab")
        self.llm = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bcrao_testkit.chaos_llm",
                "--port",
                str(self.llm_port),
                "--log",
                str(self.llm_log),
                "--chunk-delay",
                str(self.llm_chunk_delay),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                loopback_get(f"http://127.0.0.1:{self.llm_port}/_requests")
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("the fake LLM did not start")

    def new_generator(self) -> Service:
        """Another generator instance in the same group (not started)."""
        env = {
            "GENERATOR_GROUP_ID": f"{self.s.topic_prefix}generator",
            "GENERATOR_LLM_API_KEY": fake_openai.API_KEY,
            "GENERATOR_LLM_BASE_URL": f"http://127.0.0.1:{self.llm_port}/v1",
            "GENERATOR_LLM_MODEL": "gpt-4o-mini",
            **self.generator_env,
        }
        return self.s.service("generator", extra=env)

    @property
    def groups(self) -> dict[str, str]:
        return {
            "generator": f"{self.s.topic_prefix}generator",
            "draft-store": f"{self.s.topic_prefix}store",
        }

    def set_plan(self, user: str, plan: str = "growth") -> None:
        response = httpx.put(
            f"{self.draft_store.url}/internal/users/{user}/plan",
            json={"plan": plan},
            headers={"Authorization": f"Bearer {self.s.service_token}"},
            timeout=30,
        )
        response.raise_for_status()

    def stop(self) -> None:
        if self.stack is not None:  # whatever was started, also after a failed start
            services = self.stack.services
            if "api-gateway" in services:
                services["api-gateway"].stop()
            for generator in self.generators:
                generator.stop()
            if "draft-store" in services:
                services["draft-store"].stop()
        if self.llm is not None:
            self.llm.terminate()
            self.llm.wait(10)
        if self.db_url:
            with contextlib.suppress(psycopg.Error):
                drop_database(self.db_url)

    def logs(self) -> str:
        services = [*self.s.services.values(), *self.generators]
        return "\n".join(f"--- {s.name}:{s.port} ---\n{s.tail(25)}" for s in services)

    # -- history ------------------------------------------------------------------------------

    def snapshot(self) -> tuple[list[TaskRow], list[DraftRow], list[LedgerRow]]:
        with psycopg.connect(self.db_url, connect_timeout=5) as conn:
            tasks = [
                TaskRow(str(tid), user, status, _nonce(context), str(d) if d else None)
                for tid, user, status, context, d in conn.execute(
                    "SELECT task_id, user_id, status, request->>'context', draft_id"
                    " FROM generation_tasks"
                )
            ]
            drafts = [
                DraftRow(str(did), str(tid))
                for did, tid in conn.execute("SELECT id, task_id FROM drafts")
            ]
            ledger = [
                LedgerRow(str(tid), state)
                for tid, state in conn.execute("SELECT task_id, state FROM usage_ledger")
            ]
        return tasks, drafts, ledger

    def llm_calls(self) -> list[LlmCall]:
        return [
            LlmCall(str(r["nonce"]), float(r["started"]), bool(r["completed"]))
            for r in chaos_llm.read_log(self.llm_log)
        ]

    async def settle(self, timeout: float = 120) -> float:
        """Waits until no task is queued or running (or `timeout`); returns the seconds waited."""
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        while loop.time() - t0 < timeout:
            try:
                tasks, _, _ = await asyncio.to_thread(self.snapshot)
            except psycopg.Error:
                tasks = []
            else:
                if all(t.status in TERMINAL for t in tasks):
                    return loop.time() - t0
            await asyncio.sleep(1)
        return loop.time() - t0

    async def history(self, record: LoadRecord, disruptions: list[float]) -> History:
        tasks, drafts, ledger = await asyncio.to_thread(self.snapshot)
        return History(
            submissions=tuple(record.submissions),
            tasks=tuple(tasks),
            drafts=tuple(drafts),
            ledger=tuple(ledger),
            deleted=tuple(record.deleted),
            streams=tuple(record.streams),
            llm_calls=tuple(self.llm_calls()),
            disruptions=tuple(disruptions),
        )


def _nonce(context: str | None) -> str | None:
    found = NONCE.search(context or "")
    return found.group(0) if found else None
