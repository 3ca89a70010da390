"""Raw model output into a title and a body; links taken out where the rules forbid them."""

from __future__ import annotations

import re

from bcrao_contracts.models import TITLE_MAX
from bcrao_rules.textstats import LINK_RE as _LINK
from bcrao_rules.textstats import bare_extent as _bare_extent
from bcrao_rules.textstats import split_sentences, words

FALLBACK_TITLE = "Untitled draft"

_TITLE_LINE = re.compile(
    r"^\s*(?:#{1,6}\s*)?(?:\*\*|__)?\s*title\s*:\s*(?:\*\*|__)?\s*(?P<title>.*?)\s*(?:\*\*|__)?\s*$",
    re.IGNORECASE,
)
_HEADING_LINE = re.compile(r"^\s*#{1,6}\s+(?P<title>\S.*?)\s*#*\s*$")


def _clean_title(title: str) -> str:
    title = re.sub(r"\s+", " ", title).strip().strip("*_#").strip()
    if len(title) >= 2 and title[0] == title[-1] and title[0] in "\"'":
        title = title[1:-1].strip()
    return _cut(title, TITLE_MAX)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = text[: limit + 1]
    cut = head.rsplit(" ", 1)[0] if " " in head else text[:limit]
    return cut[:limit].rstrip(" ,;:-")


def split_title(raw: str) -> tuple[str, str]:
    """(title, body). The body may be empty when the model wrote only a title line."""
    text = raw.strip()
    lines = text.split("\n")
    first = lines[0] if lines else ""
    match = _TITLE_LINE.match(first) or _HEADING_LINE.match(first)
    if match:
        body = "\n".join(lines[1:]).strip()
        title = _clean_title(match.group("title"))
        if title:
            return title, body
    else:
        body = text
    sentences = split_sentences(body)
    title = _clean_title(sentences[0]) if sentences else ""
    if not title:
        title = _clean_title(" ".join(words(body)[:12]))
    return title or FALLBACK_TITLE, body


def _tidy_line(line: str) -> str:
    line = re.sub(r"\(\s*\)|\[\s*\]|<\s*>", "", line)
    line = re.sub(r"(?<=\S)[ \t]{2,}", " ", line)
    line = re.sub(r"\s+([.,;:!?])", r"\1", line)
    return line.rstrip()


def remove_links(text: str) -> tuple[str, list[str]]:
    """Markdown links keep their text, bare URLs go; paragraph breaks survive, empty lines go."""
    removed: list[str] = []

    def replace(match: re.Match[str]) -> str:
        if match.group("md_url"):
            removed.append(match.group("md_url"))
            return match.group("text")
        bare = match.group("bare") or ""
        url = _bare_extent(bare)
        removed.append(url)
        return bare[len(url) :]

    if not _LINK.search(text):
        return text, []
    paragraphs: list[str] = []
    for paragraph in re.split(r"\n[ \t]*\n", text):
        kept_lines: list[str] = []
        for line in paragraph.split("\n"):
            new = _tidy_line(_LINK.sub(replace, line))
            if not line[:1].isspace():
                new = new.lstrip()
            # A line that only held a link would otherwise become a new paragraph break.
            if new.strip() or not line.strip():
                kept_lines.append(new if line.strip() else line)
        block = "\n".join(kept_lines)
        if block.strip() or not paragraph.strip():
            paragraphs.append(block)
    return "\n\n".join(p for p in paragraphs if p.strip()).strip(), removed
