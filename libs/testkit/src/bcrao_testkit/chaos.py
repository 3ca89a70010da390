"""Private Kafka and PostgreSQL processes that a fault test may kill, and the faults themselves.

The shared broker and database other tests use are never touched: `LocalKafka`/`LocalPostgres`
run the project's own launchers (deploy/local/kafka.sh, postgres.sh) on free ports with their own
state directory. The Kafka jars are reused from the repository's `.state/kafka/libs` (fetched
there by `make setup`/`kafka.sh fetch` when missing) through a symlink, never downloaded twice.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg

from .servers import free_port

ROOT = Path(__file__).resolve().parents[4]
LAUNCHERS = ROOT / "deploy" / "local"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (our own unreaped child) counts as dead
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def wait_dead(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.1)
    return not _alive(pid)


def kafka_libs() -> Path:
    """The fetched broker jars: $BCRAO_KAFKA_LIBS, else the repository's .state (fetched once)."""
    if env := os.environ.get("BCRAO_KAFKA_LIBS"):
        return Path(env)
    libs = ROOT / ".state" / "kafka" / "libs"
    if not (libs / ".fetched").exists():
        subprocess.run(["bash", str(LAUNCHERS / "kafka.sh"), "fetch"], check=True, cwd=ROOT)
    return libs


@dataclass
class LocalKafka:
    state: Path
    port: int = 0
    controller_port: int = 0

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self.controller_port = self.controller_port or free_port()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "BCRAO_STATE_DIR": str(self.state),
            "KAFKA_PORT": str(self.port),
            "KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "BCRAO_NO_LOG_TAIL": "",
            # A test's broker lives for a few tests: the JIT's client compiler alone starts it
            # with 3.0 CPU-seconds instead of 5.3 (kafka.sh start, measured on 2 cores).
            "KAFKA_JVM_OPTS": "-XX:TieredStopAtLevel=1",
        }

    def _run(self, action: str, timeout: float = 240) -> None:
        result = subprocess.run(
            ["bash", str(LAUNCHERS / "kafka.sh"), action],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise RuntimeError(f"kafka.sh {action} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> None:
        libs = self.state / "kafka" / "libs"
        if not libs.exists():
            libs.parent.mkdir(parents=True, exist_ok=True)
            libs.symlink_to(kafka_libs().resolve(), target_is_directory=True)
        self._run("start")

    def pid(self) -> int | None:
        try:
            return int((self.state / "kafka" / "kafka.pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def kill(self, sig: int) -> None:
        """SIGTERM (a clean shutdown, waited for) or SIGKILL (a crash) of the broker."""
        pid = self.pid()
        if pid is None:
            raise RuntimeError("the private Kafka is not running")
        os.kill(pid, sig)
        if not wait_dead(pid, 90 if sig == signal.SIGTERM else 10):
            os.kill(pid, signal.SIGKILL)
            wait_dead(pid, 10)

    def freeze(self) -> None:
        """SIGSTOP of the broker (a GC pause, a stalled VM): it holds its sockets and answers
        nothing until `thaw`."""
        pid = self.pid()
        if pid is None:
            raise RuntimeError("the private Kafka is not running")
        os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        self._run("stop", timeout=60)

    def log(self) -> Path:
        return self.state / "logs" / "kafka.log"


@dataclass
class LocalPostgres:
    state: Path
    port: int = 0

    def __post_init__(self) -> None:
        self.port = self.port or free_port()

    @property
    def url(self) -> str:
        return f"postgresql://bcrao:bcrao@127.0.0.1:{self.port}/bcrao"

    def _env(self) -> dict[str, str]:
        return {**os.environ, "BCRAO_STATE_DIR": str(self.state), "PG_PORT": str(self.port)}

    def _run(self, action: str) -> None:
        result = subprocess.run(
            ["bash", str(LAUNCHERS / "postgres.sh"), action],
            env={**self._env(), "BCRAO_NO_LOG_TAIL": ""},
            capture_output=True,
            text=True,
            timeout=180,
        )
        if result.returncode != 0:
            raise RuntimeError(f"postgres.sh {action} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> None:
        self._run("start")
        self._crash_safe()

    def _crash_safe(self) -> None:
        """A crash test needs a cluster that survives a crash, whatever the launcher's default.

        ALTER SYSTEM lands in postgresql.auto.conf, read after the launcher's include, so it wins.
        """
        with psycopg.connect(self.url, autocommit=True) as conn:
            for name in ("fsync", "synchronous_commit", "full_page_writes"):
                conn.execute(f"ALTER SYSTEM SET {name} = on")
            conn.execute("SELECT pg_reload_conf()")

    def settings(self) -> dict[str, str]:
        with psycopg.connect(self.url) as conn:
            rows = conn.execute(
                "SELECT name, setting FROM pg_settings"
                " WHERE name IN ('fsync', 'synchronous_commit', 'full_page_writes')"
            ).fetchall()
        return {str(name): str(value) for name, value in rows}

    def _pg_ctl(self, *args: str) -> None:
        bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        pg_ctl = str(bindir[-1] / "pg_ctl") if bindir else "pg_ctl"
        owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        data = str(self.state / "pg" / "data")
        subprocess.run([*owner, pg_ctl, *args, "-D", data], check=True, capture_output=True)

    def processes(self) -> list[int]:
        """The postmaster and every process it started (backends, checkpointer, WAL writer...)."""
        pidfile = self.state / "pg" / "data" / "postmaster.pid"
        postmaster = int(pidfile.read_text().splitlines()[0])
        children = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            if int(fields[1]) == postmaster:  # fields[1] is the parent pid
                children.append(int(entry.name))
        return [postmaster, *children]

    def freeze(self) -> list[int]:
        """SIGSTOP of every PostgreSQL process (a stalled VM, a storage hiccup); returns them."""
        frozen = self.processes()
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        return frozen

    def thaw(self, frozen: list[int]) -> None:
        for pid in frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)

    def stop_immediate(self) -> None:
        """`pg_ctl stop -m immediate`: every backend killed, no checkpoint (recovery on start)."""
        self._pg_ctl("stop", "-m", "immediate", "-w", "-t", "30")

    def stop(self) -> None:
        self._run("stop")


def remove_state(state: Path) -> None:
    shutil.rmtree(state, ignore_errors=True)


@dataclass(frozen=True)
class Fault:
    kind: str  # kafka-sigkill | kafka-sigterm | kafka-sigstop | pg-sigstop | pg-immediate
    after: float  # seconds after the previous fault ended
    length: float  # seconds down or frozen


FAULT_KINDS = ("kafka-sigkill", "kafka-sigterm", "kafka-sigstop", "pg-sigstop", "pg-immediate")


def nemesis(seed: int, count: int, kinds: tuple[str, ...] = FAULT_KINDS) -> list[Fault]:
    """A repeatable random fault schedule: `count` faults of `kinds`, each 20-40 s long
    (10-20 s for an immediate PostgreSQL stop), 5-30 s apart. Print it with the seed."""
    import random

    rng = random.Random(seed)
    schedule = []
    for _ in range(count):
        kind = rng.choice(kinds)
        length = rng.uniform(10, 20) if kind == "pg-immediate" else rng.uniform(20, 40)
        schedule.append(Fault(kind, round(rng.uniform(5, 30), 1), round(length, 1)))
    return schedule
