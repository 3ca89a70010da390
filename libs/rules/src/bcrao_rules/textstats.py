"""Paragraph, sentence, word and link splitting plus readability figures.

Validation, scoring, profile analysis, the humanizer and the offline composer all count sentences;
they share this one implementation so "average sentence length" means the same thing in the
report, the score and a proposed profile.
"""

from __future__ import annotations

import re
from statistics import mean, pstdev

URL_RE = re.compile(r"(?:https?://|www\.)[^\s<>()\[\]]+", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
# Sentence end: terminal punctuation (optionally closed by a quote or bracket) followed by space.
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
_WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
# A full stop after these is not the end of a sentence.
_ABBREVIATIONS = frozenset({"e.g", "i.e", "etc", "vs", "mr", "mrs", "ms", "dr", "approx", "incl"})
_VOWEL_GROUPS = re.compile(r"[aeiouy]+")
_URL_CHARS = r"[^\s<>\[\]]+"  # parentheses allowed; unbalanced ones are trimmed
# A Markdown link `[text](url)` or a bare URL; the generator's link removal uses the same pattern.
LINK_RE = re.compile(
    r"\[(?P<text>[^\]\n]*)\]\((?P<md_url>(?:https?://|www\.)[^\s)]+)\)"
    rf"|(?P<bare>(?:https?://|www\.){_URL_CHARS})",
    re.IGNORECASE,
)
_TRAILING_PUNCT = ".,;:!?'\"”’"


def split_paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks, stripped, empty ones dropped."""
    return [p.strip() for p in _PARAGRAPH_BREAK.split(text.strip()) if p.strip()]


def sentence_spans(line: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in one line, so callers can rewrite in place.

    Works on a single line: a line break always ends a sentence (bullet items have no full stop).
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(line):
        end = match.end()
        before = line[start : match.start()].split()
        last_token = before[-1].lower().lstrip("(\"'") if before else ""
        if match.group().startswith(".") and last_token in _ABBREVIATIONS:
            continue
        spans.append((start, end))
        start = end
        while start < len(line) and line[start].isspace():
            start += 1
    if line[start:].strip():
        spans.append((start, len(line.rstrip())))
    return [(a, b) for a, b in spans if line[a:b].strip()]


def split_sentences(text: str) -> list[str]:
    sentences: list[str] = []
    for paragraph in split_paragraphs(text):
        for line in paragraph.split("\n"):
            sentences.extend(line[a:b].strip() for a, b in sentence_spans(line))
    return [s for s in sentences if s]


def words(text: str) -> list[str]:
    """Word tokens; URLs are not prose, so they do not count."""
    return _WORD_RE.findall(URL_RE.sub(" ", text))


def sentence_lengths(text: str) -> list[int]:
    lengths = [len(words(sentence)) for sentence in split_sentences(text)]
    return [n for n in lengths if n > 0]


def avg_sentence_length(text: str) -> float:
    lengths = sentence_lengths(text)
    return round(mean(lengths), 2) if lengths else 0.0


def coefficient_of_variation(values: list[int]) -> float:
    """Population standard deviation over the mean; 0.0 when there is nothing to compare."""
    if len(values) < 2 or mean(values) == 0:
        return 0.0
    return pstdev(values) / mean(values)


def syllables(word: str) -> int:
    """Vowel-group heuristic (silent final e, -le endings); good enough for a grade estimate."""
    w = word.lower().strip("'’")
    if not w:
        return 0
    if w.isdigit():
        return max(1, len(w) // 2)
    count = len(_VOWEL_GROUPS.findall(w))
    if w.endswith("e") and not w.endswith(("le", "ee", "ye")) and count > 1:
        count -= 1
    return max(1, count)


def flesch_kincaid_grade(text: str) -> float:
    """Flesch–Kincaid grade level, floored at 0 (very short words otherwise go negative)."""
    lengths = sentence_lengths(text)
    tokens = words(text)
    if not lengths or not tokens:
        return 0.0
    words_per_sentence = sum(lengths) / len(lengths)
    syllables_per_word = sum(syllables(t) for t in tokens) / len(tokens)
    grade = 0.39 * words_per_sentence + 11.8 * syllables_per_word - 15.59
    return round(max(0.0, grade), 2)


def bare_extent(url: str) -> str:
    """A bare URL does not own the sentence's closing punctuation or an unmatched ')'."""
    url = url.rstrip(_TRAILING_PUNCT)
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1].rstrip(_TRAILING_PUNCT)
    return url


def find_links(text: str) -> list[str]:
    links: list[str] = []
    for match in LINK_RE.finditer(text):
        url = match.group("md_url") or bare_extent(match.group("bare") or "")
        if url:
            links.append(url)
    return links
