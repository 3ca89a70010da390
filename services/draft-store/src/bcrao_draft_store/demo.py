"""The sample data of DOMAIN.md ("Invoicely validation"), loadable for any user, idempotently."""

from __future__ import annotations

from uuid import UUID

from bcrao_contracts import api
from bcrao_contracts.enums import BlacklistCategory, BlacklistKind, Severity, Tone
from sqlalchemy.ext.asyncio import AsyncSession

from . import mapping
from . import repository as repo

CAMPAIGN = api.CampaignCreate(
    name="Invoicely validation",
    description="Validate the invoicing app with solo freelancers before launch.",
    product_context=(
        "Invoicely is an invoicing app for solo freelancers: recurring invoices, automatic "
        "payment reminders and Stripe payouts. 14-day trial, then $9/month."
    ),
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

PROFILES = {
    "SaaS": api.ProfileIn(
        isc_score=6.4,
        avg_sentence_length=17.3,
        dominant_tone=Tone.POSITIVE,
        formality_level=7.9,
        top_success_hooks=[
            "We hit $4k MRR last week and I still have no idea which of our three acquisition "
            "channels actually works",
            "I spent six months building the wrong feature and our churn told me so",
            "Our first 100 customers came from one boring spreadsheet",
        ],
        style_guide={
            "voice": "founder talking to founders, numbers first",
            "words_to_avoid": ["game-changer", "revolutionize", "seamless"],
        },
        sample_size=250,
    ),
    "selfhosted": api.ProfileIn(
        isc_score=8.1,
        avg_sentence_length=15.2,
        dominant_tone=Tone.NEUTRAL,
        formality_level=6.3,
        top_success_hooks=[
            "Finally moved my whole invoicing setup off the cloud and onto a Raspberry Pi",
            "What do you use to keep track of client payments on your homelab?",
        ],
        sample_size=180,
    ),
}

BLACKLIST = [
    (
        "I built",
        BlacklistKind.LITERAL,
        "Self-promotional opener",
        BlacklistCategory.SELF_REFERENTIAL,
    ),
    (
        "my app",
        BlacklistKind.LITERAL,
        "Naming your own product",
        BlacklistCategory.SELF_REFERENTIAL,
    ),
    ("free trial", BlacklistKind.LITERAL, "Trial pitch", BlacklistCategory.PROMOTIONAL),
    ("check out my", BlacklistKind.LITERAL, "Direct invitation", BlacklistCategory.PROMOTIONAL),
    (
        r"\?utm_",
        BlacklistKind.REGEX,
        "Tracking parameters in links",
        BlacklistCategory.LINK_PATTERNS,
    ),
]


async def seed_demo(session: AsyncSession, user_id: str) -> UUID:
    """Create (or find) the demo campaign with its profiles and r/SaaS blacklist; returns its id."""
    campaigns, _ = await repo.list_campaigns(session, user_id, limit=100, offset=0)
    campaign = next((c for c in campaigns if c.name == CAMPAIGN.name), None)
    if campaign is None:
        campaign = await repo.create_campaign(
            session, user_id=user_id, **CAMPAIGN.model_dump(mode="json")
        )
    for subreddit, profile in PROFILES.items():
        await repo.upsert_profile(session, campaign.id, subreddit, mapping.profile_columns(profile))
    existing = {(e.pattern, e.subreddit) for e in await repo.list_blacklist(session, campaign.id)}
    for pattern, kind, description, category in BLACKLIST:
        if (pattern, "SaaS") in existing:
            continue
        await repo.create_blacklist_entry(
            session,
            campaign_id=campaign.id,
            subreddit="SaaS",
            pattern=pattern,
            kind=kind.value,
            description=description,
            category=category.value,
            severity=Severity.HIGH.value
            if kind is BlacklistKind.LITERAL
            else Severity.MEDIUM.value,
            source="user",
        )
    return campaign.id
