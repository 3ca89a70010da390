"""The benchmark harness's pieces work (bench/harness); no timing is asserted, only counts/order.

`make bench` itself is never run here: it takes minutes and needs the machine to itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bcrao_contracts.events import DraftGenerated
from bcrao_testkit.servers import free_port

HARNESS = Path(__file__).resolve().parents[1] / "bench" / "harness"
sys.path.insert(0, str(HARNESS))

import report  # noqa: E402
import suites  # noqa: E402
from stats import Rounds, pct, ratio  # noqa: E402
from suites_instant import _slope  # noqa: E402


def _run(*args: str, timeout: float = 120) -> dict:
    done = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[int]:
    port = free_port()
    args = ["--port", str(port), "--ttft-ms", "5", "--tokens", "17", "--token-ms", "1"]
    proc = subprocess.Popen([sys.executable, "-m", "bcrao_testkit.fake_openai", *args])
    try:
        import httpx

        for _ in range(200):
            try:
                httpx.get(f"http://127.0.0.1:{port}/control", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


def test_percentiles_rounds_ratio_and_slope() -> None:
    assert pct([], 50) is None
    assert pct([3.0, 1.0, 2.0], 50) == 2.0
    assert pct(list(map(float, range(1, 101))), 99) == 99.0
    assert pct([5.0], 99) == 5.0
    rounds = Rounds()
    for value in (3.0, None, 1.0, 2.0):
        rounds.add(value)
    assert (rounds.median, rounds.spread()) == (2.0, "1–3")
    assert ratio(1.0, 0) is None
    assert ratio(3.0, 2.0) == 1.5
    assert _slope([(0.0, 100.0), (30.0, 100.5), (60.0, 101.0)]) == pytest.approx(1.0)
    assert _slope([(0.0, 1.0)]) is None


def test_direct_llm_load_counts_every_stream_and_orders_first_before_done(fake_llm: int) -> None:
    out = _run(str(HARNESS / "loadgen.py"), "llm", "--port", str(fake_llm), "--conc", "7")
    results = out["results"]
    assert len(results) == 7
    assert all(r["first"] is not None and r["first"] <= r["complete"] for r in results)


def test_fake_llm_saw_every_concurrent_request(fake_llm: int) -> None:
    import httpx

    httpx.post(f"http://127.0.0.1:{fake_llm}/control", json={"script": []})
    _run(str(HARNESS / "loadgen.py"), "llm", "--port", str(fake_llm), "--conc", "5")
    stats = httpx.get(f"http://127.0.0.1:{fake_llm}/control").json()
    assert (stats["requests"], stats["completed"], stats["in_flight"]) == (5, 5, 0)
    assert 1 <= stats["max_in_flight"] <= 5


def test_pure_pipeline_produces_a_valid_draft_template(tmp_path: Path) -> None:
    template = tmp_path / "draft.json"
    out = _run(str(HARNESS / "pure.py"), "--seconds", "0.2", "--template", str(template))
    assert out["drafts_per_s"] > 0
    assert out["cpu_ms_per_draft"] > 0
    assert out["request_bytes"] > 1000
    event = DraftGenerated.model_validate_json(template.read_text())
    assert event.draft.title
    assert out["generated_bytes"] == len(event.model_dump_json())


def test_report_marks_targets_from_the_medians() -> None:
    ctx = suites.Ctx(system=None, rounds=3, soak_seconds=60, generator_concurrency="256", notes=[])  # type: ignore[arg-type]
    for gateway, handwritten in ((50.0, 100.0), (60.0, 100.0), (40.0, 100.0)):
        ctx.add("b1.sys.rps", gateway)
        ctx.add("b1.handwritten.rps", handwritten)
        ctx.add("b1.fastapi.rps", 1000.0)
    for name in ("sys", "llm"):
        for key in ("first", "complete"):
            for q, value in (("p50", 0.2), ("p99", 0.3 if name == "sys" else 0.2)):
                ctx.add(f"b0.{name}.50.{key}.{q}", value)
    by_subject = {r["subject"]: r for r in report.rows(ctx)}
    accept = by_subject["accept: POST generate → 202, 32 connections"]
    assert (accept["ratio"], accept["met"]) == ("0.50×", "✔")
    first = next(r for s, r in by_subject.items() if s.startswith("POST → first chunk, 50"))
    assert (first["ratio"], first["met"]) == ("1.50×", "✘")
    assert "| B1 |" in report.table(report.rows(ctx))


def test_cpu_budget_row_sums_the_system_and_keeps_the_bench_apart() -> None:
    """The CPU rows: the services, Kafka and PostgreSQL per generation, against the pure
    pipeline's CPU per draft; the fake LLM and the load generators shown apart."""
    import cpu

    ctx = suites.Ctx(system=None, rounds=1, soak_seconds=60, generator_concurrency="256", notes=[])  # type: ignore[arg-type]
    groups = {"generator": 0.2, "gateway": 0.1, "Kafka": 0.1, "fake LLM": 0.5, "load generator": 1}
    ctx.cpu["b2"] = (cpu.Usage(2.0, 2, groups), 100, "draft")
    ctx.add("pure.cpu_ms", 2.0)
    [row] = [r for r in report.rows(ctx) if r["#"] == "CPU"]
    assert row["measured"].startswith("4.00 ms/generation: generator 2.00, gateway 1.00")
    assert "(apart: fake LLM 5.00, load generator 10.00)" in row["measured"]
    assert (row["ratio"], row["met"]) == ("2.00×", "✔")


def test_hops_describe_a_burst() -> None:
    import hops

    result = {
        "tasks": 2,
        "complete": 2,
        "progress_per_task": 18,
        "spread": {m: [0.0, 5.0, 10.0] for m in hops.MILESTONES},
        "hops": {"published→claimed": {"p50": 4.0, "max": 9.0, "rank_corr": 0.5}},
    }
    lines = hops.describe(result)
    assert lines[0].startswith("2 tasks, 18 ProgressUpdated each")
    assert "published→claimed 4/9 (r=+0.50)" in lines[1]
    assert hops.describe({"tasks": 3, "complete": 0}) == [
        "per-hop timestamps: no complete task among 3"
    ]


def test_cpu_accounting_gives_a_busy_process_its_own_time_under_its_group(tmp_path: Path) -> None:
    """cpu.py: CPU between two snapshots goes to the group its command line names; a process
    that burns a known amount of CPU (its own count, read back) is found in that group."""
    import cpu

    burner = tmp_path / "bench" / "harness" / "burn.py"  # a path the "load generator" group names
    burner.parent.mkdir(parents=True)
    burner.write_text(
        "import time\nend = time.process_time() + 0.3\n"
        "while time.process_time() < end:\n    pass\nprint(time.process_time())\n"
    )
    before = cpu.snapshot()
    child = subprocess.Popen(  # burns, says how much, and stays (an ended process is not seen)
        [sys.executable, "-c", "import sys; exec(open(sys.argv[1]).read()); input()", str(burner)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        spent = float(child.stdout.readline())
        used = cpu.usage(before, cpu.snapshot())
    finally:
        child.kill()
        child.wait()
    assert spent >= 0.3
    assert used.groups.get("load generator", 0.0) >= spent - 0.05
    # Reading every process's /proc entry takes a while on a busy machine, and the processes read
    # last keep running meanwhile: the share may pass 1 by that skew, never by much.
    assert 0 < used.busy <= 1.05
    assert "load generator 0." in used.describe(10, "thing")
    assert " ms/thing)" in used.describe(10, "thing")
    assert cpu.Usage.from_dict(used.as_dict()) == used


@pytest.mark.integration
def test_raw_two_hop_round_trips_arrive(kafka_bootstrap: str) -> None:
    import asyncio
    import secrets

    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    src, dst = f"bench{secrets.token_hex(3)}.a", f"bench{secrets.token_hex(3)}.b"

    async def create() -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(t, 2, 1) for t in (src, dst)])
        finally:
            await admin.close()

    asyncio.run(create())
    common = ["--kafka", kafka_bootstrap, "--src", src, "--dst", dst, "--size", "500"]
    forward = subprocess.Popen(
        [sys.executable, str(HARNESS / "kafka_raw.py"), "forward", *common],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert forward.stdout is not None
        assert forward.stdout.readline().strip() == "ready"
        out = _run(str(HARNESS / "kafka_raw.py"), "drive", *common, "--n", "40")
        assert (out["n"], out["received"], len(out["latencies"])) == (40, 40, 40)
    finally:
        forward.terminate()
        forward.wait(10)
