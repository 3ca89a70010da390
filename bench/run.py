"""`make bench`: the whole suite (B0–B5, SSE), one table, bench/RESULTS.md.

    .venv/bin/python bench/run.py                          # about 10 minutes on 2 cores
    BENCH_SOAK_SECONDS=600 .venv/bin/python bench/run.py   # B5 with a 10-minute soak

Environment: BENCH_ROUNDS (3), BENCH_SOAK_SECONDS (300), BENCH_GENERATOR_CONCURRENCY (256; a
generator that rejects it is restarted with 64, and the report says so), BENCH_PARTITIONS (24),
BENCH_USERS (50), BENCH_B2_DRAFTS (150), BENCH_B4_DRAFTS (600), BENCH_SSE_STREAMS (1000;
"1000,10000" adds about 2 minutes), BENCH_ONLY (e.g. "b0,b1": a subset, for working on one
figure), BENCH_PROFILE=1 (py-spy on the services during round 1; bench/harness/profiling.py).
BENCH_RESULTS (bench/RESULTS.md: where the report goes).
Service settings (GENERATOR_*, GATEWAY_*, DRAFT_STORE_*) in the environment reach the services.
Method and caveats: bench/README.md.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "harness"))

import report  # noqa: E402
import suites  # noqa: E402
import suites_accept  # noqa: E402
import suites_instant  # noqa: E402
from stats import machine  # noqa: E402
from system import OUT, PG, System  # noqa: E402

GATEWAY_ENV = {
    # Per-user admission limits protect one user from flooding; the benchmark's 50 users each
    # need many requests in flight, and the limits are not what is being measured.
    "GATEWAY_GENERATE_RATE_PER_MINUTE": "10000",
    "GATEWAY_MAX_IN_FLIGHT": "1000",
}


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def main() -> int:
    started = time.monotonic()
    # cpu.py counts this process and its descendants (the services, load generators, py-spy).
    os.environ["BENCH_ROOT_PID"] = str(os.getpid())
    OUT.mkdir(parents=True, exist_ok=True)
    only = {p.strip() for p in _env("BENCH_ONLY", "").split(",") if p.strip()}
    want = lambda name: not only or name in only  # noqa: E731
    notes: list[str] = []
    system = System(
        partitions=int(_env("BENCH_PARTITIONS", "24")),
        users=int(_env("BENCH_USERS", "50")),
        notes=notes,
    )
    ctx = suites.Ctx(
        system=system,
        rounds=int(_env("BENCH_ROUNDS", "3")),
        soak_seconds=float(_env("BENCH_SOAK_SECONDS", "300")),
        generator_concurrency=_env("BENCH_GENERATOR_CONCURRENCY", "256"),
        notes=notes,
    )
    ctx.extra |= {"partitions": system.partitions, "users": system.n_users}
    failed = False
    try:
        print("starting the fake LLM and the three services", flush=True)
        suites.start_fake_llm(ctx)
        system.start("draft-store", {})
        system.start("api-gateway", GATEWAY_ENV)
        system.create_users()
        suites.start_generator(ctx, fake_llm=True)
        ctx.extra["generator_env"] = {  # the settings, not the credentials
            k: v
            for k, v in system.stack.services["generator"].env.items()
            if not any(word in k for word in ("KEY", "TOKEN", "SECRET", "PASSWORD"))
        }
        suites_instant.idle_memory(ctx)
        phases = [
            ("b0", "B0: POST → first chunk / complete, fake LLM", lambda: suites.b0(ctx)),
            (
                "b2",
                "B2: drafts/s with an instant LLM",
                lambda: (
                    suites.start_generator(ctx, fake_llm=False),
                    suites_instant.b2(ctx, int(_env("BENCH_B2_DRAFTS", "150"))),
                ),
            ),
            ("b3", "B3: latency at half B2's rate", lambda: suites_instant.b3(ctx)),
            ("b5", f"B5: soak, {ctx.soak_seconds:g} s", lambda: suites_instant.soak(ctx)),
            (
                "b1",
                "B1: accept (generator stopped)",
                lambda: (system.stack.services["generator"].stop(), suites_accept.b1(ctx)),
            ),
            (
                "b4",
                "B4: draft-store bursts",
                lambda: suites_accept.b4(ctx, int(_env("BENCH_B4_DRAFTS", "600"))),
            ),
        ]
        for name, title, run in phases:
            if not want(name) and not (name == "b2" and (want("b3") or want("b5"))):
                continue
            if name in ("b3", "b5") and "b2.sys" not in ctx.figures:
                notes.append(f"{name.upper()} skipped: it needs B2's rate")
                continue
            t = time.monotonic()
            load = os.getloadavg()[0]  # other engineers' tests share the 2 cores: say how busy
            ctx.extra.setdefault("loadavg", []).append((name, round(load, 1)))
            print(f"{title} (load average {load:.1f})", flush=True)
            try:
                run()
            except Exception:  # one broken phase must not lose the others' figures
                failed = True
                notes.append(f"{name.upper()} failed: {traceback.format_exc(limit=3)[-800:]}")
                print(notes[-1], flush=True)
            print(f"  {time.monotonic() - t:.0f} s", flush=True)
    finally:
        for proc in ctx.processes:
            proc.terminate()
        for proc in ctx.processes:
            try:
                proc.wait(10)
            except Exception:
                proc.kill()
        system.stop()
    if want("sse"):
        print("SSE: the existing fan-out benchmark (bench/sse)", flush=True)
        sizes = [int(n) for n in _env("BENCH_SSE_STREAMS", "1000").split(",")]
        suites_accept.sse(ctx, sizes)
    elapsed = time.monotonic() - started
    info = machine(PG)
    (OUT / "results.json").write_text(
        json.dumps(
            {
                "machine": info,
                "figures": {k: v.values for k, v in ctx.figures.items()},
                "extra": ctx.extra,
                "notes": notes,
                "profiles": ctx.profiles,
                "settings": {"rounds": ctx.rounds, "soak_seconds": ctx.soak_seconds},
                "seconds": elapsed,
            },
            indent=1,
            default=str,
        )
    )
    write_report(ctx, info, elapsed)
    return 1 if failed else 0


def write_report(ctx: suites.Ctx, info: dict[str, str], elapsed: float) -> None:
    table = report.table(report.rows(ctx))
    print("\n" + table)
    print(f"\ntotal {elapsed / 60:.1f} min")
    results = Path(_env("BENCH_RESULTS", str(HERE / "RESULTS.md")))
    results.write_text(report.markdown(ctx, info, table, elapsed))
    print(f"wrote {results} (figures: {OUT / 'results.json'})")


def report_only() -> int:
    """`bench/run.py --report-only`: the report again from bench/out/results.json, no run."""
    from stats import Rounds

    saved = json.loads((OUT / "results.json").read_text())
    settings = saved.get("settings", {})
    ctx = suites.Ctx(
        system=None,  # type: ignore[arg-type]
        rounds=int(settings.get("rounds", 3)),
        soak_seconds=float(settings.get("soak_seconds", 300)),
        generator_concurrency="",
        notes=saved["notes"],
        extra=saved["extra"],
        profiles=saved.get("profiles", {}),
    )
    for key, values in saved["figures"].items():
        ctx.figures[key] = Rounds()
        ctx.figures[key].values = values
    write_report(ctx, saved["machine"], saved["seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(report_only() if "--report-only" in sys.argv[1:] else main())
