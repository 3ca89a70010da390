"""Does the text obey the request's gating rules? The checks both generation paths share.

The gating decision (bcrao_rules.gating) tells the writer what the post must respect: zero links,
no product at all, the product only in the last paragraph, minimal promotional language. These
checks read the finished title and body and name each rule it breaks; the LLM path asks the model
once to repair a draft that breaks one, and `make eval` counts them (target: none).
"""

from __future__ import annotations

import re

from bcrao_contracts.events import GenerateRequested
from bcrao_rules.gating import GatingDecision
from bcrao_rules.textstats import find_links, split_paragraphs

from .offline import product_facts

PITCH = re.compile(
    r"\b(?:check (?:it|this) out|check out|sign up|try it|give it a (?:try|go)|link below|"
    r"free trial|discount|what finally worked|switched to|ended up with|haven't gone back|"
    r"you should (?:try|use)|highly recommend)\b",
    re.I,
)


def product_markers(request: GenerateRequested) -> list[str]:
    """How a text names the product: its name, and its description without the article."""
    name, desc = product_facts(request.campaign.product_context)
    return [m for m in (name, desc.split(" ", 1)[1] if desc else None) if m]


def gating_breaches(
    request: GenerateRequested, decision: GatingDecision, title: str, body: str
) -> list[str]:
    """The gating constraints the text breaks: links where there must be none, the product where
    it must not appear (or outside the last paragraph), a pitch where promotion must be minimal."""
    breaches: list[str] = []
    text = f"{title}\n\n{body}"
    if decision.zero_links and (links := find_links(text)):
        breaches.append(f"links where there must be none: {', '.join(links)}")
    markers = product_markers(request)

    def mentions(part: str) -> list[str]:
        return [m for m in markers if m.lower() in part.lower()]

    if decision.product_mention == "none" and mentions(text):
        breaches.append(f"the product appears where it must not: {', '.join(mentions(text))}")
    if decision.product_mention == "last_paragraph":
        early = [p for p in [title, *split_paragraphs(body)[:-1]] if mentions(p)]
        if early:
            breaches.append(f"the product before the last paragraph: {early[0][:80]}")
    if decision.promotional_language == "minimal" and (pitch := PITCH.search(text)):
        breaches.append(f"a pitch where promotion must be minimal: {pitch.group(0)}")
    return breaches
