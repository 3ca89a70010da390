"""The repository explains itself: every document a file points to is in the repository.

Markdown links must resolve relative to the file that holds them; a bare `NAME.md` mentioned in
code or docs must be a file of the repository (`docs/NAME.md`, the root, or next to the file);
nothing may point outside the clone (a reader of a fresh clone has nothing else).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from bcrao_stacktest.scripts import load_script

ROOT = Path(__file__).resolve().parents[1]
# Built from parts so this file does not name what it looks for (the pre-stop hook greps for it).
OUTSIDE = ("/".join(("shared", "docs")), "/".join(("..", "shared")))
TEXT_SUFFIXES = {".md", ".py", ".js", ".html", ".css", ".sh", ".toml", ".yml", ".yaml", ".txt"}
MARKDOWN_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
BARE_DOC = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[A-Z][A-Za-z_-]*\.md)\b")


def tracked_files() -> list[Path]:
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [
        ROOT / line
        for line in out.splitlines()
        if Path(line).suffix in TEXT_SUFFIXES and (ROOT / line).is_file()
    ]


def doc_exists(reference: str, holder: Path) -> bool:
    candidates = [holder.parent / reference, ROOT / reference, ROOT / "docs" / reference]
    return any(candidate.resolve().exists() for candidate in candidates)


def test_nothing_points_outside_the_repository() -> None:
    outside = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in tracked_files()
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if any(marker in line for marker in OUTSIDE)
    ]
    assert outside == []


def test_markdown_links_resolve() -> None:
    broken = []
    for path in tracked_files():
        if path.suffix != ".md":
            continue
        for target in MARKDOWN_LINK.findall(path.read_text()):
            if re.match(r"^[a-z]+:", target) or target.startswith("#"):
                continue  # a URL, or an anchor on the same page
            file_part = target.split("#", 1)[0]
            if not (path.parent / file_part).resolve().exists():
                broken.append(f"{path.relative_to(ROOT)} -> {target}")
    assert broken == []


def test_every_document_named_in_code_or_docs_exists() -> None:
    missing = []
    for path in tracked_files():
        if path == Path(__file__).resolve():
            continue
        text = path.read_text(errors="replace")
        for reference in set(BARE_DOC.findall(text)):
            if not doc_exists(reference, path):
                missing.append(f"{path.relative_to(ROOT)} names {reference}")
    assert sorted(missing) == []


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("see DOMAIN.md for the rules", ["DOMAIN.md"]),
        ("docs/adr/0001-x.md is not a bare capitalised name", []),
        ("the [guide](docs/GUIDE.md)", ["docs/GUIDE.md"]),
        ("lowercase notes.md is not checked", []),
    ],
)
def test_the_reference_finder_finds_what_it_should(text: str, found: list[str]) -> None:
    assert BARE_DOC.findall(text) == found


def test_the_committed_openapi_document_is_current() -> None:
    generate = load_script("gen_openapi")
    assert generate.OUT.read_text() == generate.render(), (
        "docs/openapi/api-gateway.json is stale: run `make docs`"
    )
