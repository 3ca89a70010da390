"""Rule by rule: does a draft keep the request's gating constraints and the community's rules?

Every rule that applies to a draft gets a verdict (passed or failed, why, and where):

- gating constraints of the request (DOMAIN.md "Gating"): zero links; the product only in the
  last paragraph; no product mention at all (asking for help only); no sales pitch where only
  minimal promotional language is allowed;
- the community's requirements held by its profile (`CommunityRequirements`): title length
  bounds, links allowed or not, allowed and banned link sites, a required flair from a list,
  words banned in titles.

A rule that does not apply is not listed. The generator checks each draft after validation and
draft-store checks each saved edit, both with `check_rules` and `with_verdicts`, so a failed
rule marks the draft `needs_review` exactly like a high-severity blacklist hit. Pure: values in,
values out.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from bcrao_contracts.enums import AccountStatus, Archetype
from bcrao_contracts.models import (
    CommunityProfile,
    GenerationParams,
    ProductMention,
    PromotionalLanguage,
    ValidationReport,
)
from bcrao_contracts.requirements import (
    CommunityRequirements,
    RuleField,
    RuleLocation,
    RuleSource,
    RuleVerdict,
)

from .gating import DEFAULT_ISC, ISC_BLOCK_THRESHOLD
from .textstats import LINK_RE, bare_extent, split_sentences

# Phrases that sell rather than ask: refused where only minimal promotional language is allowed.
PITCH_PHRASES = (
    r"sign(?:ing)?[- ]up", r"free trial", r"\d+[- ]day (?:free )?trial",
    r"try it (?:out )?(?:for free|free|now|today)",
    r"check (?:it|us|me|this) out", r"check out (?:my|our)", r"use (?:my|our) (?:code|link)",
    r"promo code", r"coupon", r"discount", r"\d+ ?% off", r"limited[- ]time", r"buy (?:it )?now",
    r"(?:dm|pm|message) me", r"link in (?:the |my )?(?:bio|comments?|profile)", r"special offer",
    r"book a (?:demo|call)", r"join (?:my|our|the) (?:waitlist|wait list|beta)", r"early[- ]access",
    r"get started (?:today|now|for free)", r"money[- ]back", r"sign up today",
    r"give it a (?:try|go|shot)", r"you should (?:try|use|get)", r"highly recommend",
    r"link (?:is )?below",
)  # fmt: skip
# A success story told around the product ("in the end I switched to Acme", "what finally
# worked was Acme"): a pitch where promotion must be minimal, though each phrase alone is not.
_STORY_RE = re.compile(
    r"\b(?:what (?:finally |actually )?(?:worked|fixed it|helped)(?: for me)? (?:was|is)|"
    r"switched (?:over )?to|ended up (?:with|using)|haven't (?:gone|looked) back|"
    r"(?:fix|solution|answer)(?:, for me,)? (?:was|is))\b",
    re.IGNORECASE,
)
_PITCH_RE = re.compile(r"\b(?:" + "|".join(PITCH_PHRASES) + r")\b", re.IGNORECASE)
_PRODUCT_IS = re.compile(
    r"^(?P<name>[A-Z][\w.\-]{1,40}(?:\s+[A-Z][\w.\-]{0,40}){0,3})\s+(?:is|are|helps|lets|turns)\b"
)
_GENERIC_HOST_LABELS = frozenset({"www", "app", "get", "try", "my", "go", "use", "the", "api"})
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_FLAIR_HINTS: dict[Archetype, tuple[str, ...]] = {
    Archetype.FEEDBACK: ("feedback", "question", "help", "advice", "discussion"),
    Archetype.JOURNEY: ("journey", "story", "milestone", "progress", "share", "discussion"),
    Archetype.PROBLEM_SOLUTION: ("discussion", "question", "advice", "help", "tip"),
}


@dataclass(frozen=True)
class RuleInputs:
    """What the rules of one draft depend on, besides its text and flair."""

    subreddit: str
    zero_links: bool
    product_mention: ProductMention
    promotional_language: PromotionalLanguage
    strict_because: str  # why the gating rules are strict, in words ("a warming-up account")
    product_names: tuple[str, ...] = ()
    product_host: str | None = None
    requirements: CommunityRequirements | None = None


def product_names(product_context: str, product_url: str | None) -> tuple[str, ...]:
    """The names the product goes by: the subject of the context's first sentence when it reads
    "<Name> is …", and the distinctive first label of the product's web address."""
    names: list[str] = []
    first = (split_sentences(product_context) or [product_context])[0].strip()
    if match := _PRODUCT_IS.match(first):
        names.append(match.group("name"))
    host = _host(product_url) if product_url else None
    if host:
        label = host.split(".")[0]
        if len(label) >= 4 and label not in _GENERIC_HOST_LABELS:
            names.append(label)
    seen: dict[str, str] = {}
    for name in names:
        seen.setdefault(name.lower(), name)
    return tuple(seen.values())


def _strict_because(account_status: AccountStatus, isc: float | None) -> str:
    reasons = []
    if account_status is AccountStatus.NEW:
        reasons.append("a new account")
    elif account_status is AccountStatus.WARMING_UP:
        reasons.append("a warming-up account")
    value = DEFAULT_ISC if isc is None else isc
    if value > ISC_BLOCK_THRESHOLD:
        reasons.append(f"a community this sensitive to marketing (ISC {value:.1f})")
    return " and ".join(reasons) or "this request"


def rule_inputs(
    params: GenerationParams,
    *,
    product_context: str,
    product_url: str | None,
    profile: CommunityProfile | None,
    also_named: Sequence[str] = (),
) -> RuleInputs:
    """The inputs from a draft's generation parameters (its gating outcome), the campaign's
    product facts and the community's profile as it is now. `also_named`: more ways the text may
    name the product (the generator adds the short description its composer would write)."""
    names = dict.fromkeys([*product_names(product_context, product_url), *also_named])
    return RuleInputs(
        subreddit=params.subreddit,
        zero_links=params.zero_links,
        product_mention=params.product_mention,
        promotional_language=params.promotional_language,
        strict_because=_strict_because(
            params.account_status, profile.isc_score if profile else None
        ),
        product_names=tuple(n for n in names if n),
        product_host=_host(product_url) if product_url else None,
        requirements=profile.requirements if profile else None,
    )


def link_allowed(requirements: CommunityRequirements | None, url: str) -> bool:
    """May a post here link to `url`? The community's link rules only (the gating rules' zero
    links are the caller's to add): links allowed, not to a banned site, and to an allowed one
    when the community lists them."""
    if requirements is None:
        return True
    host = _host(url)
    if not requirements.links_allowed or _on_site(host, requirements.banned_link_domains):
        return False
    return not requirements.allowed_link_domains or _on_site(
        host, requirements.allowed_link_domains
    )


def title_fits(requirements: CommunityRequirements | None, title: str) -> bool:
    """Does a title keep the community's title rules (length bounds, banned words)?"""
    if requirements is None:
        return True
    low, high = requirements.title_min_length, requirements.title_max_length
    if (low is not None and len(title) < low) or (high is not None and len(title) > high):
        return False
    banned = _words_re(requirements.banned_title_words)
    return banned is None or banned.search(title) is None


# -- text helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Link:
    field: RuleField
    start: int
    end: int
    url: str
    host: str | None

    @property
    def name(self) -> str:
        """How a verdict names the link: its site, or the text itself when it has none."""
        return self.host or self.url


def _host(url: str) -> str | None:
    target = url if "://" in url else f"http://{url}"
    try:
        host = urlsplit(target).hostname
    except ValueError:
        return None
    return host.lower().removeprefix("www.") if host else None


def _links(field: RuleField, text: str) -> list[_Link]:
    found = []
    for match in LINK_RE.finditer(text):
        if match.group("md_url"):
            url, start, end = match.group("md_url"), match.start(), match.end()
        else:
            url = bare_extent(match.group("bare") or "")
            start, end = match.start(), match.start() + len(url)
        if url:
            found.append(_Link(field, start, end, url, _host(url)))
    return found


def _all_links(title: str, body: str) -> list[_Link]:
    return _links("title", title) + _links("body", body)


def _on_site(host: str | None, domains: Sequence[str]) -> bool:
    return host is not None and any(host == d or host.endswith(f".{d}") for d in domains)


def _where(link: _Link, text: str | None = None) -> RuleLocation:
    return RuleLocation(field=link.field, start=link.start, end=link.end, text=text or link.url)


def _matches(pattern: re.Pattern[str], field: RuleField, text: str) -> Iterator[RuleLocation]:
    for match in pattern.finditer(text):
        yield RuleLocation(field=field, start=match.start(), end=match.end(), text=match.group(0))


def _words_re(words: Sequence[str]) -> re.Pattern[str] | None:
    if not words:
        return None
    parts = sorted((re.escape(w) for w in words), key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


def _paragraph_starts(body: str) -> list[int]:
    starts = [0]
    starts += [m.end() for m in _PARAGRAPH_BREAK.finditer(body) if m.end() < len(body)]
    return starts


def _quote(items: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(f"“{i}”" for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _verdict(
    rule: str,
    label: str,
    source: RuleSource,
    failures: list[RuleLocation],
    *,
    passed: str,
    failed: str,
    allowed: Sequence[str] = (),
    measured: list[RuleLocation] | None = None,
) -> RuleVerdict:
    return RuleVerdict(
        rule=rule,
        label=label,
        source=source,
        passed=not failures,
        reason=failed if failures else passed,
        locations=failures or (measured or []),
        allowed=list(allowed),
    )


# -- the rules --------------------------------------------------------------------------------


def _gating(title: str, body: str, inputs: RuleInputs, links: list[_Link]) -> list[RuleVerdict]:
    verdicts: list[RuleVerdict] = []
    why = inputs.strict_because
    if inputs.zero_links:
        hosts = [link.name for link in links]
        verdicts.append(
            _verdict(
                "gating.zero_links",
                "No links",
                "gating",
                [_where(link) for link in links],
                passed=f"No links, as the rules for {why} require.",
                failed=f"The rules for {why} allow no links; the post has "
                f"{_plural(len(links), 'link')}: {_quote(hosts)}. Remove them.",
            )
        )
    names_re = _words_re(inputs.product_names)
    mentions: list[RuleLocation] = []
    if names_re is not None:
        mentions = [*_matches(names_re, "title", title), *_matches(names_re, "body", body)]
    if inputs.product_host:
        mentions += [_where(link) for link in links if _on_site(link.host, [inputs.product_host])]
    shown = _quote([m.text for m in mentions])
    if inputs.product_mention == "none" and (names_re is not None or inputs.product_host):
        verdicts.append(
            _verdict(
                "gating.no_product_mention",
                "No product mention",
                "gating",
                mentions,
                passed=f"The product is not named: with {why} the post only asks for help.",
                failed=f"With {why} the post must only ask for help, without naming the "
                f"product; it names it: {shown}.",
            )
        )
    elif inputs.product_mention == "last_paragraph" and (
        names_re is not None or inputs.product_host
    ):
        last = _paragraph_starts(body)[-1]
        early = [m for m in mentions if m.field == "title" or (m.start or 0) < last]
        place = "in the title" if any(m.field == "title" for m in early) else "in the text"
        verdicts.append(
            _verdict(
                "gating.product_last_paragraph",
                "Product only in the last paragraph",
                "gating",
                early,
                passed=f"The product comes up only in the last paragraph, as the rules for "
                f"{why} require."
                if mentions
                else "The product is not named, so it cannot come up too early.",
                failed=f"With {why} the product may come up only in the last paragraph; it "
                f"appears earlier ({place}): "
                f"{_quote([m.text for m in early])}.",
            )
        )
    if inputs.promotional_language == "minimal":
        pitches = [*_matches(_PITCH_RE, "title", title), *_matches(_PITCH_RE, "body", body)]
        pitches += _stories(body, names_re)
        verdicts.append(
            _verdict(
                "gating.no_pitch",
                "No sales pitch",
                "gating",
                pitches,
                passed=f"No sales phrases: with {why} promotion must stay minimal.",
                failed=f"With {why} promotion must stay minimal; these phrases sell: "
                f"{_quote([p.text for p in pitches])}.",
            )
        )
    return verdicts


def _stories(body: str, names_re: re.Pattern[str] | None) -> list[RuleLocation]:
    """Success-story phrases in a sentence that names the product."""
    if names_re is None:
        return []
    found: list[RuleLocation] = []
    offset = 0
    for sentence in split_sentences(body):
        start = body.find(sentence, offset)
        if start < 0:
            continue
        offset = start + len(sentence)
        if names_re.search(sentence):
            for match in _STORY_RE.finditer(sentence):
                found.append(
                    RuleLocation(
                        field="body",
                        start=start + match.start(),
                        end=start + match.end(),
                        text=match.group(0),
                    )
                )
    return found


def _community(
    title: str, flair: str | None, inputs: RuleInputs, links: list[_Link]
) -> list[RuleVerdict]:
    req = inputs.requirements
    if req is None:
        return []
    sub = f"r/{inputs.subreddit}"
    verdicts: list[RuleVerdict] = []
    low, high = req.title_min_length, req.title_max_length
    if low is not None or high is not None:
        n = len(title)
        bounds = (
            f"{low}–{high}"
            if low is not None and high is not None
            else (f"at least {low}" if low is not None else f"at most {high}")
        )
        whole = RuleLocation(field="title", start=0, end=n, text=title)
        too_short = low is not None and n < low
        too_long = high is not None and n > high
        verdicts.append(
            _verdict(
                "community.title_length",
                "Title length",
                "community",
                [whole] if too_short or too_long else [],
                passed=f"The title has {n} characters; {sub} wants {bounds}.",
                failed=f"The title has {n} characters; {sub} wants {bounds}: "
                + ("make it longer." if too_short else "shorten it."),
            )
        )
    if not req.links_allowed:
        verdicts.append(
            _verdict(
                "community.no_links",
                "Links not allowed here",
                "community",
                [_where(link) for link in links],
                passed=f"No links: {sub} does not allow them.",
                failed=f"{sub} does not allow links; the post has "
                f"{_plural(len(links), 'link')}: {_quote([k.name for k in links])}.",
            )
        )
    elif req.allowed_link_domains:
        outside = [k for k in links if not _on_site(k.host, req.allowed_link_domains)]
        verdicts.append(
            _verdict(
                "community.allowed_link_sites",
                "Links only to allowed sites",
                "community",
                [_where(k) for k in outside],
                passed=f"Every link points to a site {sub} allows."
                if links
                else f"No links; {sub} allows links only to {_quote(req.allowed_link_domains)}.",
                failed=f"{sub} allows links only to {_quote(req.allowed_link_domains)}; these "
                f"point elsewhere: {_quote([k.name for k in outside])}.",
                allowed=req.allowed_link_domains,
            )
        )
    if req.links_allowed and req.banned_link_domains:
        banned = [k for k in links if _on_site(k.host, req.banned_link_domains)]
        verdicts.append(
            _verdict(
                "community.banned_link_sites",
                "No links to banned sites",
                "community",
                [_where(k) for k in banned],
                passed=f"No link points to a site {sub} bans.",
                failed=f"{sub} removes posts linking to "
                f"{_quote([k.name for k in banned])}; remove those links.",
            )
        )
    if req.required_flairs:
        options = req.required_flairs
        chosen = (flair or "").strip()
        ok = chosen.lower() in {o.lower() for o in options}
        where = [RuleLocation(field="flair", text=chosen)]
        verdicts.append(
            _verdict(
                "community.flair",
                "Post flair",
                "community",
                [] if ok else where,
                passed=f"Flair “{chosen}” is one of the flairs {sub} requires.",
                failed=(
                    f"“{chosen}” is not a flair {sub} accepts; pick one of {_quote(options, 8)}."
                    if chosen
                    else f"{sub} requires a flair on every post; pick one of {_quote(options, 8)}."
                ),
                allowed=options,
                measured=where,
            )
        )
    banned_words = _words_re(req.banned_title_words)
    if banned_words is not None:
        found = list(_matches(banned_words, "title", title))
        verdicts.append(
            _verdict(
                "community.banned_title_words",
                "Words banned in titles",
                "community",
                found,
                passed=f"The title uses none of the words {sub} bans in titles.",
                failed=f"{sub} removes titles containing {_quote([f.text for f in found])}; "
                "reword the title.",
            )
        )
    return verdicts


def check_rules(title: str, body: str, flair: str | None, inputs: RuleInputs) -> list[RuleVerdict]:
    """One verdict per rule that applies, gating rules first, then the community's."""
    links = _all_links(title, body)
    return [*_gating(title, body, inputs, links), *_community(title, flair, inputs, links)]


def with_verdicts(report: ValidationReport, verdicts: list[RuleVerdict]) -> ValidationReport:
    """The report with its rule verdicts; a failed rule marks it needs_review."""
    failed = any(not v.passed for v in verdicts)
    return report.model_copy(
        update={"rule_verdicts": verdicts, "needs_review": report.needs_review or failed}
    )


def failed_labels(report: ValidationReport) -> list[str]:
    return [v.label for v in report.rule_verdicts if not v.passed]


def suggest_flair(requirements: CommunityRequirements | None, archetype: Archetype) -> str | None:
    """The flair a new draft starts with when the community requires one: the first listed flair
    that fits the archetype ("Feedback" for a feedback request…), else the first listed."""
    if requirements is None or not requirements.required_flairs:
        return None
    options = requirements.required_flairs
    for hint in _FLAIR_HINTS[archetype]:
        for option in options:
            if hint in option.lower():
                return option
    return options[0]
