"""`make eval`: the fixed matrix of DOMAIN.md's demo campaign through the real pipeline.

Subreddits (SaaS, freelance, selfhosted) × archetypes × account statuses, plus a regeneration
with feedback, with whatever LLM is configured (the offline composer without a key). Writes
`report.md` and `report.json`.

Every draft's title and body are also checked for grammar defects (`grammar.py`), over the matrix
and over `--seeds` random task ids (200 by default); the command exits 1 when it finds any.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from statistics import mean
from typing import Any

from bcrao_contracts import demo
from bcrao_contracts.enums import AccountStatus, Archetype
from bcrao_contracts.events import DraftGenerated, GenerateRequested, ProgressUpdated
from bcrao_contracts.models import BlacklistEntry, CampaignSnapshot, CommunityProfile
from bcrao_rules.textstats import split_paragraphs

from .config import Settings
from .grammar import defects
from .llm import LLM, build_llm
from .pipeline import run_generation
from .progress import Progress

NAMESPACE = uuid.UUID("6f1c1e4a-0000-4000-8000-00000000e7a1")
CONTEXT = "Chasing late payments from freelance clients eats a day of every month"
FEEDBACK = "Shorter please, and less salesy: no product name at all"


def _id(*parts: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(parts))


def demo_request(
    subreddit: str,
    archetype: Archetype,
    status: AccountStatus,
    *,
    feedback: str | None = None,
    parent: uuid.UUID | None = None,
) -> GenerateRequested:
    campaign_id = _id("campaign")
    profile = demo.PROFILES.get(subreddit)
    entries = [
        BlacklistEntry(id=_id("blacklist", str(i)), campaign_id=campaign_id, **e.model_dump())
        for i, e in enumerate(demo.BLACKLIST)
        if e.subreddit in (None, subreddit)
    ]
    return GenerateRequested(
        task_id=_id(subreddit, archetype, status, feedback or ""),
        producer="evaluation",
        user_id=demo.DEMO_USER,
        campaign=CampaignSnapshot(
            id=campaign_id,
            name=demo.CAMPAIGN.name,
            product_context=demo.CAMPAIGN.product_context,
            product_url=demo.CAMPAIGN.product_url,
            keywords=demo.CAMPAIGN.keywords,
        ),
        subreddit=subreddit,
        archetype=archetype,
        account_status=status,
        context=CONTEXT,
        profile=CommunityProfile(subreddit=subreddit, **profile.model_dump()) if profile else None,
        blacklist=entries,
        parent_draft_id=parent,
        feedback=feedback,
    )


@dataclass
class Case:
    subreddit: str
    archetype: str
    account_status: str
    regeneration: bool
    gated: str | None = None
    title: str = ""
    chars: int = 0
    words: int = 0
    paragraphs: int = 0
    links: int = 0
    links_removed: int = 0
    blacklist_hits: list[str] = field(default_factory=list)
    machine_tells: list[str] = field(default_factory=list)
    needs_review: bool = False
    scores: dict[str, float] = field(default_factory=dict)
    chunks: int = 0
    model: str = ""
    grammar_defects: list[str] = field(default_factory=list)


async def run_case(llm: LLM, request: GenerateRequested) -> tuple[Case, DraftGenerated | None]:
    events: list[ProgressUpdated] = []

    async def collect(event: ProgressUpdated) -> None:
        events.append(event)

    outcome = await run_generation(request, llm=llm, progress=Progress(request.task_id, collect))
    case = Case(
        subreddit=request.subreddit,
        archetype=request.archetype.value,
        account_status=request.account_status.value,
        regeneration=request.feedback is not None,
        chunks=sum(e.kind == "chunk" for e in events),
    )
    if not isinstance(outcome, DraftGenerated):
        case.gated = outcome.code.value
        return case, None
    draft = outcome.draft
    report = draft.validation
    case.title = draft.title
    case.chars = len(draft.body)
    case.words = len(draft.body.split())
    case.paragraphs = len(split_paragraphs(draft.body))
    case.links = report.link_count
    case.links_removed = len(report.links_removed)
    case.blacklist_hits = [f"{h.entry} ({h.severity.value})" for h in report.blacklist_hits]
    case.machine_tells = sorted({h.category for h in report.machine_tells})
    case.needs_review = report.needs_review
    case.model = draft.model_used
    case.grammar_defects = [
        f"{d.kind}: {d.excerpt}" for d in defects(f"{draft.title}\n\n{draft.body}")
    ]
    case.scores = {
        k: round(float(v), 2)
        for k, v in draft.scores.model_dump().items()
        if isinstance(v, int | float)
    }
    return case, outcome


async def evaluate(llm: LLM) -> list[Case]:
    cases: list[Case] = []
    for subreddit in demo.CAMPAIGN.target_subreddits:
        for archetype in Archetype:
            for status in AccountStatus:
                case, _ = await run_case(llm, demo_request(subreddit, archetype, status))
                cases.append(case)
    parent_request = demo_request("SaaS", Archetype.PROBLEM_SOLUTION, AccountStatus.ESTABLISHED)
    regen = demo_request(
        "SaaS",
        Archetype.PROBLEM_SOLUTION,
        AccountStatus.ESTABLISHED,
        feedback=FEEDBACK,
        parent=_id("parent-draft", str(parent_request.task_id)),
    )
    case, _ = await run_case(llm, regen)
    cases.append(case)
    return cases


async def seed_sweep(llm: LLM, seeds: int, *, rng_seed: int = 20261202) -> list[Case]:
    """`seeds` random cells of the matrix, each with a random task id (so other templates)."""
    rng = random.Random(rng_seed)
    cases = []
    for _ in range(seeds):
        request = demo_request(
            rng.choice(list(demo.CAMPAIGN.target_subreddits)),
            rng.choice(list(Archetype)),
            rng.choice(list(AccountStatus)),
        ).model_copy(update={"task_id": uuid.UUID(int=rng.getrandbits(128), version=4)})
        case, _ = await run_case(llm, request)
        cases.append(case)
    return cases


def grammar_totals(cases: list[Case]) -> dict[str, int]:
    drafted = [c for c in cases if c.gated is None]
    return {"drafts": len(drafted), "grammar_defects": sum(len(c.grammar_defects) for c in drafted)}


def summary(cases: list[Case]) -> dict[str, Any]:
    drafted = [c for c in cases if c.gated is None]
    return {
        "cases": len(cases),
        "drafted": len(drafted),
        "gated": len(cases) - len(drafted),
        "mean_overall": round(mean(c.scores["overall"] for c in drafted), 2) if drafted else None,
        "mean_words": round(mean(c.words for c in drafted), 1) if drafted else None,
        "with_links": sum(c.links > 0 for c in drafted),
        "with_blacklist_hits": sum(bool(c.blacklist_hits) for c in drafted),
        "with_machine_tells": sum(bool(c.machine_tells) for c in drafted),
        "needs_review": sum(c.needs_review for c in drafted),
        "single_paragraph": sum(c.paragraphs < 2 for c in drafted),
        "grammar_defects": sum(len(c.grammar_defects) for c in drafted),
    }


def markdown(cases: list[Case], model: str, totals: dict[str, Any]) -> str:
    lines = [
        f"# Generation evaluation — {model}",
        "",
        " · ".join(f"{k}: {v}" for k, v in totals.items()),
        "",
        "| subreddit | archetype | account | regen | gated | words | ¶ | links | blacklist "
        "| machine tells | vuln | rhythm | formality | burst | overall | title |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in cases:
        s = c.scores
        cells = [
            f"r/{c.subreddit}",
            c.archetype,
            c.account_status,
            "yes" if c.regeneration else "",
            c.gated or "",
            str(c.words or ""),
            str(c.paragraphs or ""),
            f"{c.links} (-{c.links_removed})" if c.gated is None else "",
            ", ".join(c.blacklist_hits),
            ", ".join(c.machine_tells),
            *(
                f"{s[k]:.1f}" if k in s else ""
                for k in (
                    "vulnerability",
                    "rhythm_match",
                    "formality_match",
                    "burstiness",
                    "overall",
                )
            ),
            c.title.replace("|", "/")[:70],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate the generation pipeline.")
    parser.add_argument("--out", type=Path, default=Path("eval/out"))
    parser.add_argument("--seeds", type=int, default=200, help="random task ids to check")
    args = parser.parse_args(argv)
    settings = Settings(offline_chunk_delay_ms=0)
    llm = build_llm(settings)
    cases = asyncio.run(evaluate(llm))
    sweep = asyncio.run(seed_sweep(llm, args.seeds))
    totals = summary(cases)
    sweep_totals = grammar_totals(sweep)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(
        json.dumps(
            {
                "model": llm.name,
                "summary": totals,
                "seed_sweep": {"seeds": args.seeds, **sweep_totals},
                "cases": [asdict(c) for c in cases],
                "sweep_defects": [d for c in sweep for d in c.grammar_defects],
            },
            indent=2,
        )
        + "\n"
    )
    report = markdown(cases, llm.name, totals)
    report += (
        f"\nGrammar over {args.seeds} random seeds: {sweep_totals['drafts']} drafts, "
        f"{sweep_totals['grammar_defects']} defects.\n"
    )
    (args.out / "report.md").write_text(report)
    print(report)
    print(f"report: {args.out / 'report.md'} and {args.out / 'report.json'}", file=sys.stderr)
    found = totals["grammar_defects"] + sweep_totals["grammar_defects"]
    if found:
        print(f"eval: {found} grammar defects (see the report)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
