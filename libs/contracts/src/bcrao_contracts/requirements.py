"""A community's posting rules (held by its profile) and the per-rule verdict on a draft.

A profile may hold structured requirements a subreddit states in its rules: title length bounds,
whether links are allowed and to which sites, a flair every post must carry, words banned in
titles. Every generated draft and every saved edit is checked against them and against the
gating constraints of its request (`bcrao_rules.verdicts`); each rule that applies gets a
`RuleVerdict`, kept in the validation report. A failed rule marks the draft `needs_review`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from .base import Contract

TITLE_LIMIT = 300  # Reddit's own title limit (models.TITLE_MAX)
FLAIR_MAX = 64
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Flair = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=FLAIR_MAX)]
TitleLength = Annotated[int, Field(strict=True, ge=1, le=TITLE_LIMIT)]


def normalize_domain(value: str) -> str:
    """`https://www.GitHub.com/x`, `www.github.com` and `github.com` all become `github.com`."""
    host = value.strip().lower()
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", host)
    host = re.split(r"[/?#:]", host, maxsplit=1)[0].removeprefix("www.").rstrip(".")
    if not _DOMAIN_RE.match(host):
        raise ValueError(f"{value!r} is not a site name such as example.com")
    return host


def _domains(value: Any) -> Any:
    if isinstance(value, list):
        out = [normalize_domain(v) if isinstance(v, str) else v for v in value]
        return list(dict.fromkeys(out))
    return value


class CommunityRequirements(Contract):
    """Structured rules of one subreddit; every field is optional (empty: no such rule)."""

    title_min_length: TitleLength | None = Field(
        default=None, description="fewest characters a title may have"
    )
    title_max_length: TitleLength | None = Field(
        default=None, description="most characters a title may have (Reddit's own limit is 300)"
    )
    links_allowed: Annotated[bool, Field(strict=True)] = Field(
        default=True, description="false: the community removes posts with links"
    )
    allowed_link_domains: Annotated[list[str], Field(max_length=50)] = Field(
        default=[], description="when not empty, links may point only to these sites"
    )
    banned_link_domains: Annotated[list[str], Field(max_length=50)] = Field(
        default=[], description="links to these sites (or their subdomains) get a post removed"
    )
    required_flairs: Annotated[list[Flair], Field(max_length=50)] = Field(
        default=[], description="when not empty, every post must carry one of these flairs"
    )
    banned_title_words: Annotated[list[Word], Field(max_length=100)] = Field(
        default=[], description="words or phrases a title must not contain (any case)"
    )

    @field_validator("allowed_link_domains", "banned_link_domains", mode="before")
    @classmethod
    def _normalize_domains(cls, value: Any) -> Any:
        return _domains(value)

    @model_validator(mode="after")
    def _bounds(self) -> CommunityRequirements:
        low, high = self.title_min_length, self.title_max_length
        if low is not None and high is not None and low > high:
            raise ValueError("title_min_length is larger than title_max_length")
        return self

    def is_empty(self) -> bool:
        return self == CommunityRequirements()


RuleSource = Literal["gating", "community"]
RuleField = Literal["title", "body", "flair"]


class RuleLocation(Contract):
    """Where a rule is broken (or what it measured): character offsets in the title or body."""

    field: RuleField
    start: int | None = None
    end: int | None = None
    text: str = ""


class RuleVerdict(Contract):
    """One rule that applies to the draft: passed or failed, why, and where in the text.

    `source` is `gating` for the constraints of the request (account status, community
    sensitivity) and `community` for the profile's requirements. `allowed` lists the values the
    rule accepts where it has a list (flairs, link sites), so a client can offer them.
    """

    rule: str
    label: str
    source: RuleSource
    passed: bool
    reason: str
    locations: list[RuleLocation] = []
    allowed: list[str] = []
