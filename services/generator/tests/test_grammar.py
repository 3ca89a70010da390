"""The offline composer writes clean English: the grammar checks, and the composer held to them."""

from __future__ import annotations

import uuid

import pytest
from bcrao_contracts.enums import AccountStatus, Archetype
from bcrao_contracts.models import CampaignSnapshot
from bcrao_generator.evaluation import demo_request
from bcrao_generator.grammar import defects
from bcrao_generator.offline import compose
from bcrao_rules.gating import check_gating


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("I read the channels threads here.", "plural_modifier"),
        ("What I'm testing is Acme Notes is a note-taking app.", "double_copula"),
        ("It took a weeks to fix.", "article_before_plural"),
        ("I keep keep seeing it.", "repeated_word"),
        ("It was a awful month.", "a_before_vowel"),
        ("I worked on {topic} all year.", "unfilled_slot"),
        ("It hurt , honestly.", "stray_punctuation"),
    ],
)
def test_each_broken_shape_is_found(text: str, kind: str) -> None:
    assert [d.kind for d in defects(text)] == [kind]


@pytest.mark.parametrize(
    "text",
    [
        "I tracked it in a spreadsheet for a business process.",
        "What I'm testing is Acme Notes, a note-taking app.",
        "It took a few weeks, and I had had enough of it.",
        "It was a useful month and an awful week.",
        "This is the honest version.\n\nThis is a second paragraph.",
        'I keep seeing "channels" come up in this sub.',
    ],
)
def test_near_misses_are_not_defects(text: str) -> None:
    assert defects(text) == []


CAMPAIGNS = [
    None,  # the demo campaign
    {
        "name": "Acme",
        "product_context": "Acme Notes is a note-taking app for researchers who read papers.",
        "keywords": [
            "note taking",
            "research papers",
            "citations",
            "reading notes",
            "zettelkasten",
        ],
    },
    {
        "name": "Shipfast",
        "product_context": "A boilerplate for indie hackers: auth, payments and emails.",
        "keywords": ["boilerplates", "indie hackers", "landing pages", "auth", "side projects"],
    },
]
CONTEXTS = [
    "Chasing late payments from freelance clients eats a day of every month",
    "",
    "I want to talk about onboarding emails",
    "Write about how we price things. Our churn is 8% and I'm not sure why.",
]


def test_composed_drafts_have_no_grammar_defects_over_many_seeds() -> None:
    found: list[str] = []
    composed = 0
    for seed in range(24):
        for subreddit in ("SaaS", "freelance", "selfhosted"):
            for archetype in Archetype:
                for status in AccountStatus:
                    request = demo_request(subreddit, archetype, status)
                    name = f"{seed}/{subreddit}/{archetype}/{status}"
                    update: dict[str, object] = {
                        "task_id": uuid.uuid5(uuid.NAMESPACE_URL, name),
                        "context": CONTEXTS[seed % len(CONTEXTS)],
                    }
                    if campaign := CAMPAIGNS[seed % len(CAMPAIGNS)]:
                        update["campaign"] = CampaignSnapshot(id=request.campaign.id, **campaign)
                    request = request.model_copy(update=update)
                    profile = request.profile
                    decision = check_gating(
                        archetype, status, profile.isc_score if profile else None
                    )
                    if not decision.allowed:
                        continue
                    text = compose(request, decision)
                    composed += 1
                    found += [f"{d.kind}: {d.excerpt}" for d in defects(text)]
    assert composed > 300
    assert found == []
