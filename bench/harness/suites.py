"""The benchmarks, B0–B5 and SSE. Every figure is measured once per round; subject and baseline
alternate which goes first from round to round, so drift on the shared machine hits both."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import cpu
import httpx
import profiling
from stats import Rounds, pct
from system import KAFKA, OUT, System, free_port, harness, loadgen, run_json, spawn, wait_http

FAKE_KEY = "sk-test-fake-key"
LLM_TIMING = {"ttft_ms": 200, "tokens": 60, "token_ms": 20}
CONCURRENCY = (1, 50, 200)


@dataclass
class Ctx:
    system: System
    rounds: int
    soak_seconds: float
    generator_concurrency: str
    notes: list[str]
    figures: dict[str, Rounds] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    processes: list[Any] = field(default_factory=list)
    profiles: dict[str, list[str]] = field(default_factory=dict)
    cpu: dict[str, tuple[cpu.Usage, int | None, str]] = field(default_factory=dict)

    def add(self, key: str, value: float | None) -> None:
        self.figures.setdefault(key, Rounds()).add(value)

    def med(self, key: str) -> float | None:
        return self.figures[key].median if key in self.figures else None


@contextlib.contextmanager
def profiled(ctx: Ctx, label: str, round_no: int, *, account: bool = True) -> Any:
    """During the first round: every process's CPU (cpu.py, always) and py-spy on the running
    services (only with BENCH_PROFILE=1). `count(n, unit)` on the yielded object sets what the
    CPU is divided by in the report; `account=False`: the caller measures its own window."""
    if round_no != 0:
        yield _Counted()
        return
    running = {
        name: svc.process.pid
        for name, svc in ctx.system.stack.services.items()
        if svc.process is not None and svc.process.poll() is None
    }
    counted = _Counted()
    with profiling.profile(label, running, ctx.profiles):
        before = cpu.snapshot()
        yield counted
        used = cpu.usage(before, cpu.snapshot())
    if account:
        ctx.cpu[label] = (used, counted.items, counted.unit)


class _Counted:
    items: int | None = None
    unit = "item"

    def count(self, items: int, unit: str) -> None:
        self.items, self.unit = items, unit


def ordered(round_no: int, *items: Any) -> list[Any]:
    """Subject and baselines in a different order each round."""
    shift = round_no % len(items)
    return list(items[shift:] + items[:shift])


def _p(results: list[dict[str, Any]], key: str, q: float) -> float | None:
    return pct([r[key] for r in results if r.get(key) is not None and not r.get("error")], q)


def _errors(results: list[dict[str, Any]]) -> int:
    return sum(1 for r in results if r.get("error"))


def note_errors(ctx: Ctx, label: str, results: list[dict[str, Any]]) -> None:
    """The first distinct error texts of a run: the report says what failed, not only how often."""
    seen: dict[str, int] = {}
    for r in results:
        if r.get("error"):
            seen[r["error"][:160]] = seen.get(r["error"][:160], 0) + 1
    for text, count in list(seen.items())[:3]:
        ctx.notes.append(f"{label}: {count}× {text}")


# --- services and the fake LLM -----------------------------------------------------------
def start_fake_llm(ctx: Ctx) -> int:
    port = free_port()
    args = [
        "-m",
        "bcrao_testkit.fake_openai",
        "--port",
        str(port),
        "--ttft-ms",
        str(LLM_TIMING["ttft_ms"]),
        "--tokens",
        str(LLM_TIMING["tokens"]),
        "--token-ms",
        str(LLM_TIMING["token_ms"]),
    ]
    proc = spawn(args, OUT / "logs" / "fake-llm.log")
    ctx.processes.append(proc)
    wait_http(f"http://127.0.0.1:{port}/control", proc)
    ctx.extra["llm_port"] = port
    return port


def generator_env(ctx: Ctx, *, fake_llm: bool) -> dict[str, str]:
    env = {"GENERATOR_CONCURRENCY": ctx.generator_concurrency}
    if fake_llm:
        env |= {
            "GENERATOR_LLM_API_KEY": FAKE_KEY,
            "GENERATOR_LLM_BASE_URL": f"http://127.0.0.1:{ctx.extra['llm_port']}/v1",
            "GENERATOR_LLM_MODEL": "gpt-4o-mini",
            "GENERATOR_LLM_FALLBACK_MODEL": "",
        }
    else:
        env |= {"GENERATOR_LLM_API_KEY": "", "GENERATOR_OFFLINE_CHUNK_DELAY_MS": "0"}
    return env


def start_generator(ctx: Ctx, *, fake_llm: bool) -> None:
    ctx.system.start(
        "generator",
        generator_env(ctx, fake_llm=fake_llm),
        fallbacks={"GENERATOR_CONCURRENCY": "64"},
    )
    warm(ctx)


def warm(ctx: Ctx) -> None:
    """One generation end to end (group joined, connections open, lazy imports done)."""
    for _ in range(3):
        out = gen(ctx, 1)
        if not _errors(out) and all(r.get("complete") for r in out):
            return
        time.sleep(2)
    raise RuntimeError(f"a warm-up generation did not complete: {out}")


def gen(ctx: Ctx, conc: int) -> list[dict[str, Any]]:
    args = loadgen("gen", ctx.system.stack.gateway.port, ctx.system.jobs_file, conc=conc)
    return run_json(args)["results"]


def llm_direct(ctx: Ctx, conc: int) -> list[dict[str, Any]]:
    args = loadgen("llm", ctx.extra["llm_port"], conc=conc)
    return run_json(args)["results"]


def llm_stats(ctx: Ctx, reset: bool) -> dict[str, Any]:
    url = f"http://127.0.0.1:{ctx.extra['llm_port']}/control"
    if reset:
        return httpx.post(url, json={"script": []}).json()
    return httpx.get(url).json()


def hops(ctx: Ctx, since_ms: int) -> dict[str, Any]:
    """Per-hop timestamps of the burst just run, from its records' CreateTime (hops.py)."""
    args = [harness("hops.py"), "--kafka", KAFKA, "--prefix", ctx.system.stack.topic_prefix]
    return dict(run_json([*args, "--since-ms", str(since_ms)]))


def _pure_cpu_ms() -> float:
    """CPU ms per draft of the generator's pure pipeline (bench/harness/pure.py), 2 s of it."""
    return float(run_json([harness("pure.py"), "--seconds", "2"])["cpu_ms_per_draft"])


# --- B0 ----------------------------------------------------------------------------------
def b0(ctx: Ctx) -> None:
    for r in range(ctx.rounds):
        for i, conc in enumerate(CONCURRENCY):
            for who in ordered(r + i, "llm", "sys"):
                if who == "llm":
                    res = llm_direct(ctx, conc)
                else:
                    llm_stats(ctx, reset=True)
                    since_ms = int(time.time() * 1000) - 100  # one host, one clock
                    with profiled(ctx, f"b0-{conc}", r if conc == 50 else 1) as window:
                        res = gen(ctx, conc)
                        window.count(conc, "generation")
                    if conc == 50 and r == 0:
                        ctx.extra["b0.hops"] = hops(ctx, since_ms)
                    note_errors(ctx, f"B0 round {r + 1}, {conc} at once", res)
                    seen = llm_stats(ctx, reset=False)
                    ctx.add(f"b0.sys.{conc}.llm_max_in_flight", seen["max_in_flight"])
                if who == "sys" and conc == 50:  # the CPU budget's yardstick, in this run too
                    ctx.add("pure.cpu_ms", _pure_cpu_ms())
                ctx.add(f"b0.{who}.{conc}.errors", _errors(res))
                for key in ("first", "complete"):
                    ctx.add(f"b0.{who}.{conc}.{key}.p50", _p(res, key, 50))
                    ctx.add(f"b0.{who}.{conc}.{key}.p99", _p(res, key, 99))
        print(f"  B0 round {r + 1}/{ctx.rounds} done", flush=True)
