"""Writing findings: the defects a reader notices before any score (DOMAIN.md, "Validation report").

- broken grammar: "a" before a vowel sound or "an" before a consonant one (the `inflect`
  package decides, so "an hour", "a user" and "an MRR" are right), a word written twice, a space
  before punctuation;
- a sentence with no verb ("My timeline working on raised beds."): no finite verb from a
  lexicon, no past form, no contraction, and no word right after a subject pronoun;
- a lowercase start after a full stop that is not a deliberate aside (tbh, ngl, idk, ...),
  unless the whole text is written in lower case, or the Reddit-casual humanizer level was asked
  for (it lowercases on purpose and says so);
- pasted input: 8 or more words in a row copied from the user's context or product description;
- off-topic: not one content word shared with the campaign (keywords, product, context) or the
  subreddit.

Heuristics, on purpose: no part-of-speech model is shipped with the services. The real grammar
checker (LanguageTool) runs in `make eval`, where it can take its time; these checks are the
cheap, explainable subset that runs on every draft and every edit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from bcrao_contracts.models import WritingFinding

from .textstats import sentence_spans, split_paragraphs, words

if TYPE_CHECKING:
    import inflect


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


PASTED_MIN_WORDS = 8
NO_VERB_MIN_WORDS = 4
# A text where at least this share of sentences start in lower case is written that way on
# purpose (a style some Reddit users keep), so a single lowercase start is not a slip.
LOWERCASE_STYLE_SHARE = 0.6
ASIDES = _word_set(
    "tbh ngl idk fwiw imo imho iirc btw lol edit ps p.s. anyway honestly i.e. e.g. etc"
)

_SUBJECTS = _word_set("i you we they he she it people folks everyone nobody someone")
_AUXILIARIES = _word_set(
    """am is are was were be been being do does did done have has had having will would shall
    should can could may might must ought need dare"""
)
# Base forms of common verbs; -s/-es/-ed/-d forms are derived, irregular pasts listed after.
_VERBS = _word_set(
    """accept add admit agree allow answer appear apply argue arrive ask avoid back become begin
    believe belong blame break bring build burn buy call care carry catch change charge check
    choose clean close come compare complain consider continue cook cost count cover create cut
    deal decide depend describe deserve die dig do drag draw drink drive drop eat end enjoy
    expect explain fail fall feel fight figure fill find finish fit fix follow forget gain get
    give go grow guess handle hang happen hate have hear help hide hit hold hope hurt ignore
    imagine improve include keep kill know land last laugh lay lead learn leave let lie like
    listen live look lose love make manage mean meet mind miss move need notice offer open order
    own pay pick plan plant play point post prefer prepare pretend prove pull push put quit
    raise reach read realize realise recommend reckon remember remove repeat reply rest return
    run save say see seem sell send set settle share show sit sleep slip solve sound speak spend
    stand start stay step stick stop struggle suggest suppose switch take talk teach tell tend
    test thank think throw track train treat trust try turn understand use visit wait wake walk
    want warn waste watch water wear win wish wonder work worry write"""
)
_IRREGULAR = _word_set(
    """began became broke brought built burnt bought caught chose came cost cut dealt did drew
    drank drove ate fell felt fought found fit forgot got gave went grew hung heard hid hit held
    hurt kept knew laid led left let lay lost made meant met paid put quit read ran said saw
    sold sent set showed shown sat slept spoke spent stood stuck took taught told thought threw
    understood woke wore won wrote isn't aren't wasn't weren't don't doesn't didn't can't won't
    couldn't wouldn't shouldn't haven't hasn't hadn't"""
)
_CONTRACTION = re.compile(r"\w['’](?:m|re|s|ve|d|ll)\b|n['’]t\b", re.I)
_REPEATED = re.compile(r"\b([A-Za-z]+)\s+\1\b", re.I)
_REPEAT_OK = frozenset({"that", "had", "very", "really", "so", "no", "ha", "bye", "many", "far"})
_ARTICLE = re.compile(r"\b([Aa]n?)\s+([A-Za-z][\w'’-]*)")
_SPACE_BEFORE_PUNCT = re.compile(r"\w\s+[,;:.!?](?:\s|$)")
_STOP = _word_set(
    """about after again also always another anyone anything around because before being
    better between could doesn't during enough every first from getting going have having here
    into just like little made make more most much never only other really should since some
    something still such than that their them then there these they thing things think this
    those though through very want were what when where which while will with without would
    your year years month months week weeks time"""
)


@cache
def inflect_engine() -> inflect.engine:
    """The one `inflect` engine of a process (articles, plurals), made on first use.

    inflect decorates about a hundred methods with typeguard's `@typechecked`, which, when
    inflect is imported, reads each method's source, rewrites its AST and compiles it again
    (1.6 CPU-seconds on a quiet core, 4 on a busy one, in every process that starts), and then
    checks every argument on every call. Only plain strings reach it from here (mypy checks
    that), so inflect is imported with that decorator standing aside: typeguard offers no switch
    for it other than running the whole interpreter with -O."""
    import sys

    if "inflect" not in sys.modules:
        import typeguard

        instrumenting = typeguard.typechecked
        typeguard.typechecked = _as_is
        try:
            import inflect
        finally:
            typeguard.typechecked = instrumenting
    import inflect

    return inflect.engine()


def _as_is(target: Any = None, **_options: Any) -> Any:
    """`typeguard.typechecked` without the checking: the function itself (or, called with
    options only, a decorator that returns it)."""
    return target if target is not None else _as_is


def _verbs() -> frozenset[str]:
    forms: set[str] = set(_AUXILIARIES) | _IRREGULAR
    for verb in _VERBS:
        forms.add(verb)
        if verb.endswith("y") and verb[-2:-1] not in "aeiou":
            forms |= {verb[:-1] + "ies", verb[:-1] + "ied"}
        elif verb.endswith(("s", "sh", "ch", "x", "z", "o")):
            forms |= {verb + "es", verb + "ed"}
        else:
            forms |= {verb + "s", verb + ("d" if verb.endswith("e") else "ed")}
    return frozenset(forms)


VERB_FORMS = _verbs()


def _has_verb(sentence: str) -> bool:
    if _CONTRACTION.search(sentence):
        return True
    tokens = [w.lower().replace("’", "'") for w in words(sentence)]
    for i, token in enumerate(tokens):
        if token in VERB_FORMS or (len(token) > 4 and token.endswith("ed")):
            return True
        if i > 0 and tokens[i - 1] in _SUBJECTS and token.isalpha():
            return True
    return False


def _sentences(text: str) -> list[tuple[bool, str]]:
    """(first in its paragraph, sentence) for each prose sentence of the text."""
    out: list[tuple[bool, str]] = []
    for paragraph in split_paragraphs(text):
        first = True
        for line in paragraph.split("\n"):
            if re.match(r"^\s*(?:[-*•+>#|]|\d{1,2}[.)]\s)", line):
                first = True
                continue
            for a, b in sentence_spans(line):
                out.append((first, line[a:b].strip()))
                first = False
    return out


def _grammar(text: str, where: Literal["title", "body"]) -> list[WritingFinding]:
    found: list[WritingFinding] = []
    for match in _ARTICLE.finditer(text):
        article, word = match.group(1).lower(), match.group(2)
        if word.isupper() and len(word) > 1 and not word.isalpha():
            continue
        expected = inflect_engine().a(word).split(" ", 1)[0].lower()
        if expected != article:
            found.append(
                WritingFinding(
                    kind="broken_grammar",
                    message=f'"{expected}" goes before "{word}", not "{article}"',
                    excerpt=match.group(0),
                    field=where,
                )
            )
    for match in _REPEATED.finditer(text):
        if match.group(1).lower() not in _REPEAT_OK:
            found.append(
                WritingFinding(
                    kind="broken_grammar",
                    message=f'"{match.group(1)}" is written twice',
                    excerpt=match.group(0),
                    field=where,
                )
            )
    for match in _SPACE_BEFORE_PUNCT.finditer(text):
        found.append(
            WritingFinding(
                kind="broken_grammar",
                message="a space before punctuation",
                excerpt=match.group(0).strip(),
                field=where,
            )
        )
    return found


def _lowercase_starts(sentences: list[tuple[bool, str]], casual: bool) -> list[WritingFinding]:
    later = [s for first, s in sentences if not first]
    starts = [s for _, s in sentences if s[:1].isalpha()]
    lower = [s for s in starts if s[:1].islower()]
    if casual or not later or (starts and len(lower) / len(starts) >= LOWERCASE_STYLE_SHARE):
        return []
    found = []
    for sentence in later:
        head = sentence.split(" ", 1)[0].lower().rstrip(",.:;!?")
        # "iPhone", "eBay": a lowercase letter then a capital is a name, not a slip.
        name = len(sentence) > 1 and sentence[1:2].isupper()
        if sentence[:1].islower() and head not in ASIDES and not name:
            found.append(
                WritingFinding(
                    kind="lowercase_start",
                    message="a sentence starts in lower case after a full stop",
                    excerpt=sentence[:60],
                    field="body",
                )
            )
    return found


def _no_verb(sentences: list[tuple[bool, str]]) -> list[WritingFinding]:
    return [
        WritingFinding(
            kind="no_verb",
            message="a sentence with no verb",
            excerpt=sentence[:80],
            field="body",
        )
        for _, sentence in sentences
        if len(words(sentence)) >= NO_VERB_MIN_WORDS and not _has_verb(sentence)
    ]


def _tokens(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in words(text)]


def pasted_spans(text: str, sources: Iterable[str], n: int = PASTED_MIN_WORDS) -> list[str]:
    """Every longest run of `n`+ words of `text` that also appears, in order, in a source."""
    tokens = _tokens(text)
    grams: set[tuple[str, ...]] = set()
    for source in sources:
        src = _tokens(source)
        grams |= {tuple(src[i : i + n]) for i in range(len(src) - n + 1)}
    spans: list[str] = []
    i = 0
    while i <= len(tokens) - n:
        if tuple(tokens[i : i + n]) in grams:
            j = i + n
            while j < len(tokens) and tuple(tokens[j - n + 1 : j + 1]) in grams:
                j += 1
            spans.append(" ".join(tokens[i:j]))
            i = j
        else:
            i += 1
    return spans


def _stem(word: str) -> str:
    for suffix in ("ing", "ies", "es", "ed", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {_stem(w) for w in _tokens(text) if len(w) >= 4 and w.isalpha() and w not in _STOP}


def findings(
    title: str,
    body: str,
    *,
    sources: Sequence[str] = (),
    topic: Sequence[str] = (),
    casual: bool = False,
) -> list[WritingFinding]:
    """The writing findings of a draft. `sources`: the user's context and the product
    description (text that must not be pasted); `topic`: what the draft must be about (keywords,
    product, context, subreddit); either may be empty, which skips its check."""
    sentences = _sentences(body)
    found = _grammar(title, "title") + _grammar(body, "body")
    found += _no_verb(sentences)
    found += _lowercase_starts(sentences, casual)
    for span in pasted_spans(f"{title}\n\n{body}", [s for s in sources if s.strip()]):
        found.append(
            WritingFinding(
                kind="pasted_input",
                message=f"{len(span.split())} words copied from the request",
                excerpt=span[:120],
            )
        )
    wanted = set().union(*(content_words(t) for t in topic)) if topic else set()
    if wanted and not wanted & content_words(f"{title} {body}"):
        found.append(
            WritingFinding(
                kind="off_topic",
                message="nothing in the draft is about the campaign or the subreddit",
            )
        )
    return found
