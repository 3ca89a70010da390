"""Percentiles, medians over rounds and their spread, and the machine a run happened on."""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path


def pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(q / 100 * len(ordered))  # 1-based
    return ordered[max(0, min(len(ordered), rank) - 1)]


class Rounds:
    """One figure measured once per round; reported as the median and the min–max of rounds."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def add(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None

    def spread(self) -> str:
        if len(self.values) < 2:
            return "1 round"
        return f"{min(self.values):,.4g}–{max(self.values):,.4g}"


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b in (None, 0) else a / b


def _kafka_version() -> str:
    root = Path(__file__).resolve().parents[2]
    for state in (os.environ.get("BCRAO_STATE_DIR"), root / ".state", "/work/main/.state"):
        if state and (libs := Path(state) / "kafka" / "libs").is_dir():
            for jar in sorted(libs.glob("kafka_2.*-*.jar")):
                if not jar.name.endswith(("-test.jar", "-sources.jar")):
                    return jar.stem.split("-", 1)[1]
    return "unknown"


def _postgres_version(url: str) -> str:
    try:
        import psycopg

        with psycopg.connect(url, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
            version = str(row[0]) if row else "unknown"
            # Durability decides what a commit costs (an fsync or not): say which cluster ran.
            settings = [
                f"{name}={conn.execute(f'SHOW {name}').fetchone()[0]}"  # type: ignore[index]
                for name in ("fsync", "synchronous_commit")
            ]
            return f"{version}; {', '.join(settings)}"
    except Exception:
        return "unknown"


def machine(database_url: str) -> dict[str, str]:
    mem_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal:")
    )
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{mem_kib / 1024 / 1024:.1f} GiB",
        "python": sys.version.split()[0],
        "os": f"{platform.system()} {platform.release()}",
        "kafka": _kafka_version(),
        "postgresql": _postgres_version(database_url),
        "commit": commit or "unknown",
    }
