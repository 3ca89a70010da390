"""Humanizer: deterministic, strips machine tells, and never merges paragraphs (property loops)."""

from __future__ import annotations

import re

import pytest
from bcrao_contracts.enums import HumanizerLevel
from bcrao_generator.humanizer import FILLERS, TRANSFORMS, Odds, humanize, intensity_for_grade
from bcrao_rules.textstats import split_paragraphs, split_sentences

CASUAL = HumanizerLevel.CASUAL

SEEDS = [f"task-{i}" for i in range(200)]

POST = (
    "Three of my eight clients paid late last month. The worst part was the waiting. "
    "Most advice I found assumed I had way more time than I do. It was annoying and slow.\n\n"
    "I tried spreadsheets first; they lasted two weeks. Then calendar reminders: I snoozed them. "
    "Stripe payouts were fine, the chasing was not. When it got bad I stopped opening my inbox. "
    "There was no system at all.\n\n"
    "Now I invoice on the 1st and follow up on the 8th. That part is boring and it works. "
    "My partner noticed before I did. It still feels fragile."
)
TELLS = (
    "Hey everyone! I run a tiny design studio.\n\n"
    "Here's the thing: clients pay late. Furthermore, they never apologise. It is tiring.\n\n"
    "Hope this helps!\n\n"
    "Moreover, I raised my prices. In conclusion, send reminders early. Anyway it worked."
)


@pytest.mark.parametrize(
    ("grade", "expected"),
    [(None, 0.5), (1.0, 0.7), (2.99, 0.7), (3, 0.6), (4.9, 0.6), (5, 0.45), (6.9, 0.45),
     (7, 0.35), (8.99, 0.35), (9, 0.25), (14, 0.25)],
)  # fmt: skip
def test_intensity_for_grade(grade: float | None, expected: float) -> None:
    assert intensity_for_grade(grade) == expected


def test_same_seed_same_output() -> None:
    for seed in SEEDS[:20]:
        assert humanize(POST, seed=seed, grade_level=4) == humanize(POST, seed=seed, grade_level=4)


def test_different_seeds_give_different_outputs() -> None:
    outputs = {humanize(POST, seed=seed, grade_level=2) for seed in SEEDS[:30]}
    assert len(outputs) >= 10


@pytest.mark.parametrize("grade", [None, 2, 6, 12])
def test_paragraph_count_is_preserved(grade: float | None) -> None:
    texts = [POST, POST.replace("\n\n", "\n\n\n"), "One line only.", "A.\n\nB.\n\nC.\n\nD."]
    for text in texts:
        expected = len(split_paragraphs(text))
        for seed in SEEDS:
            out = humanize(text, seed=seed, grade_level=grade)
            assert len(split_paragraphs(out)) == expected, (seed, out)


def test_a_paragraph_of_only_tells_is_dropped_and_the_others_stay() -> None:
    for seed in SEEDS:
        out = humanize(TELLS, seed=seed, grade_level=2)
        assert len(split_paragraphs(out)) == 3, (seed, out)


@pytest.mark.parametrize(
    "tell",
    ["hey everyone", "here's the thing", "furthermore", "moreover", "hope this helps",
     "in conclusion"],
)  # fmt: skip
def test_machine_tells_are_stripped(tell: str) -> None:
    for seed in SEEDS[:50]:
        out = humanize(TELLS, seed=seed, grade_level=8)
        assert tell not in out.lower()
        assert "Clients pay late" in out or "clients pay late" in out  # the content stays


def test_sentence_after_removed_transition_is_capitalised_or_deliberately_lowered() -> None:
    out = humanize("Done.\n\nFurthermore, Stripe was slow. End.", seed="s", grade_level=12)
    assert "Stripe was slow" in out


def test_never_empty_from_non_empty_input() -> None:
    for text in ("Hope this helps!", "In conclusion, yes.", "Hey everyone!", "ok"):
        for seed in SEEDS[:50]:
            assert humanize(text, seed=seed, grade_level=2).strip()


def test_urls_and_code_are_untouched() -> None:
    text = (
        "I host it at https://Example.com/Path_Here;Then:More?utm_x=1 for now. "
        "The config says `Retry: Always; Now` and it works. Furthermore, it is fast. "
        "The logs were messy. The docs were hard to read.\n\n"
        "```\nkey: Value; other\n\nSecond: Block\n```\n\nDone here. That is all."
    )
    for seed in SEEDS:
        out = humanize(text, seed=seed, grade_level=1)
        assert "https://Example.com/Path_Here;Then:More?utm_x=1" in out
        assert "`Retry: Always; Now`" in out
        assert "```\nkey: Value; other\n\nSecond: Block\n```" in out


def test_i_and_proper_nouns_are_never_lowercased() -> None:
    text = (
        "I started in March. I tried everything. Stripe payouts were slow. SaaS people told me "
        "to wait. I waited. Invoicely came later. I regret nothing. NASA was not involved.\n\n"
        "I am done. I mean it."
    )
    for seed in SEEDS:
        out = humanize(text, seed=seed, grade_level=1)
        assert not re.search(r"\bi\b", out), out
        for name in ("Stripe", "SaaS", "Invoicely", "NASA", "March"):
            assert name in out


def test_common_sentence_starts_are_lowercased_sometimes() -> None:
    text = "First line here. The second one. The third one. The fourth one. The fifth one."
    outs = [humanize(text, seed=seed, grade_level=1, level=CASUAL) for seed in SEEDS]
    assert any(re.search(r"\. the ", out) for out in outs)
    assert all(out.startswith("First") for out in outs)  # the opening sentence keeps its capital


FILLER_RE = re.compile(r"\b(?:honestly|tbh|ngl|I mean|idk|fwiw)\b", re.IGNORECASE)


def test_fillers_land_in_middle_sentences_only() -> None:
    assert not FILLER_RE.search(POST)
    with_filler = 0
    for seed in SEEDS:
        sentences = split_sentences(humanize(POST, seed=seed, grade_level=1, level=CASUAL))
        assert not FILLER_RE.search(sentences[0])
        assert not FILLER_RE.search(sentences[-1])
        with_filler += any(FILLER_RE.search(s) for s in sentences[1:-1])
    assert with_filler > len(SEEDS) // 2
    assert set(FILLERS) >= {"honestly", "tbh", "ngl", "idk", "fwiw"}


def test_higher_intensity_changes_more() -> None:
    def changed(grade: float) -> int:
        return sum(humanize(POST, seed=s, grade_level=grade) != POST for s in SEEDS)

    def distance(grade: float) -> int:
        return sum(
            sum(
                a != b
                for a, b in zip(humanize(POST, seed=s, grade_level=grade), POST, strict=False)
            )
            for s in SEEDS
        )

    assert changed(1) >= changed(12)
    assert distance(1) > distance(12)


def test_occasional_devices_appear_across_seeds() -> None:
    outs = [humanize(POST, seed=seed, grade_level=1, level=CASUAL) for seed in SEEDS]
    assert any("-- wait actually" in out for out in outs)
    assert any(" — " in out for out in outs)
    assert any(not out.rstrip().endswith((".", "?", "!")) for out in outs)
    assert any(
        out.lower().rstrip(".").endswith(("anyway", "curious what others think")) for out in outs
    )
    assert any(out.rstrip().endswith(".") for out in outs)  # and not always


def test_casual_ending_is_not_added_twice() -> None:
    for seed in SEEDS:
        out = humanize(TELLS, seed=seed, grade_level=1, level=CASUAL)
        assert out.lower().count("anyway") == 1, out


def test_a_prefixed_filler_never_stands_before_a_capitalised_word() -> None:
    text = (
        "Invoices were late again this month.\n\n"
        "Spreadsheets worked for about four weeks. Stripe sent the payouts on time. "
        "Reminders by hand felt awkward.\n\nAnyway that was the quarter."
    )
    pattern = re.compile(r"\b(?:tbh|ngl|honestly,|I mean,|fwiw,) ([A-Z]\w*)", re.IGNORECASE)
    for n in range(200):
        out = humanize(text, seed=f"seed-{n}", grade_level=2.0, level=CASUAL)
        for match in pattern.finditer(out):
            assert match.group(1) == "I" or match.group(1).islower(), out


def test_each_transform_is_switched_off_by_its_odds() -> None:
    calm = Odds(
        lowercase_start=0,
        filler_share=0,
        self_correction=0,
        em_dash=0,
        casual_ending=0,
        dropped_period=0,
    )
    # The middle sentence may still get a filler (with a share of 0, one filler is drawn with
    # the intensity's odds), so only the first and last sentences are checked untouched.
    text = "First sentence here. The middle one is frustrating; very. Last sentence here."
    for seed in SEEDS[:40]:
        out = humanize(text, seed=seed, grade_level=1, odds=calm)
        sentences = split_sentences(out)
        assert sentences[0] == "First sentence here."
        assert out.endswith("Last sentence here.")
        assert "—" not in out
        assert "wait actually" not in out


def test_the_transforms_run_in_a_fixed_order() -> None:
    assert [t.__name__ for t in TRANSFORMS] == [
        "lowercase_starts",
        "casual_fillers",
        "self_correction",
        "em_dash",
        "casual_ending",
        "dropped_period",
    ]


def test_light_never_starts_a_sentence_in_lower_case_or_ends_without_punctuation() -> None:
    for seed in SEEDS:
        for grade in (1, 4, 8, 12):
            out = humanize(POST, seed=seed, grade_level=grade)  # light is the default
            starts = [s for s in split_sentences(out) if s[:1].isalpha()]
            assert all(s[:1].isupper() for s in starts), out
            assert out.rstrip()[-1] in ".!?", out
            assert not re.search(r"\b(?:tbh|ngl|idk|fwiw)\b", out), out


def test_light_still_adds_a_touch_and_casual_adds_more() -> None:
    light = [humanize(POST, seed=seed, grade_level=2) for seed in SEEDS]
    casual = [humanize(POST, seed=seed, grade_level=2, level=CASUAL) for seed in SEEDS]
    assert sum(out != POST for out in light) > len(SEEDS) // 2
    assert any(re.search(r"(?:^|[.!?]\s)[a-z]", out) for out in casual)
    assert not any(re.search(r"(?:^|[.!?]\s)[a-z]", out) for out in light)


def test_off_only_removes_machine_tells() -> None:
    text = "Furthermore, the beds were a mess. I moved them twice. Hope this helps!"
    out = humanize(text, seed="s", grade_level=2, level=HumanizerLevel.OFF)
    assert out == "The beds were a mess. I moved them twice."
