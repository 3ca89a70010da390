"""The system under test: the real broker and database, the three services as processes, users.

Reuses the shared Kafka and PostgreSQL when their ports answer (one topic prefix and one
throwaway database per run), otherwise starts them with deploy/local/infra.sh.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
from bcrao_contracts import demo
from bcrao_contracts.topics import Topics, dlq
from bcrao_platform.settings import sqlalchemy_url
from bcrao_platform.topics import create_exact
from bcrao_testkit.databases import create_database, drop_database
from bcrao_testkit.processes import Service, Stack
from bcrao_testkit.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench" / "out"
KAFKA = f"127.0.0.1:{os.environ.get('KAFKA_PORT', '19092')}"
PG = f"postgresql://bcrao:bcrao@127.0.0.1:{os.environ.get('PG_PORT', '15432')}/bcrao"


def _answers(hostport: str) -> bool:
    host, _, port = hostport.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def ensure_infra() -> None:
    if _answers(KAFKA) and _answers(PG.split("@")[1].split("/")[0]):
        return
    print("Kafka/PostgreSQL not answering: starting them with deploy/local/infra.sh up", flush=True)
    subprocess.run(["bash", str(ROOT / "deploy/local/infra.sh"), "up"], check=True)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def create_topics(prefix: str, partitions: int) -> None:
    from aiokafka.admin import NewTopic

    names = Topics(prefix).all()
    topics = [NewTopic(n, partitions, 1) for n in names]
    topics += [NewTopic(dlq(n), 1, 1) for n in names]
    asyncio.run(create_exact(KAFKA, topics))


def create_named_topics(names: list[str], partitions: int) -> None:
    """Topics of the raw baselines, with as many partitions as the services' topics."""
    from aiokafka.admin import NewTopic

    asyncio.run(create_exact(KAFKA, [NewTopic(t, partitions, 1) for t in names]))


class System:
    """One deployment: its topics (prefix), its database, its services, its bench users."""

    def __init__(self, *, partitions: int, users: int, notes: list[str]) -> None:
        ensure_infra()
        self.db = create_database(PG, prefix="bcrao_bench")
        self.stack = Stack(kafka=KAFKA, database_url=sqlalchemy_url(self.db), log_dir=OUT / "logs")
        self.topics = Topics(self.stack.topic_prefix)
        self.partitions = partitions
        self.n_users = users
        self.notes = notes
        self.jobs: list[dict[str, str]] = []
        self.jobs_file = OUT / "jobs.json"
        create_topics(self.stack.topic_prefix, partitions)

    # --- services -------------------------------------------------------------------------
    def start(
        self, name: str, env: dict[str, str], fallbacks: dict[str, str] | None = None
    ) -> Service:
        """Starts `name` with `env`; a value the service rejects is replaced by its fallback."""
        old = self.stack.services.get(name)
        if old is not None:
            old.stop()
        env = {**self._groups(), **env}
        svc = self.stack.service(name, port=old.port if old else None, extra=env)
        self.stack.services[name] = svc
        svc.start()
        try:
            svc.wait_healthy(timeout=90)
        except RuntimeError:
            log = svc.tail(80).lower()
            rejected = {  # settings the error names (by variable or field name), once each
                k: v
                for k, v in (fallbacks or {}).items()
                if env.get(k) != v and (k.lower() in log or k.split("_", 1)[1].lower() in log)
            }
            if not rejected:
                raise
            svc.stop()
            for key, value in rejected.items():
                self.notes.append(f"{name} rejected {key}={env[key]}; fell back to {value}")
            return self.start(name, {**env, **rejected})
        return svc

    def _groups(self) -> dict[str, str]:
        """Consumer groups of this run only. A group is broker-wide whatever its topics: sharing
        "generator" with other stacks on the same broker (tests running meanwhile) makes every
        start or stop of theirs rebalance this run's consumers, a pause of seconds each time."""
        prefix = self.stack.topic_prefix
        return {
            "GENERATOR_GROUP_ID": f"{prefix}generator",
            "DRAFT_STORE_CONSUMER_GROUP": f"{prefix}draft-store",
        }

    def pid(self, name: str) -> int:
        process = self.stack.services[name].process
        assert process is not None
        return process.pid

    def rss(self) -> dict[str, float]:
        return {name: rss_mib(self.pid(name)) for name in self.stack.services}

    def stop(self) -> None:
        self.stack.stop()
        drop_database(self.db)

    # --- users ----------------------------------------------------------------------------
    def token(self, user: str) -> str:
        now = int(time.time())
        claims = {
            "sub": user,
            "iss": "bcrao-drafts",
            "aud": "bcrao-api",
            "iat": now,
            "exp": now + 6 * 3600,
        }
        return jwt.encode(claims, self.stack.jwt_secret, algorithm="HS256")

    def create_users(self) -> None:
        """Bench users on the growth plan (no monthly draft cap), each with the demo campaign."""
        asyncio.run(self._create_users())
        self.jobs_file.write_text(json.dumps(self.jobs))

    async def _create_users(self) -> None:
        store = self.stack.services["draft-store"].url
        gateway = self.stack.gateway.url
        service_auth = {"Authorization": f"Bearer {self.stack.service_token}"}
        async with httpx.AsyncClient(timeout=60) as client:

            async def one(i: int) -> dict[str, str]:
                user = f"bench-{i:03d}"
                auth = {"Authorization": f"Bearer {self.token(user)}"}
                r = await client.put(
                    f"{store}/internal/users/{user}/plan",
                    json={"plan": "growth"},
                    headers=service_auth,
                )
                r.raise_for_status()
                r = await client.post(
                    f"{gateway}/v1/campaigns",
                    headers=auth,
                    json=demo.CAMPAIGN.model_dump(mode="json"),
                )
                r.raise_for_status()
                campaign = str(r.json()["id"])
                for subreddit, profile in demo.PROFILES.items():
                    (
                        await client.put(
                            f"{gateway}/v1/campaigns/{campaign}/profiles/{subreddit}",
                            headers=auth,
                            json=profile.model_dump(mode="json"),
                        )
                    ).raise_for_status()
                for entry in demo.BLACKLIST:
                    (
                        await client.post(
                            f"{gateway}/v1/campaigns/{campaign}/blacklist",
                            headers=auth,
                            json=entry.model_dump(mode="json"),
                        )
                    ).raise_for_status()
                return {"user": user, "token": self.token(user), "campaign": campaign}

            sem = asyncio.Semaphore(8)

            async def limited(i: int) -> dict[str, str]:
                async with sem:
                    return await one(i)

            self.jobs = list(await asyncio.gather(*(limited(i) for i in range(self.n_users))))


def run_json(args: list[str], timeout: float = 600, env: dict[str, str] | None = None) -> Any:
    """Runs a harness script as its own process; returns the JSON it printed last."""
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def harness(name: str) -> str:
    return str(ROOT / "bench" / "harness" / name)


def loadgen(mode: str, port: int, jobs: Path | None = None, **options: object) -> list[str]:
    """The command line of one load-generator run: `loadgen.py MODE --port P [--jobs F] --opt v`
    (an option `stored_topic` becomes `--stored-topic`)."""
    args = [harness("loadgen.py"), mode, "--port", str(port)]
    if jobs is not None:
        args += ["--jobs", str(jobs)]
    for name, value in options.items():
        args += [f"--{name.replace('_', '-')}", str(value)]
    return args


def spawn(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    log.parent.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, *args],
        env={**os.environ, **(env or {})},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the process exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


__all__ = ["KAFKA", "OUT", "PG", "System", "free_port", "harness", "run_json", "spawn", "wait_http"]
