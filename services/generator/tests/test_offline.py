"""Offline composer: deterministic, archetype-shaped, obeys the gating decision."""

from __future__ import annotations

import re
from statistics import mean
from uuid import UUID

import pytest
from bcrao_contracts.enums import AccountStatus, Archetype
from bcrao_contracts.events import GenerateRequested
from bcrao_contracts.requirements import CommunityRequirements
from bcrao_generator.offline import chunks, compose, noun_phrase
from bcrao_generator.offline_bank import F_CRITICISM, F_PEOPLE, J_PEOPLE, PS_PEOPLE
from bcrao_generator.postprocess import split_title
from bcrao_rules.gating import GatingDecision, check_gating
from bcrao_rules.textstats import avg_sentence_length, find_links, split_paragraphs
from bcrao_rules.validation import GREETING_RE, blacklist_hits, machine_tells
from bcrao_rules.verdicts import title_fits
from bcrao_rules.writing import pasted_spans

from .factories import PARENT_ID, request

J, PS, FB = Archetype.JOURNEY, Archetype.PROBLEM_SOLUTION, Archetype.FEEDBACK
NEW, WARM, EST = AccountStatus.NEW, AccountStatus.WARMING_UP, AccountStatus.ESTABLISHED
CONTEXT = (
    "Three of my eight clients paid late last month and I spent a weekend chasing invoices. "
    "Write about payment reminders."
)
TASKS = [UUID(int=i) for i in range(1, 41)]
# Every combination gating allows for the demo subreddits.
ALLOWED = [
    ("SaaS", PS, EST), ("SaaS", J, EST), ("SaaS", FB, EST), ("SaaS", FB, NEW),
    ("SaaS", PS, WARM), ("freelance", J, WARM), ("freelance", PS, EST), ("freelance", FB, NEW),
    ("selfhosted", FB, EST), ("selfhosted", FB, NEW), ("selfhosted", FB, WARM),
]  # fmt: skip


def _decide(req: GenerateRequested) -> GatingDecision:
    decision = check_gating(
        req.archetype, req.account_status, req.profile.isc_score if req.profile else None
    )
    assert decision.allowed
    return decision


def _draft(req: GenerateRequested) -> tuple[str, str]:
    return split_title(compose(req, _decide(req)))


def _variants(
    subreddit: str, archetype: Archetype, status: AccountStatus, **kw
) -> list[tuple[str, str]]:
    return [_draft(request(subreddit, archetype, status, CONTEXT, task_id=t, **kw)) for t in TASKS]


def test_output_format_is_a_title_line_then_the_body() -> None:
    raw = compose(request(context=CONTEXT), _decide(request(context=CONTEXT)))
    first, blank, *_ = raw.split("\n")
    assert first.startswith("Title: ")
    assert len(first) > len("Title: ")
    assert blank == ""


def test_deterministic_for_a_task_id() -> None:
    req = request(context=CONTEXT)
    assert compose(req, _decide(req)) == compose(req, _decide(req))
    outputs = {_draft(request(context=CONTEXT, task_id=t)) for t in TASKS[:10]}
    assert len(outputs) == 10


@pytest.mark.parametrize(("subreddit", "archetype", "status"), ALLOWED)
def test_shape_and_hygiene_for_every_allowed_combination(subreddit, archetype, status) -> None:
    req0 = request(subreddit, archetype, status, CONTEXT)
    decision = _decide(req0)
    for title, body in _variants(subreddit, archetype, status):
        paragraphs = split_paragraphs(body)
        assert 3 <= len(paragraphs) <= 6, body
        assert title
        assert len(title) <= 300
        assert not re.search(r"\bNone\b(?! of)", title + body)  # no unfilled value
        assert "{" not in title + body  # every placeholder filled
        assert machine_tells(body) == [], body
        assert blacklist_hits(f"{title}\n\n{body}", req0.blacklist) == []
        assert not GREETING_RE.match(body)
        if decision.zero_links:
            assert find_links(body) == []
        assert len(find_links(body)) <= 1


@pytest.mark.parametrize(
    ("subreddit", "status"), [("SaaS", NEW), ("selfhosted", NEW), ("freelance", NEW)]
)
def test_no_product_mention_for_new_accounts(subreddit: str, status: AccountStatus) -> None:
    for title, body in _variants(subreddit, FB, status):
        text = (title + body).lower()
        assert "invoicely" not in text
        assert "invoicing app for solo freelancers" not in text


def test_context_is_quoted_as_the_users_not_pasted() -> None:
    for _, body in _variants("SaaS", PS, EST):
        assert pasted_spans(body, [CONTEXT]) == [], body
        assert "Write about" not in body  # directions to the writer are not content
    _, body = _draft(request("SaaS", FB, EST, "My reminders go out late, and clients ignore them."))
    assert '"my reminders go out late"' in body


def test_topic_comes_from_keywords_when_context_is_empty() -> None:
    title, body = _draft(request("freelance", PS, EST, ""))
    assert "invoicing" in (title + body).lower()


def test_problem_solution_fix_is_short_and_last() -> None:
    for _, body in _variants("SaaS", PS, EST):
        paragraphs = split_paragraphs(body)
        assert "Invoicely" in paragraphs[-1]
        assert not any("Invoicely" in p for p in paragraphs[:-1])
        words_last = len(paragraphs[-1].split())
        assert words_last * 5 <= len(body.split()), body  # about 10% solution


def test_product_url_at_most_once_and_only_when_links_are_allowed() -> None:
    bodies = [body for _, body in _variants("SaaS", PS, EST)]
    assert all(body.count("invoicely.example.com") == 1 for body in bodies)
    assert all("invoicely.example.com" not in body for _, body in _variants("SaaS", PS, WARM))


def test_warming_up_keeps_the_product_for_the_last_paragraph() -> None:
    for archetype in (J, PS, FB):
        for _, body in _variants("freelance", archetype, WARM):
            paragraphs = split_paragraphs(body)
            assert not any("Invoicely" in p for p in paragraphs[:-1]), body
            assert "Invoicely" in paragraphs[-1]


def test_feedback_asks_at_least_two_specific_questions() -> None:
    for subreddit, status in (("SaaS", EST), ("selfhosted", NEW)):
        for _, body in _variants(subreddit, FB, status):
            assert body.count("?") >= 2
            last = split_paragraphs(body)[-1]
            assert any(c.split("{")[0] in last for c in F_CRITICISM)  # asks for criticism


def test_journey_has_milestones_with_timeframes_that_agree_with_the_title() -> None:
    numbers = r"\b(two|three|four|five|six|seven|eight|nine|ten)\b"
    for title, body in _variants("SaaS", J, EST):
        assert len(re.findall(r"\b(?:week|weeks|month|months)\b", body)) >= 2
        assert re.search(r"\b\w+ed\b", body)  # past tense for what is done
        in_title = set(re.findall(numbers + r"[ -]months?", title.lower()))
        in_body = set(re.findall(numbers + r" months", body.lower()))
        assert len(in_title | in_body) <= 1, (title, body)  # one span of months per draft


def test_sentence_length_follows_the_profile() -> None:
    saas = mean(avg_sentence_length(b) for _, b in _variants("SaaS", FB, EST))
    assert 12 <= saas <= 22  # r/SaaS averages 17.3 words


def test_no_words_are_lifted_from_the_community_samples_in_quotes() -> None:
    for _, body in _variants("SaaS", PS, EST) + _variants("SaaS", FB, EST):
        for quoted in re.findall(r'"([^"]+)"', body):
            assert quoted.lower() in CONTEXT.lower(), body  # only the user's own words
    bodies = " ".join(b for _, b in _variants("SaaS", PS, EST)).lower()
    for avoided in ("game-changer", "revolutionize", "seamless"):
        assert avoided not in bodies


def _regenerate(feedback: str | None) -> list[tuple[str, str]]:
    return _variants("SaaS", PS, EST, parent_draft_id=PARENT_ID, feedback=feedback)


def test_regeneration_shorter() -> None:
    plain = mean(len(b.split()) for _, b in _regenerate(None))
    shorter = mean(len(b.split()) for _, b in _regenerate("Too long, make it shorter."))
    assert shorter < plain * 0.8


def test_regeneration_less_salesy_drops_the_product() -> None:
    for title, body in _regenerate("Less salesy please, it reads like an ad."):
        assert "Invoicely" not in title + body
        assert find_links(body) == []


def test_regeneration_does_not_echo_the_feedback() -> None:
    feedback = "Make the ending punchier and mention zebras."
    for title, body in _regenerate(feedback):
        assert feedback not in body
        assert "zebras" not in title + body


def test_chunks_rejoin_exactly_and_hold_two_to_eight_words() -> None:
    text = compose(request(context=CONTEXT), _decide(request(context=CONTEXT))) + "\n"
    for seed in ("a", "b", "task-1"):
        parts = chunks(text, seed)
        assert "".join(parts) == text
        assert all(2 <= len(p.split()) <= 8 for p in parts[:-1])
        assert 1 <= len(parts[-1].split()) <= 8
    assert chunks(text, "a") == chunks(text, "a")
    assert chunks(text, "a") != chunks(text, "b")
    assert chunks("", "a") == []
    assert chunks("  one", "a") == ["  one"]


def test_a_refused_decision_composes_the_offered_feedback_post() -> None:
    req = request("SaaS", J, NEW, CONTEXT)
    decision = check_gating(J, NEW, 6.4)
    assert not decision.allowed
    _, body = split_title(compose(req, decision))
    assert body.count("?") >= 2
    assert "Invoicely" not in body


def _under_rules(archetype: Archetype, **rules: object) -> list[tuple[str, str]]:
    base = request("SaaS", archetype, EST, CONTEXT)
    assert base.profile is not None
    profile = base.profile.model_copy(
        update={"requirements": CommunityRequirements.model_validate(rules)}
    )
    return [_draft(base.model_copy(update={"profile": profile, "task_id": t})) for t in TASKS[:20]]


@pytest.mark.parametrize(
    "rules",
    [
        {"links_allowed": False},
        {"banned_link_domains": ["example.com"]},
        {"allowed_link_domains": ["github.com", "itch.io"]},
    ],
)
def test_no_product_link_where_the_community_forbids_it(rules: dict[str, object]) -> None:
    for archetype in (PS, J, FB):
        drafts = _under_rules(archetype, **rules)
        assert all(find_links(f"{title}\n{body}") == [] for title, body in drafts), rules
        # The product itself still comes up where gating allows it, only without its link.
        assert any("Invoicely" in body for _, body in drafts)


def test_the_link_stays_where_the_community_allows_its_site() -> None:
    drafts = _under_rules(PS, allowed_link_domains=["invoicely.example.com"])
    assert all(body.count("invoicely.example.com") == 1 for _, body in drafts)


@pytest.mark.parametrize(
    "rules",
    [
        {"title_max_length": 45},
        {"title_min_length": 60},
        {"title_min_length": 30, "title_max_length": 50},
        {"banned_title_words": ["payment reminders", "invoicing", "late payments"]},
    ],
)
def test_titles_keep_the_communitys_title_rules(rules: dict[str, object]) -> None:
    requirements = CommunityRequirements.model_validate(rules)
    for archetype in (PS, J, FB):
        titles = [title for title, _ in _under_rules(archetype, **rules)]
        assert all(title_fits(requirements, t) for t in titles), [
            t for t in titles if not title_fits(requirements, t)
        ]
        assert len(set(titles)) >= 3  # still varied, even with few templates short enough


@pytest.mark.parametrize(
    ("keyword", "phrase"),
    [
        ("garden planner", "garden planners"),
        ("turn-based strategy", "turn-based strategy"),  # a genre, not a count
        ("food waste", "food waste"),
        ("conversation practice", "conversation practice"),
        ("time off", "time off"),  # a phrasal noun keeps its particle last
        ("board game", "board games"),
        ("SaaS", "SaaS"),
    ],
)
def test_keywords_become_noun_phrases_a_reader_expects(keyword: str, phrase: str) -> None:
    assert noun_phrase(keyword) == phrase


PEOPLE_SENTENCES = tuple(
    re.compile(re.escape(t).replace(re.escape("{people}"), r"[\w\- ]+"))
    for t in PS_PEOPLE + J_PEOPLE + F_PEOPLE
)


def test_keywords_naming_people_never_fill_a_slot_written_for_a_task() -> None:
    keywords = ["volunteers", "food waste", "parents", "surplus food", "school holidays"]
    product = "Northside Food Share is a volunteer-run food bank for families in our area."
    base = request("SaaS", PS, EST, "We keep losing volunteers after their second shift.")
    campaign = base.campaign.model_copy(
        update={"keywords": keywords, "product_context": product, "product_url": None}
    )
    people = re.compile(r"\b(?:volunteers|parents)\b", re.I)
    seen_people = 0
    for archetype in (PS, J, FB):
        for task in TASKS[:15]:
            req = base.model_copy(
                update={"campaign": campaign, "archetype": archetype, "task_id": task}
            )
            title, body = _draft(req)
            assert not people.search(title), title
            for sentence in re.split(r"(?<=[.?!])\s+", body):
                if people.search(sentence) and "Food Share" not in sentence:
                    seen_people += 1
                    assert any(p.fullmatch(sentence) for p in PEOPLE_SENTENCES), sentence
    assert seen_people >= 30  # the people keyword still comes up, in sentences about people
