"""The table (subject, same-run baseline, ratio, target, met) and bench/RESULTS.md."""

from __future__ import annotations

import hops
from stats import ratio
from suites import CONCURRENCY, LLM_TIMING, Ctx

IDLE_TARGET_MIB = 600
CPU_TARGET = 2.5  # CPU per generation, the whole system, ≤ this × the pure pipeline's (issue 18)
SYSTEM_GROUPS = ("generator", "gateway", "draft-store", "Kafka", "PostgreSQL")
BENCH_GROUPS = ("fake LLM", "load generator", "other")
SLOPE_TARGET = 0.5  # MiB/min over the soak's second half: 5 MiB per 10 minutes, at most


def _ms(ctx: Ctx, key: str) -> str:
    rounds = ctx.figures.get(key)
    if rounds is None or rounds.median is None:
        return "–"
    lo, hi = min(rounds.values), max(rounds.values)
    spread = f" ({lo * 1000:,.0f}–{hi * 1000:,.0f})" if len(rounds.values) > 1 else ""
    return f"{rounds.median * 1000:,.0f}{spread}"


def _rate(ctx: Ctx, key: str) -> str:
    rounds = ctx.figures.get(key)
    if rounds is None or rounds.median is None:
        return "–"
    lo, hi = min(rounds.values), max(rounds.values)
    spread = f" ({lo:,.0f}–{hi:,.0f})" if len(rounds.values) > 1 else ""
    return f"{rounds.median:,.1f}/s{spread}"


def _x(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}×" if value >= 0.1 else f"{value:.2g}×"  # 0.0031×, not 0.00×


def _window(ctx: Ctx) -> str:
    start, end = ctx.extra.get("b5.window", (ctx.soak_seconds / 2, ctx.soak_seconds))
    return f"{start:.0f}–{end:.0f} s"


def _met(ok: bool | None) -> str:
    return "–" if ok is None else ("✔" if ok else "✘")


def _errors(ctx: Ctx, key: str) -> str:
    rounds = ctx.figures.get(key)
    if rounds is None or not rounds.median:
        return ""
    return f"; {rounds.median:.0f} errors/round ({min(rounds.values):.0f}–{max(rounds.values):.0f})"


def cpu_budget(ctx: Ctx, label: str) -> tuple[float, str] | None:
    """(CPU ms per generation of the system's own processes, its breakdown) of one window.
    The fake LLM and the load generators are the bench's, not the system's: shown apart."""
    if label not in ctx.cpu:
        return None
    usage, items, _ = ctx.cpu[label]
    if not items:
        return None
    per = {name: used * 1000 / items for name, used in usage.groups.items()}
    total = sum(per.get(name, 0.0) for name in SYSTEM_GROUPS)
    inside = ", ".join(f"{name} {per.get(name, 0.0):.2f}" for name in SYSTEM_GROUPS)
    apart = ", ".join(f"{name} {per[name]:.2f}" for name in BENCH_GROUPS if name in per)
    return total, f"{total:.2f} ms/generation: {inside}" + (f" (apart: {apart})" if apart else "")


def rows(ctx: Ctx) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    med = ctx.med

    def add(
        id_: str,
        subject: str,
        measured: str,
        baseline: str,
        r: float | None,
        target: str,
        ok: bool | None,
    ) -> None:
        out.append(
            {
                "#": id_,
                "subject": subject,
                "measured": measured,
                "baseline": baseline,
                "ratio": _x(r),
                "target": target,
                "met": _met(ok),
            }
        )

    for conc in CONCURRENCY:
        s, b = f"b0.sys.{conc}", f"b0.llm.{conc}"
        if f"{s}.first.p99" not in ctx.figures:
            continue
        seen = med(f"{s}.llm_max_in_flight")
        for key, label, limit in (("first", "first chunk", 1.25), ("complete", "complete", 1.2)):
            r99 = ratio(med(f"{s}.{key}.p99"), med(f"{b}.{key}.p99"))
            headline = conc == 50
            add(
                "B0",
                f"POST → {label}, {conc} at once"
                + (f" (LLM saw ≤{seen:.0f} at once)" if key == "first" and seen else ""),
                f"p50 {_ms(ctx, f'{s}.{key}.p50')} / p99 {_ms(ctx, f'{s}.{key}.p99')} ms"
                + _errors(ctx, f"{s}.errors"),
                f"LLM direct p50 {_ms(ctx, f'{b}.{key}.p50')} / "
                f"p99 {_ms(ctx, f'{b}.{key}.p99')} ms",
                r99,
                f"p99 ≤ {limit}×" if headline else "report",
                (r99 is not None and r99 <= limit) if headline else None,
            )
    for label, title, target in (
        ("b0-50", "B0, 50 at once (fake LLM)", None),
        ("b2", "B2, instant LLM", CPU_TARGET),
    ):
        budget = cpu_budget(ctx, label)
        if budget is None:
            continue
        total, measured = budget
        pure = med("pure.cpu_ms")
        r = ratio(total, pure)
        add(
            "CPU",
            f"CPU per generation, {title}: services + Kafka + PostgreSQL (round 1)",
            measured,
            f"pure pipeline {pure:.2f} ms/draft (one core)" if pure else "–",
            r,
            f"≤ {target}× pure" if target else "report",
            (r is not None and r <= target) if target else None,
        )
    if "b1.sys.rps" in ctx.figures:
        r = ratio(med("b1.sys.rps"), med("b1.handwritten.rps"))
        add(
            "B1",
            "accept: POST generate → 202, 32 connections",
            f"{_rate(ctx, 'b1.sys.rps')}, p50 {_ms(ctx, 'b1.sys.p50')} / p99 "
            f"{_ms(ctx, 'b1.sys.p99')} ms" + _errors(ctx, "b1.sys.errors"),
            f"(b) hand-written {_rate(ctx, 'b1.handwritten.rps')}, p99 "
            f"{_ms(ctx, 'b1.handwritten.p99')} ms; (a) bare FastAPI {_rate(ctx, 'b1.fastapi.rps')}"
            f" = {_x(ratio(med('b1.sys.rps'), med('b1.fastapi.rps')))}",
            r,
            "≥ 0.5× (b)",
            r is not None and r >= 0.5,
        )
    if "b2.pure" in ctx.figures:
        r = ratio(med("b2.sys"), med("b2.pure"))
        add(
            "B2",
            "drafts/s end to end, instant LLM (first POST → last DraftStored)",
            f"{_rate(ctx, 'b2.sys')}; its accepts {_rate(ctx, 'b2.sys.accept_rate')}",
            f"pure pipeline, one core {_rate(ctx, 'b2.pure')}; raw aiokafka 2-hop "
            f"{_rate(ctx, 'b2.raw')} = {_x(ratio(med('b2.sys'), med('b2.raw')))}",
            r,
            "≥ 0.7× pure",
            r is not None and r >= 0.7,
        )
    if "b3.sys.first_from_202.p50" in ctx.figures:
        rate = ctx.extra.get("b3_rate", 0)
        r = ratio(med("b3.sys.first_from_202.p50"), med("b3.raw.p50"))
        add(
            "B3",
            f"202 → first chunk at {rate:.1f}/s",
            f"p50 {_ms(ctx, 'b3.sys.first_from_202.p50')} / p99 "
            f"{_ms(ctx, 'b3.sys.first_from_202.p99')} ms" + _errors(ctx, "b3.sys.errors"),
            f"raw 2-hop p50 {_ms(ctx, 'b3.raw.p50')} / p99 {_ms(ctx, 'b3.raw.p99')} ms",
            r,
            "p50 ≤ 3×",
            r is not None and r <= 3,
        )
        add(
            "B3",
            f"202 → complete at {rate:.1f}/s",
            f"p50 {_ms(ctx, 'b3.sys.complete_from_202.p50')} / p99 "
            f"{_ms(ctx, 'b3.sys.complete_from_202.p99')} ms",
            "same",
            ratio(med("b3.sys.complete_from_202.p50"), med("b3.raw.p50")),
            "report",
            None,
        )
    if "b4.sys" in ctx.figures:
        rc, rr = ratio(med("b4.sys"), med("b4.copy")), ratio(med("b4.sys"), med("b4.rows"))
        batch = med("b4.mean_batch")
        add(
            "B4",
            f"draft-store storing DraftGenerated bursts of {ctx.extra.get('b4.n', '?')}",
            _rate(ctx, "b4.sys") + (f", {batch:.1f} drafts per consumed batch" if batch else ""),
            f"COPY {_rate(ctx, 'b4.copy')}; INSERT+COMMIT per row {_rate(ctx, 'b4.rows')}",
            rc,
            f"≥ 0.3× COPY, ≥ 3× rows ({_x(rr)})",
            rc is not None and rr is not None and rc >= 0.3 and rr >= 3,
        )
    if "b5.idle.total" in ctx.extra:
        e = ctx.extra
        idle = " + ".join(
            f"{e[f'b5.idle.{n}']:.0f}" for n in ("draft-store", "generator", "api-gateway")
        )
        add(
            "B5",
            "RSS idle (draft-store + generator + gateway)",
            f"{e['b5.idle.total']:.0f} MiB ({idle})",
            "—",
            None,
            f"≤ {IDLE_TARGET_MIB} MiB",
            e["b5.idle.total"] <= IDLE_TARGET_MIB,
        )
        slope = e.get("b5.slope.total")
        if slope is not None:
            per = ", ".join(
                f"{n} {e[f'b5.slope.{n}']:+.2f}"
                for n in ("draft-store", "generator", "api-gateway")
            )
            add(
                "B5",
                f"RSS slope, {_window(ctx)} of a {ctx.soak_seconds:g} s soak at B3's rate",
                f"{slope:+.2f} MiB/min ({per}); {e['b5.soak.done']} drafts, "
                f"{e['b5.soak.errors']} errors",
                "—",
                None,
                f"≤ {SLOPE_TARGET} MiB/min",
                slope <= SLOPE_TARGET,
            )
    for run in [r for r in ctx.extra.get("sse", []) if r["server"] == "gateway"]:
        base = next(b for b in ctx.extra["sse"] if b["server"] == "baseline" and b["n"] == run["n"])
        r = ratio(run["deliveries_per_s"], base["deliveries_per_s"])
        add(
            "SSE",
            f"fan-out, {run['n']:,} streams (1 round)",
            f"{run['deliveries_per_s']:,.0f} deliveries/s, p99 {run['latency_p99_ms']} ms, "
            f"{run['errors']} errors, {run['kib_per_connection']} KiB/conn",
            f"bare Starlette {base['deliveries_per_s']:,.0f}/s, p99 {base['latency_p99_ms']} ms",
            r,
            "≥ 1×",
            r is not None and r >= 1 and run["errors"] == 0,
        )
    return out


def table(rows_: list[dict[str, str]]) -> str:
    head = [
        "#",
        "subject",
        "measured (median; min–max of rounds)",
        "same-run baseline",
        "ratio",
        "target",
        "met",
    ]
    keys = ["#", "subject", "measured", "baseline", "ratio", "target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r[k] for k in keys) + " |" for r in rows_]
    return "\n".join(lines)


def markdown(ctx: Ctx, info: dict[str, str], table_: str, seconds: float) -> str:
    env = ctx.extra.get("generator_env", {})
    settings = ", ".join(
        f"{k}={v}" for k, v in sorted(env.items()) if k in ("GENERATOR_CONCURRENCY",)
    )
    notes = "\n".join(f"- {n}" for n in dict.fromkeys(ctx.notes)) or "- none"
    profiles = "".join(
        f"\n- {label}: " + "; ".join(frames) for label, frames in ctx.profiles.items()
    )
    if profiles:
        profiles = (
            "\n\nWhere the services spent their samples (py-spy, round 1, self time; stacks in "
            "bench/out/profiles/):" + profiles
        )
    used = "".join(
        f"\n- {label.upper()}: " + usage.describe(items, unit)
        for label, (usage, items, unit) in ctx.cpu.items()
    )
    if used:
        used = (
            "\n\nWhose CPU each subject used (round 1, every process on the machine, from /proc; "
            "`bench/harness/cpu.py`; per item = CPU time / items handled in the window):" + used
        )
    if "b0.hops" in ctx.extra:
        used += (
            "\n\nPer-hop timestamps of B0's first 50-burst (records' CreateTime, "
            "`bench/harness/hops.py`):"
            + "".join(f"\n- {line}" for line in hops.describe(ctx.extra["b0.hops"]))
        )
    machine = "\n".join(f"| {k} | {v} |" for k, v in info.items())
    llm = LLM_TIMING
    peak = max((v for _, v in ctx.extra.get("loadavg", [])), default=0.0)
    cores = int(info.get("cores", "0") or 0)
    busy = (
        f"\n\n**The machine was oversubscribed** (load average up to {peak:g} on {cores} cores):"
        " absolute figures are lower than on a quiet machine; compare the ratios, whose"
        " subject and baseline shared the same conditions within each round."
        if cores and peak > 1.5 * cores
        else ""
    )
    partitions, users = ctx.extra.get("partitions", 24), ctx.extra.get("users", 50)
    loads = ", ".join(f"{n.upper()} {v}" for n, v in ctx.extra.get("loadavg", []))
    return f"""# Benchmark results

Written by `make bench` (`bench/run.py`; method in `bench/README.md`). Rerun it to refresh this
file; `make bench BENCH_SOAK_SECONDS=600` for B5's 10-minute soak.

| machine | |
|---|---|
{machine}

Run: {ctx.rounds} rounds, subject and baselines interleaved (order rotated each round); load
generators in their own processes; {seconds / 60:.1f} minutes in all. Fake LLM: {llm["ttft_ms"]} ms
to first token, then {llm["tokens"]} tokens at {llm["token_ms"]} ms. Topics with
{partitions} partitions, {users} bench users (growth plan).
Generator settings: {settings or "defaults"}. Times in ms.
One-minute load average when each phase started (2 cores; other engineers' tests ran too):
{loads or "not sampled"}.{busy}

{table_}

Latency percentiles are over the requests that succeeded; errors are counted in the row.

Notes:
{notes}{used}{profiles}
"""
