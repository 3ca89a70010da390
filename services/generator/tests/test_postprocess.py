"""Title extraction and link removal."""

from __future__ import annotations

import pytest
from bcrao_generator.postprocess import FALLBACK_TITLE, remove_links, split_title
from bcrao_rules.textstats import find_links, split_paragraphs


@pytest.mark.parametrize(
    ("raw", "title", "body"),
    [
        ("Title: Late invoices again\n\nThree clients paid late.", "Late invoices again",
         "Three clients paid late."),
        ("title:   spaced   out  \nBody here.", "spaced out", "Body here."),
        ("# Late invoices again\n\nBody.", "Late invoices again", "Body."),
        ("**Title:** Late invoices again\n\nBody.", "Late invoices again", "Body."),
        ("**Title: Late invoices again**\n\nBody.", "Late invoices again", "Body."),
        ('Title: "Quoted title"\n\nBody.', "Quoted title", "Body."),
        ("  \n\nTitle: After blank lines\n\nBody.", "After blank lines", "Body."),
        # no title line: the first sentence, the body keeps it
        ("Three clients paid late. I was stuck.", "Three clients paid late.",
         "Three clients paid late. I was stuck."),
        # an empty title line falls back to the body
        ("Title:\n\nThe body speaks. More.", "The body speaks.", "The body speaks. More."),
        ("Title: Only a title", "Only a title", ""),
        ("", FALLBACK_TITLE, ""),
    ],
)  # fmt: skip
def test_split_title(raw: str, title: str, body: str) -> None:
    assert split_title(raw) == (title, body)


def test_long_first_sentence_is_cut_at_a_word_boundary() -> None:
    sentence = " ".join(["invoice"] * 80) + "."
    title, body = split_title(sentence)
    assert len(title) <= 300
    assert title.split() == ["invoice"] * len(title.split())
    assert body == sentence


def test_long_title_line_is_cut_to_300() -> None:
    title, _ = split_title("Title: " + "word " * 100 + "\n\nBody.")
    assert 0 < len(title) <= 300
    assert title.endswith("word")


def test_title_is_never_empty_for_punctuation_only_text() -> None:
    title, _ = split_title("...")
    assert title


def test_remove_markdown_link_keeps_its_text() -> None:
    text, removed = remove_links("I use [Invoicely](https://invoicely.example.com) now.")
    assert text == "I use Invoicely now."
    assert removed == ["https://invoicely.example.com"]


@pytest.mark.parametrize(
    ("text", "expected", "removed"),
    [
        ("See https://a.example.com/x?utm_source=r for more.", "See for more.",
         ["https://a.example.com/x?utm_source=r"]),
        ("It lives at www.example.com.", "It lives at.", ["www.example.com"]),
        ("Docs (https://example.com/docs) are thin.", "Docs are thin.",
         ["https://example.com/docs"]),
        ("http://a.example.com and https://b.example.com/p", "and",
         ["http://a.example.com", "https://b.example.com/p"]),
        ("No links here.", "No links here.", []),
    ],
)  # fmt: skip
def test_remove_bare_links(text: str, expected: str, removed: list[str]) -> None:
    assert remove_links(text) == (expected, removed)


def test_remove_links_keeps_paragraph_breaks_and_no_double_spaces() -> None:
    text = (
        "First paragraph with https://x.example.com inside.\n\n"
        "Second one.\nhttps://only-a-link.example.com\nThird line.\n\n"
        "Last [here](http://y.example.com) paragraph."
    )
    cleaned, removed = remove_links(text)
    assert len(split_paragraphs(cleaned)) == 3
    assert "  " not in cleaned
    assert "\n\n\n" not in cleaned
    assert cleaned.split("\n\n")[1] == "Second one.\nThird line."
    assert removed == [
        "https://x.example.com",
        "https://only-a-link.example.com",
        "http://y.example.com",
    ]
    assert find_links(cleaned) == []


def test_a_paragraph_of_only_a_link_goes_without_merging_others() -> None:
    cleaned, _ = remove_links("One.\n\nhttps://x.example.com\n\nTwo.")
    assert cleaned == "One.\n\nTwo."


def test_find_links_in_order_without_trailing_punctuation() -> None:
    text = "Try [this](https://a.example.com/x), or https://b.example.com/y. Or www.c.example.com!"
    assert find_links(text) == [
        "https://a.example.com/x",
        "https://b.example.com/y",
        "www.c.example.com",
    ]


def test_find_links_keeps_balanced_parentheses() -> None:
    assert find_links("see https://en.example.org/wiki/Foo_(bar) now") == [
        "https://en.example.org/wiki/Foo_(bar)"
    ]
