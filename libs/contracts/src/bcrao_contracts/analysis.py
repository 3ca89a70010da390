"""Profiles proposed from a sample of a subreddit's posts (computed, never saved by this call).

Two input shapes: posts pasted as `{"posts": [{title, body, score, num_comments}]}`, or the JSON a
browser saves from a subreddit listing (`{"data": {"children": [{"data": {title, selftext, score,
num_comments, url}}]}}`). Listing objects carry many more fields; they are ignored.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from .api import ProfileIn
from .base import Contract

MAX_POSTS = 1000
StrictCount = Annotated[int, Field(strict=True, ge=0)]
StrictScore = Annotated[int, Field(strict=True)]


class PastedPost(Contract):
    title: Annotated[str, Field(min_length=1, max_length=300)]
    body: Annotated[str, Field(max_length=40_000)] = ""
    score: StrictScore = 0
    num_comments: StrictCount = 0
    flair: Annotated[str, Field(max_length=200)] | None = None


class PastedPosts(Contract):
    posts: Annotated[list[PastedPost], Field(max_length=MAX_POSTS)]


class _Tolerant(Contract):
    """Listing objects carry dozens of other fields; they are ignored (NUL is still refused)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class RedditPost(_Tolerant):
    title: Annotated[str, Field(min_length=1, max_length=300)]
    selftext: Annotated[str, Field(max_length=40_000)] = ""
    score: StrictScore = 0
    num_comments: StrictCount = 0
    url: Annotated[str, Field(max_length=2000)] | None = None
    link_flair_text: Annotated[str, Field(max_length=200)] | None = None


class RedditChild(_Tolerant):
    kind: str | None = None
    data: RedditPost


class RedditListingData(_Tolerant):
    children: Annotated[list[RedditChild], Field(max_length=MAX_POSTS)]


class RedditListing(_Tolerant):
    kind: str | None = None
    data: RedditListingData


IscComponentName = Literal["jargon_sensitivity", "link_sensitivity", "vulnerability", "depth"]


class IscComponent(Contract):
    name: IscComponentName
    value: float
    weight: float
    explanation: str


class IscEstimate(Contract):
    value: float
    tier: str
    formula: str
    components: list[IscComponent]


class ProfileProposal(Contract):
    """`profile` can be sent unchanged to PUT .../profiles/{subreddit} once the user agrees."""

    subreddit: str
    sample_size: int
    profile: ProfileIn
    isc: IscEstimate
    notes: list[str] = []
    low_confidence: bool = False  # fewer posts than a reliable estimate needs
    confidence_note: str | None = None  # why, in words
