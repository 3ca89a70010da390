"""Blacklist hits, machine tells (one trigger and one near miss per category) and the report."""

from __future__ import annotations

from uuid import UUID

import pytest
from bcrao_contracts.enums import BlacklistCategory, BlacklistKind, Severity
from bcrao_contracts.models import BlacklistEntry
from bcrao_rules.validation import CATEGORIES, blacklist_hits, machine_tells, validate

from .factories import blacklist

LONG_MIDDLE = " ".join(["The invoices piled up while I was busy with client work."] * 6)

TELLS = [
    ("formal_transition",
     "I sent the invoice. Furthermore, I sent a reminder.",
     "I sent the invoice. I additionally sent a reminder, which furthermore annoyed them."),
    ("formal_transition",
     "Nothing worked.\nIn addition, the client ghosted me.",
     "Nothing worked. The client, in addition, ghosted me."),
    ("chatbot_phrase",
     "That is my setup. I hope this helps!",
     "That is my setup. I hope this works for me."),
    ("chatbot_phrase",
     "Let me delve into why invoices slip.",
     "Let me dig into why invoices slip."),
    ("chatbot_phrase",
     "Let me know if you have questions.",
     "Let me know what you think."),
    ("corporate_buzzword",
     "This tool will revolutionize how you leverage invoicing.",
     "This tool changed how I handle invoicing."),
    ("corporate_buzzword",
     "A seamless, cutting-edge experience.",
     "The seamstress cut the edge of the fabric."),
    ("bullet_list",
     "What I tried:\n- spreadsheets\n- reminders\n- a VA",
     "What I tried:\n- spreadsheets\n- reminders"),
    ("bullet_list",
     "Steps:\n1. invoice\n2. remind\n3. chase",
     "Steps: invoice, remind, chase - in that order."),
    ("generic_greeting",
     "Hey everyone! Quick question about invoices.",
     "Quick question about invoices. I said hey everyone to the room later."),
    ("generic_greeting",
     "Hi all, long-time lurker here.",
     "Hi, long-time lurker here."),
    ("so_opener",
     "So, here is what happened with my invoices.",
     "So far the invoices are fine. It was so, so slow."),
    ("so_opener",
     "Clients paid late. So, I changed my terms.",
     "Clients paid late. So I changed my terms."),
    ("symmetric_layout",
     f"Short intro here.\n\n{LONG_MIDDLE}\n\nShort outro here.",
     f"{LONG_MIDDLE}\n\n{LONG_MIDDLE}\n\nShort outro here."),
    ("tidy_ending",
     "Clients pay late. In conclusion, send reminders.",
     "Clients pay late. The conclusion I reached was to send reminders."),
    ("tidy_ending",
     "At the end of the day, cash flow matters.",
     "At the end of the month, cash flow matters."),
    ("enumeration",
     "First, I raised my rates. Second, I sent reminders. Finally, I fired a client.",
     "First time posting here. I raised my rates and finally fired a client."),
    ("enumeration",
     "Firstly, invoices are boring.",
     "The first invoice is boring."),
    ("hedge_then_affirm",
     "While reminders may help, it is the terms that matter.",
     "While I was waiting, the client paid."),
    ("hedge_then_affirm",
     "It's not just about money, it's about respect.",
     "It's not just me who pays late."),
    ("vague_plural",
     "There are various solutions for this.",
     "There are three solutions for this."),
    ("vague_plural",
     "I looked at numerous tools before deciding.",
     "I looked at numerous reviews before deciding."),
    ("exclamations",
     "It worked! Finally! I got paid!",
     "It worked! Finally. I got paid!"),
]  # fmt: skip


def _categories(text: str) -> set[str]:
    return {hit.category for hit in machine_tells(text)}


@pytest.mark.parametrize(("category", "trigger", "near_miss"), TELLS)
def test_machine_tell_trigger_and_near_miss(category: str, trigger: str, near_miss: str) -> None:
    assert category in _categories(trigger)
    assert category not in _categories(near_miss)


def test_every_category_has_a_row() -> None:
    assert {row[0] for row in TELLS} == set(CATEGORIES)


def test_plain_human_text_has_no_tells() -> None:
    text = (
        "Three of my eight clients paid late last month. I spent a weekend chasing them.\n\n"
        "Spreadsheets lasted two weeks. Reminders got snoozed.\n\n"
        "Now I invoice on the 1st and follow up on the 8th, every month."
    )
    assert machine_tells(text) == []


def test_tell_hits_carry_the_matched_text() -> None:
    hits = machine_tells("Moreover, we leverage synergy.")
    assert [(h.category, h.matched_text) for h in hits] == [
        ("formal_transition", "Moreover"),
        ("corporate_buzzword", "leverage"),
        ("corporate_buzzword", "synergy"),
    ]


def _entry(pattern: str, kind=BlacklistKind.LITERAL, severity=Severity.MEDIUM) -> BlacklistEntry:
    return BlacklistEntry(
        id=UUID(int=99),
        pattern=pattern,
        kind=kind,
        description="test entry",
        category=BlacklistCategory.PROMOTIONAL,
        severity=severity,
    )


def test_blacklist_reports_every_match_of_every_entry() -> None:
    entries = blacklist("SaaS")
    text = (
        "I built it. Then i BUILT it again. Try the free trial: https://x.example.com/?utm_source=r"
    )
    hits = blacklist_hits(text, entries)
    assert [(h.entry, h.matched_text) for h in hits] == [
        ("I built", "I built"),
        ("I built", "i BUILT"),
        ("free trial", "free trial"),
        (r"\?utm_", "?utm_"),
    ]
    assert hits[0].description == entries[0].description
    assert hits[0].category is BlacklistCategory.SELF_REFERENTIAL
    assert hits[0].severity is Severity.HIGH
    assert hits[0].entry_id == entries[0].id


def test_literals_match_on_word_boundaries() -> None:
    assert blacklist_hits("my apps and my application", [_entry("my app")]) == []
    assert len(blacklist_hits("it's my app.", [_entry("my app")])) == 1


def test_regex_that_matches_empty_text_reports_nothing_empty() -> None:
    hits = blacklist_hits("abc", [_entry("x*", kind=BlacklistKind.REGEX)])
    assert hits == []


def test_validate_report() -> None:
    body = (
        "Moreover, clients pay late. I tried everything!\n\n"
        "More at https://a.example.com and [here](https://b.example.com)."
    )
    report = validate(
        "Free trial inside",
        body,
        blacklist=blacklist("SaaS"),
        links_removed=["https://c.example.com"],
    )
    assert [h.matched_text for h in report.blacklist_hits] == ["Free trial"]
    assert report.needs_review is True  # the demo literals are high severity
    assert report.link_count == 2
    assert report.links_removed == ["https://c.example.com"]
    assert report.sentence_count == 3  # "here" is prose, the URLs are not
    assert report.avg_sentence_length == pytest.approx((4 + 3 + 4) / 3, abs=0.01)
    assert "formal_transition" in {h.category for h in report.machine_tells}


def test_needs_review_only_for_high_severity() -> None:
    entry = _entry("late", severity=Severity.MEDIUM)
    report = validate("Title", "Paid late.", blacklist=[entry], links_removed=[])
    assert len(report.blacklist_hits) == 1
    assert report.needs_review is False
    high = _entry("late", severity=Severity.HIGH)
    assert validate("Title", "Paid late.", blacklist=[high], links_removed=[]).needs_review


def test_title_phrases_are_checked_but_not_layout() -> None:
    report = validate(
        "A game-changer for invoices", "Plain body here.", blacklist=[], links_removed=[]
    )
    assert [(h.category, h.matched_text) for h in report.machine_tells] == [
        ("corporate_buzzword", "game-changer")
    ]
    assert (
        validate("Hey everyone", "Plain body.", blacklist=[], links_removed=[]).machine_tells == []
    )
