"""LanguageTool, the real grammar checker of `make eval` and the evaluation test.

It runs offline from its Maven Central jars (deploy/local/languagetool.sh fetches them into
.state/languagetool/libs, the way kafka.sh fetches Kafka): `LanguageToolServer` starts its HTTP
server on a free 127.0.0.1 port and stops it again; `check` sends many texts in one request
(joined by blank lines, the matches mapped back to their text by offset), because each request
pays LanguageTool's per-check overhead.

Excluded rules (EXCLUDED_RULES): the spelling rule, which flags the names and keywords the
request supplies (product names, "SaaS", subreddit names), and informal-style rules that flag
what Reddit posts are expected to sound like. The report lists them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parents[4]
FETCH_SCRIPT = ROOT / "deploy" / "local" / "languagetool.sh"
# Spelling of names (the request's own product names and keywords) and informal style.
EXCLUDED_RULES: dict[str, str] = {
    "MORFOLOGIK_RULE_EN_US": "spelling: flags product names, keywords and subreddit names",
    "SI_UNITS_OF_MEASUREMENT_ADJECTIVES_BRE": "spelling: British units the request itself uses",
    "EN_QUOTES": "typography: straight quotes instead of curly ones",
    "DASH_RULE": "typography: a hyphen where a typographer would use a dash",
    "WHITESPACE_RULE": "typography: repeated spaces",
    "ENGLISH_WORD_REPEAT_BEGINNING_RULE": "style: several sentences opening with the same word",
    "PERS_PRONOUN_AGREEMENT_SENT_START": "style: informal pronoun use at a sentence start",
    "SENT_START_CONJUNCTIVE_LINKING_ADVERB_COMMA": "style: a comma after 'Honestly'",
    "EN_COMPOUNDS": "style: compound spelling preferences",
    "COMMA_COMPOUND_SENTENCE": "style: a comma before 'and' joining two clauses",
    "COMMA_COMPOUND_SENTENCE_2": "style: a comma before 'but' joining two clauses",
    "PROFANITY": "style: informal words",
    "TOO_LONG_SENTENCE": "style: long sentences",
    "EN_DIACRITICS_REPLACE": "style: accents on loanwords",
}
START_TIMEOUT = 120.0
# The server checks a few hundred drafts and stops: the client compiler alone (no C2) and one GC
# thread spend about 30 % less CPU on its start and its checks than the JVM's defaults
# (test_evaluation's LanguageTool test, pytest and JVM: 35 -> 25 CPU-seconds, wall +3 s).
JAVA = ("java", "-Xmx1g", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp")


@dataclass(frozen=True)
class Match:
    rule: str
    category: str
    message: str
    excerpt: str


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def classpath() -> str:
    """The jars' classpath; fetches them (Maven) when missing."""
    if shutil.which("java") is None:
        raise RuntimeError("LanguageTool needs Java 17+ (java is not on PATH)")
    out = subprocess.run(
        ["bash", str(FETCH_SCRIPT), "classpath"], check=True, capture_output=True, text=True
    )
    return out.stdout.strip().splitlines()[-1]


class LanguageToolServer:
    """A LanguageTool HTTP server of our own on a free 127.0.0.1 port, for one `with` block."""

    def __init__(self, *, url: str | None = None) -> None:
        self.url = url  # an already running server (make eval --languagetool-url)
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LanguageToolServer:
        if self.url:
            return self
        port = free_port()
        self._process = subprocess.Popen(
            [*JAVA, classpath(), "org.languagetool.server.HTTPServer", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "JAVA_TOOL_OPTIONS": ""},
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                httpx.get(f"{self.url}/v2/languages", timeout=2.0).raise_for_status()
                return self
            except httpx.HTTPError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self.__exit__(None, None, None)
                    raise RuntimeError("LanguageTool did not start") from None
                time.sleep(0.5)  # polling a starting JVM: there is no event to wait for

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None

    def check(self, texts: Sequence[str], *, batch_chars: int = 40_000) -> list[list[Match]]:
        """The matches of each text (excluded rules left out), checked in few large requests."""
        assert self.url, "use the server in a with block"
        results: list[list[Match]] = [[] for _ in texts]
        batch: list[int] = []
        size = 0
        for i, text in enumerate(texts):
            if batch and size + len(text) > batch_chars:
                self._check_batch(texts, batch, results)
                batch, size = [], 0
            batch.append(i)
            size += len(text) + 3
        if batch:
            self._check_batch(texts, batch, results)
        return results

    def _check_batch(
        self, texts: Sequence[str], batch: list[int], results: list[list[Match]]
    ) -> None:
        separator = "\n\n\n"
        starts: list[tuple[int, int]] = []
        offset = 0
        for i in batch:
            starts.append((offset, i))
            offset += len(texts[i]) + len(separator)
        joined = separator.join(texts[i] for i in batch)
        response = httpx.post(
            f"{self.url}/v2/check",
            data={
                "text": joined,
                "language": "en-US",
                "disabledRules": ",".join(EXCLUDED_RULES),
            },
            timeout=300.0,
        )
        response.raise_for_status()
        for m in response.json()["matches"]:
            at = int(m["offset"])
            owner = max((s for s in starts if s[0] <= at), key=lambda s: s[0])
            start = at - owner[0]
            text = texts[owner[1]]
            results[owner[1]].append(
                Match(
                    rule=m["rule"]["id"],
                    category=m["rule"]["category"]["id"],
                    message=m["message"],
                    excerpt=text[max(0, start - 20) : start + int(m["length"]) + 20],
                )
            )
