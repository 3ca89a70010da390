"""Whose CPU a subject used: each process's CPU time between two snapshots of /proc, grouped.

On two shared cores a figure far from its baseline is often a machine whose cores were both
busy; this says whose work that was (a service, Kafka, PostgreSQL, the load generator). Two
scans of /proc per window, so it is on for every run, unlike py-spy. A process that started
inside the window counts in full; one that ended inside it is missed. Linux only: elsewhere
the snapshots are empty and nothing is reported. Only the benchmark's own processes and the
Kafka and PostgreSQL servers it uses are counted (`roots`): on a machine shared with other
engineers, their services and test brokers would otherwise land in these groups too.
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# (group, a piece of the command line); the first match wins.
GROUPS = (
    ("draft-store", "bcrao_draft_store"),
    ("generator", "bcrao_generator"),
    ("gateway", "bcrao_gateway"),
    ("Kafka", "kafka.Kafka"),
    ("fake LLM", "fake_openai"),
    ("load generator", "bench/harness/"),
    ("load generator", "bench/sse/"),
)
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class Snapshot:
    at: float
    cpu: dict[int, tuple[str, float]]  # pid -> (group, CPU seconds so far)
    # /proc/stat: (all ticks, ticks stolen by the hypervisor, idle ticks)
    machine: tuple[int, ...] = (0, 0, 0)


def _machine() -> tuple[int, ...]:
    """A virtual machine's cores can be taken by its host ("steal"): the same code then runs
    slower in every process alike, which is why absolute figures move between runs."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return (0, 0, 0)
    ticks = [int(v) for v in first[1:9]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks), ticks[7], ticks[3] + ticks[4])


def _group(cmdline: bytes) -> str:
    text = cmdline.replace(b"\0", b" ").decode(errors="replace")
    for name, piece in GROUPS:
        if piece in text:
            return name
    first = Path(text.split(" ", 1)[0]).name
    if first == "postgres" or text.startswith("postgres:"):  # postmaster, backends, workers
        return "PostgreSQL"
    return "other"


def _listening(ports: set[int]) -> set[int]:
    """The pids of the processes listening on these TCP ports (from /proc/net and each fd)."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) in ports:  # LISTEN
                inodes.add(f"socket:[{cols[9]}]")
    pids: set[int] = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (entry / "fd").iterdir()):
                pids.add(int(entry.name))
        except OSError:
            continue
    return pids


_ROOTS: frozenset[int] | None = None


def roots() -> frozenset[int]:
    """Whose processes count: this benchmark's (run.py and everything it started, as
    BENCH_ROOT_PID says in its children) and the Kafka and PostgreSQL servers it uses (the
    processes listening on KAFKA_PORT and PG_PORT, with their children). Other engineers'
    services, brokers and databases on the same machine are left out; their load on the shared
    Kafka and PostgreSQL cannot be told apart and still counts."""
    global _ROOTS
    if _ROOTS is None:
        ports = {
            int(os.environ.get("KAFKA_PORT", "19092")),
            int(os.environ.get("PG_PORT", "15432")),
        }
        bench = int(os.environ.get("BENCH_ROOT_PID", os.getpid()))
        _ROOTS = frozenset({bench} | _listening(ports))
    return _ROOTS


def snapshot() -> Snapshot:
    found: dict[int, tuple[int, str, float]] = {}  # pid -> (parent, group, CPU seconds)
    proc = Path("/proc")
    if proc.is_dir():
        for entry in proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:  # it ended between the listing and the read
                continue
            fields = stat.rsplit(")", 1)[1].split()  # the name may hold spaces and ")"
            ticks = int(fields[11]) + int(fields[12])  # utime + stime
            found[int(entry.name)] = (int(fields[1]), _group(cmdline), ticks / TICKS)
    wanted = roots()

    def ours(pid: int) -> bool:
        for _ in range(64):  # up the parent chain to a root, or to init
            if pid in wanted:
                return True
            if pid not in found or pid <= 1:
                return False
            pid = found[pid][0]
        return False

    cpu = {pid: (group, used) for pid, (_, group, used) in found.items() if ours(pid)}
    return Snapshot(time.monotonic(), cpu, _machine())


@dataclass(frozen=True)
class Usage:
    seconds: float  # wall time of the window
    cores: int
    groups: dict[str, float]  # CPU seconds, largest first
    stolen: float = 0.0  # share of the machine's time its host took (0 on bare metal)
    machine_busy: float | None = None  # share of the machine's time not idle, by anyone

    @property
    def busy(self) -> float:
        """Share of all the machine's cores the counted processes used in the window."""
        total = sum(self.groups.values())
        return total / (self.seconds * self.cores) if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Usage:
        return cls(**data)

    def describe(self, items: int | None = None, unit: str = "item") -> str:
        """`2.2 s, both cores 78 % busy: draft-store 1.14 s (1.9 ms/draft), Kafka 1.03 s, …`"""
        parts = []
        for name, used in self.groups.items():
            if used < 0.01 or (name == "other" and used < 0.05 * sum(self.groups.values())):
                continue
            per = f" ({used * 1000 / items:.2f} ms/{unit})" if items else ""
            parts.append(f"{name} {used:.2f} s{per}")
        stolen = f", {self.stolen:.0%} taken by the host" if self.stolen >= 0.005 else ""
        whole = (
            f" (the whole machine {self.machine_busy:.0%})" if self.machine_busy is not None else ""
        )
        head = f"{self.seconds:.1f} s, {self.cores} cores {self.busy:.0%} busy{whole}{stolen}: "
        return head + ", ".join(parts)


def usage(before: Snapshot, after: Snapshot) -> Usage:
    groups: dict[str, float] = {}
    for pid, (group, used) in after.cpu.items():
        earlier = before.cpu.get(pid)
        spent = used - earlier[1] if earlier and earlier[0] == group else used
        if spent > 0:
            groups[group] = groups.get(group, 0.0) + spent
    ordered = dict(sorted(groups.items(), key=lambda kv: kv[1], reverse=True))
    ticks = after.machine[0] - before.machine[0]
    stolen = (after.machine[1] - before.machine[1]) / ticks if ticks > 0 else 0.0
    idle = after.machine[2] - before.machine[2] if len(after.machine) > 2 else None
    busy = 1 - idle / ticks if ticks > 0 and idle is not None else None
    return Usage(after.at - before.at, os.cpu_count() or 1, ordered, stolen, busy)
