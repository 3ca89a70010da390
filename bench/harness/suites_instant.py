"""B2, B3 and B5 with an instant LLM (the offline composer, no delay), and their raw baselines."""

from __future__ import annotations

import json
import os
import time
from typing import Any

from stats import pct
from suites import Ctx, _errors, _p, note_errors, ordered, profiled
from system import KAFKA, OUT, create_named_topics, harness, loadgen, run_json, spawn


def _raw_forwarder(ctx: Ctx) -> tuple[str, str]:
    if "raw_topics" in ctx.extra:
        return ctx.extra["raw_topics"]
    prefix = ctx.system.stack.topic_prefix
    src, dst = f"{prefix}raw.requests", f"{prefix}raw.generated"
    create_named_topics([src, dst], ctx.system.partitions)
    sizes = ctx.extra["sizes"]
    proc = spawn(
        [
            harness("kafka_raw.py"),
            "forward",
            "--kafka",
            KAFKA,
            "--src",
            src,
            "--dst",
            dst,
            "--size",
            str(sizes["generated_bytes"]),
        ],
        OUT / "logs" / "raw-forward.log",
    )
    ctx.processes.append(proc)
    time.sleep(3)  # group join; the warm-up drive below absorbs the rest
    ctx.extra["raw_topics"] = (src, dst)
    _drive(ctx, ["--n", "50"])
    return src, dst


def _drive(ctx: Ctx, extra: list[str]) -> dict[str, Any]:
    src, dst = ctx.extra["raw_topics"]
    sizes = ctx.extra["sizes"]
    return run_json(
        [
            harness("kafka_raw.py"),
            "drive",
            "--kafka",
            KAFKA,
            "--src",
            src,
            "--dst",
            dst,
            "--size",
            str(sizes["generated_bytes"]),
            "--size-in",
            str(sizes["request_bytes"]),
            *extra,
        ]
    )


def pure(ctx: Ctx, seconds: float = 4) -> dict[str, Any]:
    return run_json(
        [
            harness("pure.py"),
            "--seconds",
            str(seconds),
            "--template",
            str(OUT / "draft-generated.json"),
        ]
    )


def b2(ctx: Ctx, n: int) -> None:
    ctx.extra["sizes"] = pure(ctx, 1)
    _raw_forwarder(ctx)
    s = ctx.system
    for r in range(ctx.rounds):
        for who in ordered(r, "sys", "pure", "raw"):
            if who == "sys":
                with profiled(ctx, "b2", r) as window:
                    out = run_json(
                        loadgen(
                            "burst",
                            s.stack.gateway.port,
                            s.jobs_file,
                            n=n,
                            conc=32,
                            kafka=KAFKA,
                            stored_topic=s.topics.stored,
                        )
                    )
                    window.count(out["stored"], "draft")
                ok = out["stored"] == out["accepted"] == n and out["last_stored"]
                ctx.add(
                    "b2.sys",
                    out["stored"] / (out["last_stored"] - out["first_post"]) if ok else None,
                )
                ctx.add("b2.sys.missing", n - out["stored"])
                ctx.add(
                    "b2.sys.accept_rate",
                    out["accepted"] / (out["posting_done"] - out["first_post"]),
                )
            elif who == "pure":
                measured = pure(ctx)
                ctx.add("b2.pure", measured["drafts_per_s"])
                ctx.add("pure.cpu_ms", measured["cpu_ms_per_draft"])
            else:
                out = _drive(ctx, ["--n", "3000"])
                ctx.add("b2.raw", out["received"] / out["elapsed"])
        print(f"  B2 round {r + 1}/{ctx.rounds} done", flush=True)


def rate_run(ctx: Ctx, rate: float, seconds: float) -> list[dict[str, Any]]:
    s = ctx.system
    args = loadgen("rate", s.stack.gateway.port, s.jobs_file, rate=f"{rate:.3f}", seconds=seconds)
    return run_json(args, timeout=seconds + 300)["results"]


def b3(ctx: Ctx, seconds: float = 12) -> float:
    rate = max(1.0, (ctx.med("b2.sys") or 2.0) / 2)
    ctx.extra["b3_rate"] = rate
    for r in range(ctx.rounds):
        for who in ordered(r, "sys", "raw"):
            if who == "sys":
                with profiled(ctx, "b3", r) as window:
                    res = rate_run(ctx, rate, seconds)
                    window.count(len(res), "generation")
                note_errors(ctx, f"B3 round {r + 1}", res)
                ctx.add("b3.sys.errors", _errors(res))
                for key in ("first_from_202", "complete_from_202"):
                    ctx.add(f"b3.sys.{key}.p50", _p(res, key, 50))
                    ctx.add(f"b3.sys.{key}.p99", _p(res, key, 99))
            else:
                out = _drive(ctx, ["--rate", f"{rate:.3f}", "--seconds", "10"])
                ctx.add("b3.raw.p50", pct(out["latencies"], 50))
                ctx.add("b3.raw.p99", pct(out["latencies"], 99))
        print(f"  B3 round {r + 1}/{ctx.rounds} done (rate {rate:.1f}/s)", flush=True)
    return rate


def idle_memory(ctx: Ctx) -> None:
    time.sleep(3)
    samples = []
    for _ in range(3):
        samples.append(ctx.system.rss())
        time.sleep(1)
    for name in samples[0]:
        ctx.extra[f"b5.idle.{name}"] = sorted(s[name] for s in samples)[1]
    ctx.extra["b5.idle.total"] = sum(ctx.extra[f"b5.idle.{n}"] for n in samples[0])


def soak(ctx: Ctx) -> None:
    """B3's rate for `soak_seconds`; RSS sampled every 5 s; slope over the second half."""
    import subprocess
    import sys

    rate = ctx.extra.get("b3_rate") or max(1.0, (ctx.med("b2.sys") or 2.0) / 2)
    s = ctx.system
    args = loadgen(
        "rate", s.stack.gateway.port, s.jobs_file, rate=f"{rate:.3f}", seconds=ctx.soak_seconds
    )
    # To a file, not a pipe: the results outgrow a pipe's buffer and the child would block.
    out_path = OUT / "soak.json"
    with out_path.open("w") as out:
        proc = subprocess.Popen([sys.executable, *args], stdout=out)
        started, samples = time.monotonic(), []
        while proc.poll() is None:
            samples.append((time.monotonic() - started, ctx.system.rss()))
            time.sleep(5)
    if proc.returncode != 0:
        raise RuntimeError(f"the soak's load generator failed ({proc.returncode})")
    results = json.loads(out_path.read_text().strip().splitlines()[-1])["results"]
    note_errors(ctx, "B5 soak", results)
    ctx.extra["b5.soak.done"] = sum(1 for r in results if r.get("complete") and not r.get("error"))
    ctx.extra["b5.soak.errors"] = _errors(results)
    # The second half of the time under load (not the tail while the last generations finish),
    # and only once the gateway's buffer of finished tasks is full: it keeps each finished task's
    # events for `buffer_finished_ttl_seconds` (120 s) by design, so until then it grows with
    # every draft, and the slope would measure that fill rather than a leak.
    kept = _finished_ttl()
    start = max(ctx.soak_seconds / 2, kept + 15)
    if start > ctx.soak_seconds * 0.75:
        ctx.notes.append(
            f"B5: the slope covers {ctx.soak_seconds - start:.0f} s only; the gateway keeps "
            f"finished tasks {kept:g} s, so a soak of {2 * (kept + 15):.0f} s or more "
            "measures the steady state"
        )
    ctx.extra["b5.window"] = (start, ctx.soak_seconds)
    half = [s for s in samples if start <= s[0] <= ctx.soak_seconds] or samples
    for name in samples[0][1]:
        ctx.extra[f"b5.slope.{name}"] = _slope([(t, m[name]) for t, m in half])
        ctx.extra[f"b5.end.{name}"] = samples[-1][1][name]
    ctx.extra["b5.slope.total"] = _slope([(t, sum(m.values())) for t, m in half])
    ctx.extra["b5.samples"] = samples


def _finished_ttl() -> float:
    """The gateway's `buffer_finished_ttl_seconds`, as the environment sets it or by default."""
    from bcrao_gateway.streaming.settings import StreamSettings

    given = os.environ.get("GATEWAY_STREAM__BUFFER_FINISHED_TTL_SECONDS")
    return float(given) if given else StreamSettings().buffer_finished_ttl_seconds


def _slope(points: list[tuple[float, float]]) -> float | None:
    """Least-squares MiB per minute."""
    if len(points) < 3:
        return None
    n = len(points)
    mt = sum(t for t, _ in points) / n
    mm = sum(m for _, m in points) / n
    var = sum((t - mt) ** 2 for t, _ in points)
    return 60 * sum((t - mt) * (m - mm) for t, m in points) / var if var else None
