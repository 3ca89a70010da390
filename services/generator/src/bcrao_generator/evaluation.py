"""`make eval`: the generation pipeline over many products, judged as a reader would judge it.

The matrix (eval_matrix.py): nine campaigns from unrelated fields × every archetype × every
account status × several seeds, each through the real pipeline (gating, prompt, the configured
LLM or the offline composer, humanizer at the default level, validation, scoring), plus ten seeds
of one request per campaign (do the titles vary?) and a regeneration with feedback per campaign
(shown the parent draft; is the feedback followed?).

Each draft is checked by LanguageTool (grammar, casing and punctuation; see languagetool.py for
the excluded rule ids) and by the project's own checks: content leaked from another domain,
pasted input, quoted words that are not the user's, title/body contradictions, blacklist hits
the generator wrote itself, failed rule verdicts (the gating constraints and the community's
posting rules), and a draft with writing findings banded above
moderate. `report.md` and `report.json` in --out list every finding with its draft; the command
exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bcrao_contracts.enums import AccountStatus, Archetype, BlacklistKind, Severity
from bcrao_contracts.events import DraftGenerated, GenerateRequested, ProgressUpdated
from bcrao_contracts.models import (
    BlacklistEntry,
    CampaignSnapshot,
    CommunityProfile,
    ParentDraft,
)
from bcrao_rules import scoring
from bcrao_rules.gating import GatingDecision, check_gating
from bcrao_rules.textstats import split_sentences, words
from bcrao_rules.writing import content_words, pasted_spans

from .config import Settings
from .eval_matrix import CAMPAIGNS, EvalCampaign
from .languagetool import EXCLUDED_RULES, LanguageToolServer
from .llm import LLM, OfflineComposer, build_llm
from .obedience import failed_rules
from .offline import product_facts
from .pipeline import run_generation
from .progress import Progress

NAMESPACE = uuid.UUID("6f1c1e4a-0000-4000-8000-00000000e7a1")
SEEDS = 3
TITLE_SEEDS = 10
TARGETS: dict[str, tuple[str, float]] = {
    "languagetool_per_100_words": ("<=", 0.3),
    "leaked_sentences": ("<=", 0),
    "pasted_inputs": ("<=", 0),
    "quoted_sample_words": ("<=", 0),
    "title_body_contradictions": ("<=", 0),
    "self_made_blacklist_hits": ("<=", 0),
    "broken_gating": ("<=", 0),
    "failed_rule_verdicts": ("<=", 0),
    "feedback_followed_pct": (">=", 100.0),
    "min_distinct_titles_of_10": (">=", 8),
    "findings_banded_above_moderate": ("<=", 0),
}
# Words that name facts of one domain. A draft sentence with one of them that the request does not
# contain tells a story the user never gave (the offline composer's banks once did: emails,
# laptops, a VA, revenue, users for a garden-planning app).
LEAK_LEXICON = frozenset(
    str.split(
        """email emails laptop laptops va vas revenue users user customers customer clients client
    invoice invoices invoicing paying mrr arr signups sign-ups upvotes launch pricing bug
    bugs feature features app apps code coding spreadsheet spreadsheets stripe churn
    onboarding subscribers subscription trial dollars employees employee hired hire
    freelance freelancer freelancers saas startup founder server deploy codebase investors
    funding"""
    )
)
_NUMBER = (
    r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)[ -]"
    r"(month|week|hour|day|year)s?\b"
)


def _id(*parts: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(parts))


def campaign_request(
    c: EvalCampaign,
    archetype: Archetype,
    status: AccountStatus,
    *,
    seed: int = 0,
    feedback: str | None = None,
    parent: ParentDraft | None = None,
) -> GenerateRequested:
    campaign_id = _id(c.key)
    profile = (
        CommunityProfile(
            subreddit=c.subreddit,
            isc_score=c.isc,
            avg_sentence_length=c.avg_sentence,
            formality_level=c.grade,
            example_posts=list(c.example_posts),
            requirements=c.requirements,
        )
        if c.isc is not None
        else None
    )
    blacklist = [
        BlacklistEntry(
            id=_id(c.key, "blacklist", literal),
            campaign_id=campaign_id,
            pattern=literal,
            kind=BlacklistKind.LITERAL,
            description=f"moderators remove posts that say {literal!r}",
            severity=Severity.HIGH,
        )
        for literal in c.blacklist
    ]
    return GenerateRequested(
        task_id=_id(c.key, archetype, status, str(seed), feedback or ""),
        producer="evaluation",
        user_id="eval",
        campaign=CampaignSnapshot(
            id=campaign_id,
            name=c.name,
            product_context=c.product_context,
            product_url=c.product_url,
            keywords=list(c.keywords),
        ),
        subreddit=c.subreddit,
        archetype=archetype,
        account_status=status,
        context=c.context,
        profile=profile,
        blacklist=blacklist,
        parent_draft_id=_id(c.key, "parent", str(seed)) if parent else None,
        parent_draft=parent,
        feedback=feedback,
    )


@dataclass
class Finding:
    check: str
    detail: str


@dataclass
class Case:
    campaign: str
    archetype: str
    account_status: str
    seed: int
    kind: str = "matrix"  # matrix, titles, parent, regeneration
    gated: str | None = None
    title: str = ""
    body: str = ""
    words: int = 0
    overall: float = 0.0
    band: str = ""
    findings: list[Finding] = field(default_factory=list)
    writing_findings: list[str] = field(default_factory=list)
    languagetool: list[str] = field(default_factory=list)


async def generate(llm: LLM, request: GenerateRequested) -> DraftGenerated | None:
    async def collect(_event: ProgressUpdated) -> None:
        return None

    outcome = await run_generation(
        request, llm=llm, progress=Progress(request.task_id, collect, interval=0)
    )
    return outcome if isinstance(outcome, DraftGenerated) else None


def _request_text(request: GenerateRequested) -> str:
    profile = request.profile
    parts = [
        request.context,
        request.campaign.product_context,
        request.campaign.name,
        " ".join(request.campaign.keywords),
        request.subreddit,
        request.feedback or "",
        *(profile.example_posts if profile else []),
        *(profile.top_success_hooks if profile else []),
    ]
    return " ".join(parts).lower()


def own_checks(
    request: GenerateRequested, decision: GatingDecision, draft: DraftGenerated
) -> list[Finding]:
    """The project's own checks of one generated draft (LanguageTool runs separately)."""
    title, body = draft.draft.title, draft.draft.body
    text = f"{title}\n\n{body}"
    known = set(words(_request_text(request)))
    found: list[Finding] = []
    for sentence in [title, *split_sentences(body)]:
        leaked = {w for w in (t.lower() for t in words(sentence)) if w in LEAK_LEXICON} - known
        if leaked:
            found.append(Finding("leaked", f"{', '.join(sorted(leaked))}: {sentence}"))
    for span in pasted_spans(text, [request.context, request.campaign.product_context]):
        found.append(Finding("pasted", span))
    # Quotes are the user's words only: never the community's sample posts.
    campaign = request.campaign
    user_words = " ".join(
        [request.context, campaign.product_context, campaign.name, *campaign.keywords]
    ).lower()
    for quoted in re.findall(r'"([^"\n]{1,200})"', text):
        if quoted.lower() not in user_words:
            found.append(Finding("quoted_sample", quoted))
    in_title = {(n, u) for n, u in re.findall(_NUMBER, title.lower())}
    in_body = {(n, u) for n, u in re.findall(_NUMBER, body.lower())}
    for number, unit in in_title:
        others = {n for n, u in in_body if u == unit}
        if others and number not in others:
            found.append(Finding("contradiction", f"title {number} {unit}s, body {others}"))
    for hit in draft.draft.validation.blacklist_hits:
        found.append(Finding("self_blacklist", f"{hit.entry}: {hit.matched_text}"))
    # Rule by rule, as the draft's report has it: the gating constraints and the community's
    # requirements (bcrao_rules.verdicts owns each check).
    params = draft.draft.generation_params
    for verdict in failed_rules(request, params, title, body, draft.draft.flair):
        check = "gating" if verdict.source == "gating" else "community_rule"
        found.append(Finding(check, f"{verdict.label}: {verdict.reason}"))
    report = draft.draft.validation
    shown = scoring.band(draft.draft.scores.overall)
    if report.writing_findings and shown in ("good", "excellent"):
        found.append(Finding("banded_above_moderate", f"{shown} with writing findings"))
    return found


def _decide(request: GenerateRequested) -> GatingDecision:
    profile = request.profile
    return check_gating(
        request.archetype, request.account_status, profile.isc_score if profile else None
    )


def _case(c: EvalCampaign, request: GenerateRequested, seed: int, kind: str) -> Case:
    return Case(
        campaign=c.key,
        archetype=request.archetype.value,
        account_status=request.account_status.value,
        seed=seed,
        kind=kind,
    )


def _fill(case: Case, request: GenerateRequested, outcome: DraftGenerated | None) -> Case:
    decision = _decide(request)
    if outcome is None:
        case.gated = decision.code.value if decision.code else "failed"
        return case
    draft = outcome.draft
    case.title, case.body = draft.title, draft.body
    case.words = len(words(f"{draft.title} {draft.body}"))
    case.overall = draft.scores.overall
    case.band = scoring.band(draft.scores.overall)
    case.writing_findings = [
        f"{f.kind}: {f.excerpt or f.message}" for f in draft.validation.writing_findings
    ]
    case.findings = own_checks(request, decision, outcome)
    return case


async def evaluate(llm: LLM, seeds: int = SEEDS) -> dict[str, Any]:
    cases: list[Case] = []
    distinct: dict[str, int] = {}
    feedback: list[dict[str, Any]] = []
    for c in CAMPAIGNS:
        for archetype in Archetype:
            for status in AccountStatus:
                for seed in range(seeds):
                    request = campaign_request(c, archetype, status, seed=seed)
                    case = _case(c, request, seed, "matrix")
                    cases.append(_fill(case, request, await generate(llm, request)))
        # Ten seeds of one request: do the titles vary?
        allowed = next(
            a
            for a in Archetype
            if _decide(campaign_request(c, a, AccountStatus.ESTABLISHED)).allowed
        )
        titles = []
        for seed in range(100, 100 + TITLE_SEEDS):
            request = campaign_request(c, allowed, AccountStatus.ESTABLISHED, seed=seed)
            case = _fill(_case(c, request, seed, "titles"), request, await generate(llm, request))
            cases.append(case)
            titles.append(case.title)
        distinct[c.key] = len(set(titles))
        feedback.append(await feedback_case(llm, c, allowed))
    return {"cases": cases, "distinct_titles": distinct, "feedback": feedback}


async def feedback_case(llm: LLM, c: EvalCampaign, archetype: Archetype) -> dict[str, Any]:
    """A draft, then its regeneration with the campaign's feedback, shown the parent draft."""
    parent_request = campaign_request(c, archetype, AccountStatus.ESTABLISHED, seed=7)
    parent = await generate(llm, parent_request)
    assert parent is not None
    shown = ParentDraft(title=parent.draft.title, body=parent.draft.body)
    request = campaign_request(
        c, archetype, AccountStatus.ESTABLISHED, seed=7, feedback=c.feedback, parent=shown
    )
    child = await generate(llm, request)
    assert child is not None
    text = f"{child.draft.title}\n\n{child.draft.body}"
    missing = sorted(content_words(c.asked) - content_words(text)) if c.asked else []
    kept = [d for d in c.dropped if re.search(rf"\b{re.escape(d)}\b", text, re.I)]
    name, _ = product_facts(c.product_context)
    no_product = re.search(r"no product|not name the product|less of a pitch|salesy", c.feedback)
    named = bool(no_product and name and name.lower() in text.lower())
    changed = child.draft.title.strip().lower() != parent.draft.title.strip().lower()
    ok = not missing and not kept and not named and changed
    return {
        "campaign": c.key,
        "feedback": c.feedback,
        "parent_title": parent.draft.title,
        "title": child.draft.title,
        "body": child.draft.body,
        "asked_missing": missing,
        "dropped_still_there": kept,
        "product_named": named,
        "title_changed": changed,
        "followed": ok,
        "findings": [asdict(f) for f in own_checks(request, _decide(request), child)],
    }


def grammar(cases: Sequence[Case], server: LanguageToolServer) -> None:
    drafted = [c for c in cases if c.gated is None]
    results = server.check([f"{c.title}\n\n{c.body}" for c in drafted])
    for case, matches in zip(drafted, results, strict=True):
        case.languagetool = [f"{m.rule}: {m.message} [{m.excerpt}]" for m in matches]


def totals(result: dict[str, Any], *, with_languagetool: bool) -> dict[str, Any]:
    cases: list[Case] = result["cases"]
    drafted = [c for c in cases if c.gated is None]
    words_total = sum(c.words for c in drafted)

    def count(check: str) -> int:
        own = sum(1 for c in drafted for f in c.findings if f.check == check)
        regen = sum(1 for r in result["feedback"] for f in r["findings"] if f["check"] == check)
        return own + regen

    followed = [r["followed"] for r in result["feedback"]]
    out: dict[str, Any] = {
        "campaigns": len(CAMPAIGNS),
        "drafts": len(drafted),
        "gated": len(cases) - len(drafted),
        "words": words_total,
        "leaked_sentences": count("leaked"),
        "pasted_inputs": count("pasted"),
        "quoted_sample_words": count("quoted_sample"),
        "title_body_contradictions": count("contradiction"),
        "self_made_blacklist_hits": count("self_blacklist"),
        "broken_gating": count("gating"),
        "failed_rule_verdicts": count("gating") + count("community_rule"),
        "feedback_followed_pct": round(100.0 * sum(followed) / len(followed), 1),
        "min_distinct_titles_of_10": min(result["distinct_titles"].values()),
        "findings_banded_above_moderate": count("banded_above_moderate"),
        "drafts_with_writing_findings": sum(bool(c.writing_findings) for c in drafted),
    }
    if with_languagetool:
        matches = sum(len(c.languagetool) for c in drafted)
        out["languagetool_matches"] = matches
        out["languagetool_per_100_words"] = round(100.0 * matches / max(1, words_total), 3)
    return out


def missed(summary: dict[str, Any]) -> list[str]:
    out = []
    for key, (op, target) in TARGETS.items():
        if key not in summary:
            continue
        value = summary[key]
        if (op == "<=" and value > target) or (op == ">=" and value < target):
            out.append(f"{key} = {value} (target {op} {target:g})")
    return out


def markdown(result: dict[str, Any], summary: dict[str, Any], model: str) -> str:
    lines = [
        f"# Generation evaluation — {model}",
        "",
        "| measure | value | target |",
        "|---|---|---|",
    ]
    for key, value in summary.items():
        op, target = TARGETS.get(key, ("", ""))
        lines.append(f"| {key} | {value} | {op} {target} |")
    lines += ["", "LanguageTool rules excluded:", ""]
    lines += [f"- `{rule}`: {why}" for rule, why in EXCLUDED_RULES.items()]
    lines += ["", "## Distinct titles over 10 seeds", ""]
    lines += [f"- {k}: {v}" for k, v in result["distinct_titles"].items()]
    lines += ["", "## Feedback cases", ""]
    for r in result["feedback"]:
        lines += [
            f"### {r['campaign']}: {'followed' if r['followed'] else 'NOT followed'}",
            f"feedback: {r['feedback']}",
            f"parent title: {r['parent_title']}",
            f"missing: {r['asked_missing']} · still there: {r['dropped_still_there']} · "
            f"product named: {r['product_named']} · title changed: {r['title_changed']}",
            "",
            f"**{r['title']}**",
            "",
            r["body"],
            "",
        ]
    lines += ["## Findings, with their drafts", ""]
    for c in result["cases"]:
        problems = [f"{f.check}: {f.detail}" for f in c.findings]
        problems += [f"writing: {w}" for w in c.writing_findings]
        problems += [f"languagetool: {m}" for m in c.languagetool]
        if c.gated is None and problems:
            lines += [
                f"### {c.campaign} · {c.archetype} · {c.account_status} · seed {c.seed} · "
                f"{c.overall:.1f} {c.band}",
                *[f"- {p}" for p in problems],
                "",
                f"**{c.title}**",
                "",
                c.body,
                "",
            ]
    lines += [
        "## Cases",
        "",
        "| campaign | archetype | account | seed | kind | gated | words | overall | band | title |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for c in result["cases"]:
        lines.append(
            f"| {c.campaign} | {c.archetype} | {c.account_status} | {c.seed} | {c.kind} | "
            f"{c.gated or ''} | {c.words or ''} | {c.overall if c.gated is None else ''} | "
            f"{c.band} | {c.title.replace('|', '/')[:80]} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Evaluate the generation pipeline.")
    parser.add_argument("--out", type=Path, default=Path("eval/out"))
    parser.add_argument("--seeds", type=int, default=SEEDS, help="seeds per matrix cell")
    parser.add_argument("--languagetool-url", default=None, help="a running LanguageTool")
    parser.add_argument("--no-languagetool", action="store_true", help="skip the grammar check")
    args = parser.parse_args(argv)
    settings = Settings(offline_chunk_delay_ms=0)
    llm = build_llm(settings)
    result = asyncio.run(evaluate(llm, args.seeds))
    if not args.no_languagetool:
        with LanguageToolServer(url=args.languagetool_url) as server:
            grammar(result["cases"], server)
    summary = totals(result, with_languagetool=not args.no_languagetool)
    args.out.mkdir(parents=True, exist_ok=True)
    serialisable = {
        "model": llm.name,
        "summary": summary,
        "targets": {k: f"{op} {v:g}" for k, (op, v) in TARGETS.items()},
        "excluded_languagetool_rules": EXCLUDED_RULES,
        "distinct_titles": result["distinct_titles"],
        "feedback": result["feedback"],
        "cases": [asdict(c) for c in result["cases"]],
    }
    (args.out / "report.json").write_text(json.dumps(serialisable, indent=2) + "\n")
    (args.out / "report.md").write_text(markdown(result, summary, llm.name))
    print("| measure | value | target |")
    for key, value in summary.items():
        op, target = TARGETS.get(key, ("", ""))
        print(f"| {key} | {value} | {op} {target} |")
    print(f"report: {args.out / 'report.md'} and {args.out / 'report.json'}", file=sys.stderr)
    if failures := missed(summary):
        print("eval: targets missed: " + "; ".join(failures), file=sys.stderr)
        sys.exit(1)


__all__ = ["OfflineComposer", "evaluate", "failed_rules", "main", "own_checks", "totals"]

if __name__ == "__main__":
    main()
