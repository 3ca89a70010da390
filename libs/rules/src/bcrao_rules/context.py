"""The topic a generation is about: the user's context, or a default built from the campaign.

A context of a few characters ("a") gives the model nothing to write about and produced drafts
like "I'm a bit stuck on a and…"; a non-empty context must have at least CONTEXT_MIN characters.
An empty context is allowed and replaced by a topic built from the campaign's keywords.

The default deliberately uses only the keywords, never the product context: the product must not
reach the prompt for a New account (gating), and the topic is sent whatever the account status.
"""

from __future__ import annotations

from collections.abc import Sequence

from bcrao_contracts.models import CONTEXT_MAX

# A short phrase ("late invoices", 13) is a topic; a letter or a word or two is not.
CONTEXT_MIN = 12
DEFAULT_TOPIC_KEYWORDS = 3


def context_problem(context: str) -> str | None:
    """Why a context cannot be used, or None. Empty is fine (the default topic is used)."""
    text = context.strip()
    if text and len(text) < CONTEXT_MIN:
        return (
            f"describe the topic in at least {CONTEXT_MIN} characters (you wrote {len(text)}), "
            "or leave it empty to write about the campaign's keywords"
        )
    return None


def default_context(keywords: Sequence[str], subreddit: str) -> str:
    """A topic from the campaign's first keywords, e.g. "What I keep running into with invoice
    reminders, late payments and cash flow, and how people in r/freelance deal with it"."""
    picked = [k.strip() for k in keywords if k.strip()][:DEFAULT_TOPIC_KEYWORDS]
    if not picked:
        topic = "the problem this campaign is about"
    elif len(picked) == 1:
        topic = picked[0]
    else:
        topic = ", ".join(picked[:-1]) + " and " + picked[-1]
    text = f"What I keep running into with {topic}, and how people in r/{subreddit} deal with it"
    return text[:CONTEXT_MAX]
