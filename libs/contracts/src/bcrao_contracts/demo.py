"""The sample data of DOMAIN.md ("Invoicely validation"), as API bodies. Invented, consistent
with the rules: r/SaaS has a profile (ISC 6.4), r/selfhosted a very sensitive one (ISC 8.1,
Journey and ProblemSolution refused), r/freelance none (generation runs with defaults)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from .api import BlacklistEntryCreate, CampaignCreate, ProfileIn
from .enums import AccountStatus, Archetype, BlacklistCategory, BlacklistKind, Severity, Tone
from .models import GenerationParams, PromptCampaign, PromptProduct, StyleGuide

DEMO_USER = "demo"

CAMPAIGN = CampaignCreate(
    name="Invoicely validation",
    description="Do solo freelancers feel the late-payment pain enough to pay $9/month?",
    product_context=(
        "Invoicely is an invoicing app for solo freelancers: recurring invoices, automatic "
        "payment reminders and Stripe payouts. 14-day trial, then $9/month."
    ),
    product_url="https://invoicely.example.com",
    keywords=[
        "invoicing",
        "late payments",
        "freelance clients",
        "payment reminders",
        "recurring invoices",
        "cash flow",
    ],
    target_subreddits=["SaaS", "freelance", "selfhosted"],
)

PROFILES: dict[str, ProfileIn] = {
    "SaaS": ProfileIn(
        isc_score=6.4,
        avg_sentence_length=17.3,
        dominant_tone=Tone.POSITIVE,
        formality_level=7.9,
        top_success_hooks=[
            "We hit $4k MRR last week and I still have no idea which of our three acquisition "
            "channels actually works",
            "I spent six months building the wrong feature because I only talked to my friends",
            "Churn dropped 30% after we started calling every cancelled customer",
        ],
        style_guide=StyleGuide(
            voice="Founders talking shop: numbers, honest mistakes, no hype.",
            words_to_use=["MRR", "churn", "runway", "onboarding"],
            words_to_avoid=["game-changer", "revolutionize", "seamless"],
        ),
        sample_size=250,
    ),
    "selfhosted": ProfileIn(
        isc_score=8.1,
        avg_sentence_length=15.2,
        dominant_tone=Tone.NEUTRAL,
        formality_level=6.3,
        top_success_hooks=[
            "Finally moved everything off Google Photos, here is what my setup looks like now",
            "My homelab power bill was getting silly so I measured every box for a month",
        ],
        sample_size=180,
    ),
}

BLACKLIST: list[BlacklistEntryCreate] = [
    *(
        BlacklistEntryCreate(
            pattern=literal,
            kind=BlacklistKind.LITERAL,
            description=description,
            category=category,
            severity=Severity.HIGH,
            subreddit="SaaS",
        )
        for literal, description, category in (
            (
                "I built",
                "Opening with what you built reads as self-promotion",
                BlacklistCategory.SELF_REFERENTIAL,
            ),
            (
                "my app",
                "Naming 'my app' reads as self-promotion",
                BlacklistCategory.SELF_REFERENTIAL,
            ),
            ("free trial", "Mentions of a free trial read as an ad", BlacklistCategory.PROMOTIONAL),
            (
                "check out my",
                "Direct calls to check out your product",
                BlacklistCategory.PROMOTIONAL,
            ),
        )
    ),
    BlacklistEntryCreate(
        pattern=r"\?utm_",
        kind=BlacklistKind.REGEX,
        description="Tracking parameters in links",
        category=BlacklistCategory.LINK_PATTERNS,
        severity=Severity.MEDIUM,
        subreddit="SaaS",
    ),
]


def generation_params(
    campaign_id: UUID,
    *,
    subreddit: str = "freelance",
    archetype: Archetype = Archetype.FEEDBACK,
    account_status: AccountStatus = AccountStatus.ESTABLISHED,
    context: str = "",
    **overrides: Any,
) -> GenerationParams:
    """The params a draft of the demo campaign carries, as the generator stores them (without a
    community profile unless `profile=` is given): for example payloads and test builders."""
    product = PromptProduct(
        product_context=CAMPAIGN.product_context,
        product_url=str(CAMPAIGN.product_url) if CAMPAIGN.product_url else None,
    )
    values: dict[str, Any] = {
        "prompt_version": "example",
        "subreddit": subreddit,
        "archetype": archetype,
        "account_status": account_status,
        "context": context,
        "campaign": PromptCampaign(id=campaign_id, keywords=CAMPAIGN.keywords, product=product),
        "constraints": ["ask for criticism, not praise"],
        "product_mention": "natural",
        "zero_links": False,
        "promotional_language": "normal",
        "model": "offline-composer",
        "attempts": 1,
        "finish_reason": "stop",
        "prompt_tokens": 0,
        "completion_tokens": 0,
        **overrides,
    }
    return GenerationParams(**values)
