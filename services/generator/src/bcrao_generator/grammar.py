"""Grammar checks for composed text: the defects a template fill can produce.

The offline composer fills sentence templates with the campaign's own words (keywords, product
facts, community vocabulary). A fill of the wrong kind reads as broken English ("the channels
threads", "I keep seeing customer come up", "What I'm testing is Acme Notes is a note-taking
app"). These checks find the shapes such fills leave behind; `make eval` reports them and the
tests require none over the evaluation matrix and many seeds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Words ending in "s" that are singular (or uncountable), so "a" before them is fine.
_SINGULAR_S = frozenset(
    {
        "access",
        "address",
        "alias",
        "always",
        "analysis",
        "apparatus",
        "atlas",
        "basis",
        "bonus",
        "boss",
        "bus",
        "business",
        "campus",
        "canvas",
        "census",
        "chaos",
        "class",
        "corpus",
        "crisis",
        "diagnosis",
        "focus",
        "gas",
        "genius",
        "glass",
        "ios",
        "kudos",
        "lens",
        "less",
        "loss",
        "mess",
        "minus",
        "news",
        "perhaps",
        "plus",
        "process",
        "progress",
        "saas",
        "series",
        "status",
        "stress",
        "success",
        "syllabus",
        "thesis",
        "this",
        "virus",
        "yes",
    }
)
_REPEATED = re.compile(r"\b(\w+)\s+\1\b", re.IGNORECASE)
_ARTICLE = re.compile(r"\b(a|an)\s+([A-Za-z][\w'-]*)\b")
# Two finite copulas in one clause: "What I'm testing is Acme Notes is a note-taking app".
_DOUBLE_COPULA = re.compile(
    r"\b(?:is|are|was)[^\S\n]+(?:[\w'-]+[^\S\n]+){1,4}?(?:is|are)[^\S\n]+(?:a|an|the)\b"
)
# A determiner then a plural noun used as a modifier of another plural noun: "the channels threads".
_PLURAL_ADJUNCT = re.compile(
    r"\b(?:the|my|our|these|those)\s+([a-z]{4,}[^s\W]s)\s+(threads|discussions|posts|advice|side)\b"
)
_ARTICLE_BEFORE_VOWEL = re.compile(r"\ba\s+([aeiou]\w*)\b", re.IGNORECASE)
_UNFILLED = re.compile(r"\{[a-z_]+\}")
_DOUBLE_PUNCT = re.compile(r"[.,;:!?]\s*[.,;:]|\s[.,;:!?]")


@dataclass(frozen=True)
class Defect:
    kind: str
    excerpt: str


def _looks_plural(word: str) -> bool:
    low = word.lower()
    if low in _SINGULAR_S or len(low) < 4 or not low.endswith("s"):
        return False
    return not low.endswith(("ss", "us", "is", "ous", "'s"))


def defects(text: str) -> list[Defect]:
    found: list[Defect] = []
    for match in _REPEATED.finditer(text):
        if match.group(1).lower() not in {"that", "had", "very"}:
            found.append(Defect("repeated_word", match.group(0)))
    for match in _ARTICLE.finditer(text):
        if _looks_plural(match.group(2)):
            found.append(Defect("article_before_plural", match.group(0)))
    for match in _ARTICLE_BEFORE_VOWEL.finditer(text):
        word = match.group(1).lower()
        if not word.startswith(("one", "uni", "use", "usu", "eu", "ur")):
            found.append(Defect("a_before_vowel", match.group(0)))
    found += [Defect("double_copula", m.group(0)) for m in _DOUBLE_COPULA.finditer(text)]
    found += [Defect("plural_modifier", m.group(0)) for m in _PLURAL_ADJUNCT.finditer(text)]
    found += [Defect("unfilled_slot", m.group(0)) for m in _UNFILLED.finditer(text)]
    found += [Defect("stray_punctuation", m.group(0)) for m in _DOUBLE_PUNCT.finditer(text)]
    return found
