"""B2's baseline: the generator's pure pipeline in one process, pinned to one core, no I/O.

gating → prompt → offline composer (no delay) → post-processing → validation → scoring, through
the generator's own `run_generation` with a progress sink that drops what it is given.
Prints {"drafts_per_s", "cpu_ms_per_draft", "request_bytes", "generated_bytes"}; `--template F`
also writes one DraftGenerated (JSON) that B4 copies for its bursts.

The pipeline's import surface is the three names below, so moving the pure steps elsewhere
(libs/rules) is a one-line change here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from uuid import uuid4

from bcrao_contracts import demo
from bcrao_contracts.events import GenerateRequested
from bcrao_contracts.models import BlacklistEntry, CampaignSnapshot, CommunityProfile
from bcrao_generator.llm import OfflineComposer
from bcrao_generator.pipeline import run_generation
from bcrao_generator.progress import Progress

SUBREDDIT = "SaaS"


def request(campaign_id: object = None, user_id: str = demo.DEMO_USER) -> GenerateRequested:
    """What draft-store snapshots for the demo campaign (DOMAIN.md sample data), r/SaaS."""
    c = demo.CAMPAIGN
    cid = campaign_id or uuid4()
    return GenerateRequested(
        task_id=uuid4(),
        producer="bench",
        user_id=user_id,
        campaign=CampaignSnapshot(
            id=cid,
            name=c.name,
            product_context=c.product_context,
            product_url=c.product_url,
            keywords=c.keywords,
        ),
        subreddit=SUBREDDIT,
        archetype="ProblemSolution",
        context="late invoices",
        profile=CommunityProfile(subreddit=SUBREDDIT, **demo.PROFILES[SUBREDDIT].model_dump()),
        blacklist=[
            BlacklistEntry(id=uuid4(), campaign_id=cid, **e.model_dump())
            for e in demo.BLACKLIST
            if e.subreddit in (None, SUBREDDIT)
        ],
    )


async def _drop(_: object) -> None:
    return None


async def one(llm: OfflineComposer) -> tuple[GenerateRequested, object]:
    req = request()
    outcome = await run_generation(req, llm=llm, progress=Progress(req.task_id, _drop))
    return req, outcome


async def run(seconds: float, template: Path | None) -> dict[str, float]:
    llm = OfflineComposer(chunk_delay_ms=0)
    req, outcome = await one(llm)  # warm: imports, regex compilation, first-call paths
    if outcome.event_type != "DraftGenerated":  # type: ignore[attr-defined]
        raise SystemExit(f"the pure pipeline did not produce a draft: {outcome!r}")
    if template is not None:
        template.write_text(outcome.model_dump_json())  # type: ignore[attr-defined]
    count, started, cpu = 0, time.perf_counter(), time.process_time()
    while (elapsed := time.perf_counter() - started) < seconds:
        await one(llm)
        count += 1
    return {
        "drafts_per_s": count / elapsed,
        # CPU seconds per draft: what the system's CPU per generation is compared with.
        "cpu_ms_per_draft": (time.process_time() - cpu) * 1000 / count,
        "request_bytes": len(req.model_dump_json()),
        "generated_bytes": len(outcome.model_dump_json()),  # type: ignore[attr-defined]
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--template", type=Path)
    parser.add_argument("--core", type=int, default=0)
    args = parser.parse_args()
    os.sched_setaffinity(0, {args.core})  # "on one core": the scheduler may not spread it
    print(json.dumps(asyncio.run(run(args.seconds, args.template))))


if __name__ == "__main__":
    main()
