"""Gating: which archetype a request may use and which constraints the draft must respect.

Runs before any LLM call, so a refusal costs no quota. Rules and their order follow DOMAIN.md
"Generation pipeline / 1. Gating".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bcrao_contracts.enums import AccountStatus, Archetype, ErrorCode
from bcrao_contracts.models import ProductMention, PromotionalLanguage

DEFAULT_ISC = 5.0  # DOMAIN.md: generation without a profile runs with ISC 5.0
ISC_BLOCK_THRESHOLD = 7.5  # strictly above blocks; 7.5 itself passes
ISC_ELEVATED = 5.0
ISC_PLAIN_PROMO = 3.0
ISC_BLOCKED_ARCHETYPES = frozenset({Archetype.JOURNEY, Archetype.PROBLEM_SOLUTION})

ZERO_LINKS = "zero links"
MAX_VULNERABILITY = "maximum vulnerability: first person, honest doubts, real questions"

NEW_ACCOUNT_CONSTRAINTS: tuple[str, ...] = (
    "warm-up mode: this account is new to the community",
    MAX_VULNERABILITY,
    ZERO_LINKS,
    "no product pitch: you are only asking for help",
)
VERY_HIGH_ISC_CONSTRAINTS: tuple[str, ...] = (
    "very high sensitivity: this community removes anything that smells of marketing",
    MAX_VULNERABILITY,
    ZERO_LINKS,
    "minimal promotional language",
    "authenticity over polish",
    "show genuine uncertainty and ask for the community's guidance",
)
WARMING_UP_CONSTRAINTS: tuple[str, ...] = (
    ZERO_LINKS,
    "the product may appear only in the last paragraph",
)
ARCHETYPE_CONSTRAINTS: dict[Archetype, tuple[str, ...]] = {
    Archetype.PROBLEM_SOLUTION: (
        "about 90% pain, 10% solution",
        "no greeting",
        "the first 2-3 paragraphs are only about the problem",
        "say why the existing solutions failed",
        "the fix is short and matter-of-fact, at the end",
    ),
    Archetype.JOURNEY: (
        "a diary of building something",
        "milestones with timeframes",
        "concrete numbers",
        "include the setbacks",
        "the product comes up naturally, never as a pitch",
        "past tense for what is done",
    ),
    Archetype.FEEDBACK: (
        "the community are the experts",
        "ask them to find the flaws",
        "admit what you are unsure of",
        "ask specific questions",
        "ask for criticism, not praise",
    ),
}
ELEVATED_CONSTRAINT = "elevated sensitivity: authenticity first"
PLAIN_PROMO_CONSTRAINT = "plain promotional language is acceptable here"

_MENTION_STRICTNESS: dict[ProductMention, int] = {"none": 2, "last_paragraph": 1, "natural": 0}


@dataclass(frozen=True)
class GatingDecision:
    allowed: bool
    archetype: Archetype
    code: ErrorCode | None
    message: str
    forced_archetype: Archetype | None
    constraints: tuple[str, ...]
    zero_links: bool
    product_mention: ProductMention
    promotional_language: PromotionalLanguage

    def details(self) -> dict[str, Any]:
        forced = self.forced_archetype.value if self.forced_archetype else None
        return {"forced_archetype": forced, "constraints": list(self.constraints)}


def _refuse(
    archetype: Archetype, code: ErrorCode, message: str, constraints: tuple[str, ...]
) -> GatingDecision:
    return GatingDecision(
        allowed=False,
        archetype=archetype,
        code=code,
        message=message,
        forced_archetype=Archetype.FEEDBACK,
        constraints=constraints,
        zero_links=True,
        product_mention="none",
        promotional_language="minimal",
    )


def _stricter(a: ProductMention, b: ProductMention) -> ProductMention:
    return a if _MENTION_STRICTNESS[a] >= _MENTION_STRICTNESS[b] else b


def check_gating(
    archetype: Archetype, account_status: AccountStatus, isc: float | None
) -> GatingDecision:
    isc_value = DEFAULT_ISC if isc is None else isc
    very_high = isc_value > ISC_BLOCK_THRESHOLD

    if account_status is AccountStatus.NEW and archetype is not Archetype.FEEDBACK:
        return _refuse(
            archetype,
            ErrorCode.WARMUP_ARCHETYPE_BLOCKED,
            f"New accounts can only write Feedback posts while they warm up; {archetype.value} "
            "is not available yet.",
            NEW_ACCOUNT_CONSTRAINTS,
        )
    if very_high and archetype in ISC_BLOCKED_ARCHETYPES:
        return _refuse(
            archetype,
            ErrorCode.ISC_ARCHETYPE_BLOCKED,
            f"This community's sensitivity to marketing (ISC {isc_value:g}) is above "
            f"{ISC_BLOCK_THRESHOLD:g}: {archetype.value} posts get removed there; use Feedback.",
            VERY_HIGH_ISC_CONSTRAINTS,
        )

    # An allowed request still carries the protective constraints of the rule it passed:
    # a New account's Feedback post is a warm-up post, and a Feedback post in a very
    # sensitive community must be as careful as the refusal would have demanded.
    constraints: list[str] = []
    zero_links = False
    mention: ProductMention = "natural"
    promo: PromotionalLanguage = "normal"
    if account_status is AccountStatus.NEW:
        constraints += NEW_ACCOUNT_CONSTRAINTS
        zero_links, mention, promo = True, "none", "minimal"
    if very_high:
        # Not "none": a Feedback post may show what it asks feedback on, just without selling it.
        constraints += VERY_HIGH_ISC_CONSTRAINTS
        zero_links, promo = True, "minimal"
    if account_status is AccountStatus.WARMING_UP:
        constraints += WARMING_UP_CONSTRAINTS
        zero_links = True
        mention = _stricter(mention, "last_paragraph")
    constraints += ARCHETYPE_CONSTRAINTS[archetype]
    if isc_value > ISC_ELEVATED:
        constraints.append(ELEVATED_CONSTRAINT)
    elif isc_value <= ISC_PLAIN_PROMO and promo == "normal":
        constraints.append(PLAIN_PROMO_CONSTRAINT)
        promo = "plain"

    return GatingDecision(
        allowed=True,
        archetype=archetype,
        code=None,
        message="",
        forced_archetype=None,
        constraints=tuple(dict.fromkeys(constraints)),  # same bullet from two rules once
        zero_links=zero_links,
        product_mention=mention,
        promotional_language=promo,
    )
