"""B1 (accept), B4 (draft-store bursts) and the SSE fan-out benchmark; the generator is stopped,
so nothing but the path being measured uses the CPU."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import cpu
import suites_instant
from suites import Ctx, ordered, profiled
from system import (
    KAFKA,
    OUT,
    ROOT,
    create_named_topics,
    free_port,
    harness,
    loadgen,
    run_json,
    spawn,
    wait_http,
)

ACCEPT_CONNECTIONS = 32
ACCEPT_SECONDS = 5


def _b1_baselines(ctx: Ctx) -> dict[str, int]:
    s = ctx.system
    payload = OUT / "generate-requested.json"
    from pure import request  # the snapshot draft-store would publish: same size on the wire

    payload.write_text(request().model_dump_json())
    accepted_topic = f"{s.stack.topic_prefix}raw.accepted"
    create_named_topics([accepted_topic], s.partitions)
    ports = {"fastapi": free_port(), "handwritten": free_port()}
    for kind, port in ports.items():
        args = [harness("b1_apps.py"), kind, "--port", str(port)]
        if kind == "handwritten":
            args += [
                "--database-url",
                s.db,
                "--kafka",
                KAFKA,
                "--topic",
                accepted_topic,
                "--payload",
                str(payload),
            ]
        # Secrets by environment: on a command line they show in `ps`, and one starting with
        # "-" would be read as an option.
        secret = {"BENCH_JWT_SECRET": s.stack.jwt_secret}
        proc = spawn(args, OUT / "logs" / f"b1-{kind}.log", env=secret)
        ctx.processes.append(proc)
        wait_http(f"http://127.0.0.1:{port}/", proc)
    return ports


def _accept(ctx: Ctx, port: int) -> dict[str, Any]:
    args = loadgen(
        "accept",
        port,
        ctx.system.jobs_file,
        conc=ACCEPT_CONNECTIONS,
        seconds=ACCEPT_SECONDS,
    )
    return run_json(args)


def b1(ctx: Ctx) -> None:
    ports = {"sys": ctx.system.stack.gateway.port, **_b1_baselines(ctx)}
    for kind in ("fastapi", "handwritten"):  # first requests: connections, lazy paths
        _accept(ctx, ports[kind])
    for r in range(ctx.rounds):
        for who in ordered(r, "sys", "fastapi", "handwritten"):
            with profiled(ctx, "b1", r if who == "sys" else 1) as window:
                out = _accept(ctx, ports[who])
                window.count(out["answered"], "request")
            good = out["statuses"].get("202", 0)
            ctx.add(f"b1.{who}.rps", good / out["seconds"])
            ctx.add(f"b1.{who}.p50", out["p50"])
            ctx.add(f"b1.{who}.p99", out["p99"])
            ctx.add(f"b1.{who}.errors", sum(v for k, v in out["statuses"].items() if k != "202"))
            if who == "sys" and len(out["statuses"]) > 1:
                ctx.notes.append(f"B1 round {r + 1}: gateway statuses {out['statuses']}")
        print(f"  B1 round {r + 1}/{ctx.rounds} done", flush=True)


def b4(ctx: Ctx, n: int) -> None:
    s = ctx.system
    if not (OUT / "draft-generated.json").exists():  # B4 run alone: B2 did not write it
        suites_instant.pure(ctx, 1)
    ctx.extra["b4.n"] = n
    for r in range(ctx.rounds):
        with profiled(ctx, "b4 (opening tasks, then storing)", r, account=False):
            out = run_json(
                [
                    harness("store_bench.py"),
                    "--store",
                    s.stack.services["draft-store"].url,
                    "--jobs",
                    str(s.jobs_file),
                    "--kafka",
                    KAFKA,
                    "--prefix",
                    s.stack.topic_prefix,
                    "--template",
                    str(OUT / "draft-generated.json"),
                    "--database-url",
                    s.db,
                    "--n",
                    str(n),
                    "--round",
                    str(r),
                ],
                env={"BENCH_SERVICE_TOKEN": s.stack.service_token},
            )
        ctx.add("b4.sys", out["store_per_s"])
        ctx.add("b4.copy", out["copy_per_s"])
        ctx.add("b4.rows", out["rows_per_s"])
        ctx.add("b4.mean_batch", out["mean_batch"] or None)
        if r == 0 and out.get("cpu"):  # the subject's own window, without the tasks' opening
            ctx.cpu["b4"] = (cpu.Usage.from_dict(out["cpu"]), n, "draft")
        if out["rows"] != n:
            ctx.notes.append(f"B4 round {r + 1}: {out['rows']} of {n} rows found for the baselines")
        print(f"  B4 round {r + 1}/{ctx.rounds} done", flush=True)


def sse(ctx: Ctx, sizes: list[int]) -> None:
    """The existing fan-out benchmark (bench/sse), one round per size: it runs its own servers."""
    args = [str(ROOT / "bench" / "sse" / "run.py")]
    for n in sizes:
        args += ["-n", str(n)]
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        ctx.notes.append(f"SSE benchmark failed: {done.stderr[-500:]}")
        return
    runs = json.loads((OUT / "sse.json").read_text())["runs"]
    ctx.extra["sse"] = runs
