"""SSE fan-out benchmark: the gateway's stream subsystem vs a bare Starlette baseline.

    .venv/bin/python bench/sse/run.py            # N = 1,000 and 10,000; < 5 minutes
    .venv/bin/python bench/sse/run.py -n 2000    # one size

For each server (its own process) and each N: a client process opens N streams on 127.0.0.1;
memory per held connection = (server RSS with N streams - RSS before) / N; then a latency phase
(events spaced out; delay from ingest to arrival at each client, p50/p99) and a burst phase
(deliveries per second, first publish to last arrival); then a terminal event closes every stream.
Writes bench/out/sse.json.
"""

from __future__ import annotations

import argparse
import json
import resource
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT = HERE.parent / "out" / "sse.json"
PY = sys.executable
LATENCY_EVENTS = 10
LATENCY_INTERVAL_MS = 300
BURST_EVENTS = {1000: 100, 10000: 20}
TARGET_KIB = 50
TARGET_RATIO = 0.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(port: int, path: str, method: str = "GET", timeout: float = 60) -> dict[str, Any]:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def wait_up(port: int, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(200):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            http(port, "/bench/stats", timeout=2)
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")


def run_one(server: str, n: int) -> dict[str, Any]:
    port = free_port()
    app = HERE / f"{server}_app.py"
    proc = subprocess.Popen([PY, str(app), "--port", str(port)])
    try:
        wait_up(port, proc)
        path = "/stream"
        if server == "gateway":
            path = subprocess.check_output([PY, str(app), "--port", "0", "--print-path"]).decode()
            path = path.strip()
        http(port, "/bench/stats")  # warm the process (lazy imports, first-request paths)
        rss_before = http(port, "/bench/stats")["rss"]
        clients = subprocess.Popen(
            [PY, str(HERE / "clients.py"), "--port", str(port), "--path", path, "-n", str(n)],
            stdout=subprocess.PIPE,
        )
        assert clients.stdout is not None
        head = json.loads(clients.stdout.readline())
        time.sleep(1.0)  # let the last responses settle before reading memory
        stats = http(port, "/bench/stats")
        rss_held = stats["rss"]
        http(
            port,
            f"/bench/publish?count={LATENCY_EVENTS}&interval_ms={LATENCY_INTERVAL_MS}&phase=L",
            "POST",
        )
        time.sleep(1.0)
        burst = BURST_EVENTS.get(n, 50)
        http(port, f"/bench/publish?count={burst}&phase=B", "POST")
        time.sleep(1.0)
        http(port, "/bench/finish", method="POST")
        tail = json.loads(clients.stdout.readline() or "{}")
        clients.wait(timeout=60)
        held = head["connected"] - head["bad_status"]
        errors = head["failed"] + head["bad_status"] + tail.get("cut", 0)
        latency = tail.get("phases", {}).get("L", {})
        throughput = tail.get("phases", {}).get("B", {})
        expected_l, expected_b = n * LATENCY_EVENTS, n * burst
        return {
            "server": server,
            "n": n,
            "held": held,
            "errors": errors,
            "connect_seconds": head["connect_seconds"],
            "connect_errors": head.get("connect_errors", {}),
            "rss_before_mib": round(rss_before / 2**20, 1),
            "rss_held_mib": round(rss_held / 2**20, 1),
            "kib_per_connection": round((rss_held - rss_before) / max(held, 1) / 1024, 2),
            "latency_p50_ms": latency.get("p50_ms"),
            "latency_p99_ms": latency.get("p99_ms"),
            "latency_max_ms": latency.get("max_ms"),
            "latency_deliveries": f"{latency.get('deliveries', 0)}/{expected_l}",
            "burst_events": burst,
            "burst_deliveries": f"{throughput.get('deliveries', 0)}/{expected_b}",
            "deliveries_per_s": throughput.get("deliveries_per_s"),
            "missing": expected_l
            + expected_b
            - latency.get("deliveries", 0)
            - throughput.get("deliveries", 0),
            "server_stats": stats,
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, action="append", help="streams (repeatable)")
    args = parser.parse_args()
    sizes = args.n or [1000, 10000]
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = max(sizes) + 1024
    if hard < need:
        sys.exit(f"ulimit -n hard limit {hard} < {need}: cannot hold {max(sizes)} streams")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by both children

    started = time.time()
    rows = []
    for n in sizes:
        for server in ("baseline", "gateway"):
            row = run_one(server, n)
            rows.append(row)
            print(f"  {server:8} n={n}: done in {time.time() - started:.0f}s", flush=True)
            time.sleep(1)
    report(rows, time.time() - started)


def report(rows: list[dict[str, Any]], seconds: float) -> None:
    by = {(r["server"], r["n"]): r for r in rows}
    cols = ("n", "server", "held", "errors", "KiB/conn", "p50 ms", "p99 ms", "deliv/s", "ratio")
    print("\n" + " | ".join(f"{c:>9}" for c in cols))
    summary = []
    for r in rows:
        base = by.get(("baseline", r["n"]), {})
        ratio = None
        if r["deliveries_per_s"] and base.get("deliveries_per_s"):
            ratio = round(r["deliveries_per_s"] / base["deliveries_per_s"], 2)
        r["throughput_vs_baseline"] = ratio
        cells = (
            r["n"],
            r["server"],
            r["held"],
            r["errors"],
            r["kib_per_connection"],
            r["latency_p50_ms"],
            r["latency_p99_ms"],
            r["deliveries_per_s"],
            ratio,
        )
        print(" | ".join(f"{c!s:>9}" for c in cells))
        if r["server"] == "gateway":
            ok = (
                r["errors"] == 0
                and r["missing"] == 0
                and r["held"] == r["n"]
                and r["kib_per_connection"] <= TARGET_KIB
                and (ratio or 0) >= TARGET_RATIO
            )
            summary.append((r["n"], ok))
    for n, ok in summary:
        print(
            f"gateway n={n}: {'meets' if ok else 'MISSES'} the targets "
            f"(0 errors, <= {TARGET_KIB} KiB/conn, >= {TARGET_RATIO}x baseline)"
        )
    print(f"total {seconds:.0f}s")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"seconds": round(seconds, 1), "runs": rows}, indent=2) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
