"""Profiles proposed from posts: both input shapes, the ISC method on worked fixtures, refusals."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from bcrao_contracts.api import ProfileIn
from bcrao_rules.analysis import AnalysisInputError, Post, parse_posts, propose_profile
from hypothesis import given, settings
from hypothesis import strategies as st

FIXTURES = Path(__file__).parent / "fixtures"


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def components(payload: Any) -> dict[str, float]:
    proposal = propose_profile(parse_posts(payload), "freelance")
    return {c.name: c.value for c in proposal.isc.components}


def test_pasted_posts_and_a_reddit_listing_give_the_same_community() -> None:
    pasted, listing = (
        parse_posts(load("pasted_posts.json")),
        parse_posts(load("reddit_listing.json")),
    )
    assert [(p.title, p.score, p.num_comments) for p in pasted] == [
        (p.title, p.score, p.num_comments) for p in listing
    ]
    assert len(pasted) == 12


@pytest.mark.parametrize("fixture", ["pasted_posts.json", "reddit_listing.json"])
def test_isc_worked_example(fixture: str) -> None:
    # 12 posts, quartiles of 3. The top 3 tell personal stories (vulnerability 10 each) with no
    # jargon or links; the bottom 3 are vendor copy full of buzzwords (vulnerability 0), with
    # links. Only 4 posts have comments, so depth is neutral.
    #   jargon 10 − 5·0/3 = 10, link 10 − 5·0/k = 10, vulnerability 5 + (10 − 0) → 10, depth 5
    #   ISC = 0.3·10 + 0.2·10 + 0.3·10 + 0.2·5 = 9.0
    proposal = propose_profile(parse_posts(load(fixture)), "freelance")
    assert {c.name: c.value for c in proposal.isc.components} == {
        "jargon_sensitivity": 10.0,
        "link_sensitivity": 10.0,
        "vulnerability": 10.0,
        "depth": 5.0,
    }
    assert proposal.isc.value == proposal.profile.isc_score == 9.0
    assert proposal.isc.tier == "Very High"
    assert proposal.sample_size == proposal.profile.sample_size == 12
    explained = {c.name: c.explanation for c in proposal.isc.components}
    assert explained["jargon_sensitivity"].startswith("0 of the 3 top posts and 3 of the 3 bottom")
    assert "only 4 posts have comments" in explained["depth"]


def test_the_proposal_is_a_profile_the_put_accepts() -> None:
    proposal = propose_profile(parse_posts(load("pasted_posts.json")), "freelance")
    again = ProfileIn.model_validate(proposal.profile.model_dump(mode="json"))
    assert again == proposal.profile
    # hooks are the titles of the best-scored posts, best first
    assert proposal.profile.top_success_hooks[0] == "I almost quit freelancing last year"
    assert len(proposal.profile.example_posts) == 3
    assert proposal.profile.example_posts[0].startswith("I almost quit freelancing last year\n\n")
    assert proposal.profile.dominant_tone == "negative"  # stuck, frustrated, failed, lost...


def test_a_community_that_rewards_jargon_is_not_jargon_sensitive() -> None:
    data = load("pasted_posts.json")
    posts = data["posts"]
    for post in posts[:3]:  # the best posts now carry buzzwords too
        post["body"] += " We leverage a seamless workflow."
    for post in posts[-3:]:
        post["body"] = post["body"].replace("synergy", "help")
    values = components(data)
    assert values["jargon_sensitivity"] == 5.0  # 3 top ÷ 3 bottom → 10 − 5·1


def test_depth_comes_from_the_most_commented_quarter() -> None:
    data = load("pasted_posts.json")
    for i, post in enumerate(data["posts"]):
        post["num_comments"] = 100 - i  # every post commented; the top three the most
    proposal = propose_profile(parse_posts(data), "freelance")
    depth = next(c for c in proposal.isc.components if c.name == "depth")
    assert depth.explanation.startswith("the 3 most-commented posts")
    # vulnerability 10 each, so (formality match + 10) / 2 is at least 5 and above neutral
    assert 5.0 <= depth.value <= 10.0


def test_the_same_posts_always_give_the_same_proposal() -> None:
    first = propose_profile(parse_posts(load("reddit_listing.json")), "freelance")
    second = propose_profile(parse_posts(load("reddit_listing.json")), "freelance")
    assert first == second


@pytest.mark.parametrize("bad", ["bad\x00title", "half a pair \ud800"], ids=["nul", "surrogate"])
def test_unstorable_text_is_refused_in_both_input_shapes(bad: str) -> None:
    listing = load("reddit_listing.json")
    listing["data"]["children"][0]["data"]["title"] = bad
    with pytest.raises(AnalysisInputError, match="not a Reddit listing"):
        parse_posts(listing)
    pasted = {"posts": [{"title": bad, "score": 1}] * 10}
    with pytest.raises(AnalysisInputError, match="pasted posts are invalid"):
        parse_posts(pasted)


def test_comment_children_of_a_post_page_are_not_posts() -> None:
    listing = load("reddit_listing.json")
    comments = {"kind": "Listing", "data": {"children": [{"kind": "t1", "data": {"body": "hi"}}]}}
    assert len(parse_posts([listing, comments])) == 12


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({}, "paste the posts' text"),
        ([], "paste the posts' text"),
        ("   ", "paste the posts' text"),
        ({"posts": []}, "no posts were found"),
        ("---\n---\n", "no posts were found"),
        ({"posts": [{"body": "no title"}]}, "the pasted posts are invalid"),
        ({"posts": [{"title": "t", "score": "7"}]}, "the pasted posts are invalid"),
        ({"posts": [{"title": "t", "num_comments": True}]}, "the pasted posts are invalid"),
        ({"data": {"children": "nope"}}, "not a Reddit listing"),
        ({"data": {"children": [{"data": {"selftext": "no title"}}]}}, "not a Reddit listing"),
    ],
)
def test_empty_and_malformed_input_is_refused_clearly(payload: Any, message: str) -> None:
    with pytest.raises(AnalysisInputError, match=message) as caught:
        propose_profile(parse_posts(payload), "freelance")
    if "invalid" in message or "listing" in message:
        assert caught.value.details["errors"][0]["field"]


def test_fewer_than_ten_posts_give_an_estimate_marked_low_confidence() -> None:
    posts = [Post(f"title {i}", "body text here.", i, 0) for i in range(9)]
    proposal = propose_profile(posts, "freelance")
    assert proposal.low_confidence is True
    assert proposal.confidence_note is not None
    assert proposal.confidence_note.startswith("only 9 posts: at least 10")
    assert proposal.sample_size == 9
    one = propose_profile(parse_posts({"posts": [{"title": "only one", "score": 1}]}), "x")
    assert one.low_confidence is True
    assert one.profile.top_success_hooks == ["only one"]
    ten = propose_profile([Post(f"t{i}", "b.", i, 0) for i in range(10)], "freelance")
    assert ten.low_confidence is False
    assert ten.confidence_note is None


def test_pasted_post_texts_are_posts_whose_first_line_is_the_title() -> None:
    dashed = (
        "Title: I quit invoicing by hand\nIt took a year.\n\nThen it clicked.\n"
        "---\n# Ask: pricing?\nHow do you price?\n"
    )
    posts = parse_posts({"text": dashed})
    assert [(p.title, p.body) for p in posts] == [
        ("I quit invoicing by hand", "It took a year.\n\nThen it clicked."),
        ("Ask: pricing?", "How do you price?"),
    ]
    blank = parse_posts("First post title\nIts body.\n\n\nSecond title\r\n\r\nThird title")
    assert [p.title for p in blank] == ["First post title", "Second title", "Third title"]
    proposal = propose_profile(blank, "freelance")
    assert proposal.profile.top_success_hooks == ["First post title", "Second title", "Third title"]
    assert "no scores were given: the posts are taken in the order pasted" in proposal.notes


# Bodies made of words, sentence ends, jargon and links, so every component has something to see.
_TOKENS = [
    "I ",
    "was ",
    "stuck ",
    "the ",
    "tool ",
    "works. ",
    "why? ",
    "\n\n",
    "leverage ",
    "https://x.io ",
]
_texts = st.lists(st.sampled_from(_TOKENS), max_size=60).map("".join)
_posts = st.lists(
    st.builds(
        Post,
        # NUL and lone surrogates never get this far: both input shapes refuse them (a 422)
        title=st.text(
            st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
            min_size=1,
            max_size=40,
        ),
        body=_texts,
        score=st.integers(-100, 10_000),
        num_comments=st.integers(0, 500),
    ),
    min_size=10,
    max_size=40,
)


@settings(max_examples=60, deadline=None)
@given(_posts)
def test_any_sample_gives_a_profile_the_put_accepts(posts: list[Post]) -> None:
    proposal = propose_profile(posts, "freelance")
    assert 1.0 <= proposal.isc.value <= 10.0
    assert proposal.isc.value == round(proposal.isc.value, 1)
    assert all(0.0 <= c.value <= 10.0 for c in proposal.isc.components)
    assert sum(c.weight for c in proposal.isc.components) == pytest.approx(1.0)
    ProfileIn.model_validate(proposal.profile.model_dump(mode="json"))
    assert proposal == propose_profile(list(posts), "freelance")


def test_a_sample_where_every_post_has_a_flair_proposes_the_flairs_as_required() -> None:
    listing = load("reddit_listing.json")
    children = listing["data"]["children"]
    for i, child in enumerate(children):
        child["data"]["link_flair_text"] = ["Question", "Showcase", "Question"][i % 3]
    proposal = propose_profile(parse_posts(listing), "freelance")
    assert proposal.profile.requirements is not None
    assert proposal.profile.requirements.required_flairs == ["Question", "Showcase"]
    assert any("flair" in note for note in proposal.notes)
    # The proposal with its rules still goes through PUT unchanged.
    assert ProfileIn.model_validate(proposal.profile.model_dump(mode="json")) == proposal.profile

    children[0]["data"]["link_flair_text"] = None  # one post without: flairs are optional there
    assert propose_profile(parse_posts(listing), "freelance").profile.requirements is None


def test_pasted_posts_may_carry_their_flair() -> None:
    pasted = load("pasted_posts.json")
    for post in pasted["posts"]:
        post["flair"] = "Discussion"
    proposal = propose_profile(parse_posts(pasted), "freelance")
    assert proposal.profile.requirements is not None
    assert proposal.profile.requirements.required_flairs == ["Discussion"]
