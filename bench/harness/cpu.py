"""Whose CPU a subject used: every process's CPU time between two snapshots of /proc, grouped.

On two shared cores a figure far from its baseline is often a machine whose cores were both
busy; this says whose work that was (a service, Kafka, PostgreSQL, the load generator). Two
scans of /proc per window, so it is on for every run, unlike py-spy. A process that started
inside the window counts in full; one that ended inside it is missed. Linux only: elsewhere
the snapshots are empty and nothing is reported.
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
    machine: tuple[int, int] = (0, 0)  # /proc/stat: (all ticks, ticks stolen by the hypervisor)


def _machine() -> tuple[int, int]:
    """A virtual machine's cores can be taken by its host ("steal"): the same code then runs
    slower in every process alike, which is why absolute figures move between runs."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()
    except (OSError, IndexError):
        return (0, 0)
    ticks = [int(v) for v in first[1:9]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks), ticks[7])


def _group(cmdline: bytes) -> str:
    text = cmdline.replace(b"\0", b" ").decode(errors="replace")
    for name, piece in GROUPS:
        if piece in text:
            return name
    first = Path(text.split(" ", 1)[0]).name
    if first == "postgres" or text.startswith("postgres:"):  # postmaster, backends, workers
        return "PostgreSQL"
    return "other"


def snapshot() -> Snapshot:
    cpu: dict[int, tuple[str, float]] = {}
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
            cpu[int(entry.name)] = (_group(cmdline), ticks / TICKS)
    return Snapshot(time.monotonic(), cpu, _machine())


@dataclass(frozen=True)
class Usage:
    seconds: float  # wall time of the window
    cores: int
    groups: dict[str, float]  # CPU seconds, largest first
    stolen: float = 0.0  # share of the machine's time its host took (0 on bare metal)

    @property
    def busy(self) -> float:
        """Share of all the machine's cores used in the window."""
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
        head = f"{self.seconds:.1f} s, {self.cores} cores {self.busy:.0%} busy{stolen}: "
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
    return Usage(after.at - before.at, os.cpu_count() or 1, ordered, stolen)
