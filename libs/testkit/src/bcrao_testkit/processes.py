"""The three services as real OS processes, for end-to-end tests and benchmarks.

Each service runs on an interpreter of its own choosing: this checkout's (`sys.executable`) by
default, or another checkout's environment (`Stack.pythons`, e.g. a release's worktree from
`bcrao_testkit.releases.checkout`), whose editable installs bring that checkout's source.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .servers import free_port, loopback_get

MODULES = {
    "draft-store": "bcrao_draft_store",
    "generator": "bcrao_generator",
    "api-gateway": "bcrao_gateway",
}
HEALTH = {"draft-store": "/healthz", "generator": "/healthz", "api-gateway": "/readyz"}


@dataclass
class Service:
    name: str
    env: dict[str, str]
    port: int
    log_path: Path
    python: str = sys.executable  # the interpreter (and so the environment and source) it runs on
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = self.log_path.open("ab")
        # Another checkout's interpreter must not see this one's environment or source path.
        inherited = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        self.process = subprocess.Popen(
            [self.python, "-m", MODULES[self.name]],
            env={**inherited, **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait_healthy(self, timeout: float = 120) -> None:
        # Generous: on two busy cores a start (imports, migrations, a group join) can take a
        # minute; the wait ends as soon as the service answers.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                if loopback_get(self.url + HEALTH[self.name]).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not become healthy:\n{self.tail()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return self.process.returncode

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def replacement(self, python: str | None = None) -> Service:
        """The same service again (same settings, port and log), not started yet; on another
        interpreter (another version of the service) when `python` is given."""
        return Service(self.name, dict(self.env), self.port, self.log_path, python or self.python)

    def version(self) -> str:
        """The version the running process reports on /healthz."""
        answer = loopback_get(self.url + "/healthz", timeout=5)
        answer.raise_for_status()
        return str(answer.json()["version"])

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@dataclass
class Stack:
    """Settings shared by one deployment of the three services (one topic prefix, one database)."""

    kafka: str
    database_url: str
    log_dir: Path
    topic_prefix: str = field(default_factory=lambda: f"t{secrets.token_hex(4)}.")
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48))
    service_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    generator_env: dict[str, str] = field(default_factory=dict)
    gateway_env: dict[str, str] = field(default_factory=dict)
    # service name -> interpreter to run it on (another checkout's .venv/bin/python)
    pythons: dict[str, str] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)

    def _common(self, prefix: str) -> dict[str, str]:
        return {
            f"{prefix}_KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            f"{prefix}_TOPIC_PREFIX": self.topic_prefix,
            f"{prefix}_HOST": "127.0.0.1",
        }

    def _claims(self) -> dict[str, str]:
        """The generator claims each task from draft-store before its LLM call, as deployed."""
        store = self.services.get("draft-store")
        if store is None:
            return {}
        return {
            "GENERATOR_DRAFT_STORE_URL": store.url,
            "GENERATOR_DRAFT_STORE_TOKEN": self.service_token,
        }

    def service(
        self, name: str, *, port: int | None = None, extra: dict[str, str] | None = None
    ) -> Service:
        port = port or free_port()
        # Consumer groups belong to the whole broker, whatever their topics: without the prefix,
        # starting or stopping one stack's service would rebalance every other stack's consumers.
        if name == "draft-store":
            env = {
                **self._common("DRAFT_STORE"),
                "DRAFT_STORE_CONSUMER_GROUP": f"{self.topic_prefix}draft-store",
                "DRAFT_STORE_PORT": str(port),
                "DRAFT_STORE_DATABASE_URL": self.database_url,
                "DRAFT_STORE_SERVICE_TOKEN": self.service_token,
            }
        elif name == "generator":
            env = {
                **self._common("GENERATOR"),
                "GENERATOR_PORT": str(port),
                "GENERATOR_GROUP_ID": f"{self.topic_prefix}generator",
                "GENERATOR_LLM_API_KEY": "",
                **self._claims(),
                **self.generator_env,
            }
        else:
            env = {
                **self._common("GATEWAY"),
                "GATEWAY_PORT": str(port),
                "GATEWAY_DRAFT_STORE_URL": self.services["draft-store"].url,
                "GATEWAY_DRAFT_STORE_TOKEN": self.service_token,
                "GATEWAY_JWT_SECRET": self.jwt_secret,
                "GATEWAY_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
                **self.gateway_env,
            }
        env.update(extra or {})
        self.log_dir.mkdir(parents=True, exist_ok=True)
        python = self.pythons.get(name, sys.executable)
        return Service(name, env, port, self.log_dir / f"{name}-{port}.log", python)

    def create_topics(self) -> None:
        """Like a real deployment: every topic exists before any service (the one command)."""
        from .topics import create_topics_sync

        create_topics_sync(self.kafka, self.topic_prefix)

    def start(self) -> Stack:
        self.create_topics()
        for name in ("draft-store", "generator", "api-gateway"):
            svc = self.service(name)
            self.services[name] = svc
            svc.start()
            if name == "draft-store":
                svc.wait_healthy()
        for svc in self.services.values():
            svc.wait_healthy()
        return self

    def stop(self) -> None:
        from .topics import drop_topics_sync

        for svc in reversed(list(self.services.values())):
            svc.stop()
        drop_topics_sync(self.kafka, self.topic_prefix)

    @property
    def gateway(self) -> Service:
        return self.services["api-gateway"]
